"""Fixtures of the alarm-engine tests: a fake clock, a SQLite store in a temp folder, a recording
notifier and an engine factory, plus a tiny local HTTP server for the webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from edge.alarms import AlarmEngine, AlarmSettings, AlarmStore, RecordingNotifier
from edge.alarms.notify import Notifier
from retail.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "alarms.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[AlarmStore]:
    with AlarmStore(db_path) as s:
        yield s


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


EngineFactory = Callable[..., AlarmEngine]


@pytest.fixture
def make_engine(store: AlarmStore, clock: FakeClock, notifier: RecordingNotifier) -> EngineFactory:
    def build(settings: AlarmSettings | None = None, *, notifier_: Notifier | None = None,
              store_: Any = None) -> AlarmEngine:
        return AlarmEngine(store_ or store, clock=clock, notifier=notifier_ or notifier, settings=settings)

    return build


@dataclass
class Hook:
    """What the local webhook server received, and what it answers next."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # status codes to answer, then 200
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def bodies(self) -> list[Any]:
        with self.lock:
            return [r["body"] for r in self.requests]


@pytest.fixture
def webhook_server() -> Iterator[Hook]:
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            with hook.lock:
                status = hook.answers.pop(0) if hook.answers else 200
                hook.requests.append({
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": json.loads(raw.decode("utf-8")),
                    "status": status,
                })
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              name="alarm-webhook-test", daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alarms"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
