"""``SmtpSink``: a tiny local SMTP server that keeps what it receives (a simulator of a mail
server for demos and tests; not a mail server: no relay, no TLS, no authentication).

It speaks enough ESMTP for ``smtplib`` (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT),
advertises 8BITMIME and SMTPUTF8, listens on 127.0.0.1 on a free port, and can refuse the
next N messages with a temporary ``451`` to exercise retries.
"""

from __future__ import annotations

import logging
import socketserver
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

__all__ = ["ReceivedMail", "SmtpSink"]

log = logging.getLogger(__name__)

MAX_LINE = 64 * 1024
MAX_DATA = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        return parsed  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The plain-text body with line ends as a mail client shows them (``\\n``)."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content().replace("\r\n", "\n") if part is not None else ""


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[ReceivedMail] = field(default_factory=list)
    refuse: int = 0
    refuse_code: int = 451
    refused: int = 0


def _address(arg: str) -> str:
    text = arg.split(":", 1)[1].strip() if ":" in arg else arg
    if text.startswith("<"):
        text = text[1 : text.find(">")] if ">" in text else text[1:]
    return text.split()[0] if text.split() else ""


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _say(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        state = self.server.state
        self._say("220 tillpi-sink ESMTP ready")
        mail_from: str | None = None
        rcpts: list[str] = []
        while True:
            raw = self.rfile.readline(MAX_LINE)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self._say("250-tillpi-sink")
                self._say("250-8BITMIME")
                self._say("250-SMTPUTF8")
                self._say(f"250 SIZE {MAX_DATA}")
            elif verb == "HELO":
                self._say("250 tillpi-sink")
            elif verb == "MAIL":
                with state.lock:
                    refuse = state.refuse > 0
                    if refuse:
                        state.refuse -= 1
                        state.refused += 1
                if refuse:
                    self._say(f"{state.refuse_code} try again later")
                    continue
                mail_from, rcpts = _address(arg), []
                self._say("250 OK")
            elif verb == "RCPT":
                if mail_from is None:
                    self._say("503 MAIL first")
                    continue
                rcpts.append(_address(arg))
                self._say("250 OK")
            elif verb == "DATA":
                if mail_from is None or not rcpts:
                    self._say("503 MAIL and RCPT first")
                    continue
                self._say("354 end with <CRLF>.<CRLF>")
                chunks: list[bytes] = []
                size = 0
                while True:
                    data_line = self.rfile.readline(MAX_LINE)
                    if not data_line:
                        return
                    if data_line in (b".\r\n", b".\n"):
                        break
                    if data_line.startswith(b"."):
                        data_line = data_line[1:]
                    size += len(data_line)
                    if size <= MAX_DATA:
                        chunks.append(data_line)
                if size > MAX_DATA:
                    self._say("552 message too big")
                else:
                    with state.lock:
                        state.received.append(ReceivedMail(mail_from, tuple(rcpts), b"".join(chunks)))
                    self._say("250 OK queued")
                mail_from, rcpts = None, []
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self._say("250 OK")
            elif verb == "NOOP":
                self._say("250 OK")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: _State


class SmtpSink:
    """Simulator: a local SMTP sink (context manager; ``close()`` is idempotent)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server: _Server | None = _Server((host, port), _Handler)
        self._server.state = _State()
        self._state = self._server.state
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="smtp-sink", daemon=True)
        self._thread.start()
        log.info("SMTP sink listening on %s:%d", host, self.port)

    @property
    def received(self) -> list[ReceivedMail]:
        with self._state.lock:
            return list(self._state.received)

    @property
    def refused_count(self) -> int:
        with self._state.lock:
            return self._state.refused

    def refuse_next(self, count: int = 1, *, code: int = 451) -> None:
        """Answer the next ``count`` MAIL commands with ``code`` (451: try later, 550: never)."""
        with self._state.lock:
            self._state.refuse += count
            self._state.refuse_code = code

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> SmtpSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
