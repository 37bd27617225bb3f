"""Enrolling a new edge with head office: an enrolment code becomes the edge's bearer token.

The port is :class:`HqEnrolment`; :class:`HttpHqEnrolment` is the real adapter (HTTPS, httpx,
``POST /api/v1/stores/enrol`` with ``{"code": ...}``, answered by ``{"store_id", "token"}``),
:class:`SimulatedHqEnrolment` the simulator. Both pass the same contract tests.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import httpx

from tillpi_ops.errors import EnrolmentError, EnrolmentRefusedError, HqUnreachableError

__all__ = ["EdgeEnrolment", "HqEnrolment", "HttpHqEnrolment", "SimulatedHqEnrolment", "ENROL_PATH"]

log = logging.getLogger(__name__)

ENROL_PATH = "/api/v1/stores/enrol"
_STORE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class EdgeEnrolment:
    """What HQ hands an enrolled edge. The token never shows in ``repr``."""

    store_id: str
    token: str

    def __repr__(self) -> str:
        return f"EdgeEnrolment(store_id={self.store_id!r})"


def _check_code(code: str) -> str:
    code = code.strip() if isinstance(code, str) else ""
    if not 8 <= len(code) <= 200:
        raise EnrolmentRefusedError("an enrolment code is 8 to 200 characters")
    return code


@runtime_checkable
class HqEnrolment(Protocol):
    """Trades a one-time enrolment code for the edge's store id and token."""

    def enrol(self, code: str) -> EdgeEnrolment: ...

    def close(self) -> None: ...


class HttpHqEnrolment:
    """The real adapter: HQ's enrolment endpoint over HTTP(S).

    ``ca_file`` pins HQ's CA (otherwise the system's trust store); ``client`` lets a caller
    hand in an ``httpx.Client`` (a test's transport, a proxy setup); it is then not closed here.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 15.0,
        ca_file: Path | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise EnrolmentError(f"HQ URL {base_url!r} must start with https:// (or http:// on a test bench)")
        self.base_url = base_url.rstrip("/")
        self._owns = client is None
        self._client = client or httpx.Client(
            timeout=timeout_s, verify=str(ca_file) if ca_file else True, follow_redirects=False
        )
        self._closed = False

    def enrol(self, code: str) -> EdgeEnrolment:
        code = _check_code(code)
        url = f"{self.base_url}{ENROL_PATH}"
        try:
            response = self._client.post(url, json={"code": code})
        except httpx.HTTPError as exc:
            raise HqUnreachableError(f"HQ at {self.base_url} cannot be reached: {exc}") from exc
        if response.status_code in (400, 401, 403, 404, 409, 410, 422):
            raise EnrolmentRefusedError(f"HQ refused the enrolment code (HTTP {response.status_code})")
        if response.status_code != 200:
            raise HqUnreachableError(f"HQ answered HTTP {response.status_code} to the enrolment")
        try:
            body = response.json()
            store_id, token = str(body["store_id"]), str(body["token"])
        except (ValueError, KeyError, TypeError) as exc:
            raise HqUnreachableError(f"HQ's enrolment answer is not understood: {exc!r}") from None
        if not _STORE_RE.match(store_id) or len(token) < 16:
            raise HqUnreachableError("HQ's enrolment answer holds a bad store id or a short token")
        log.info("enrolled with HQ as store %s", store_id)
        return EdgeEnrolment(store_id, token)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._owns:
                self._client.close()

    def __enter__(self) -> HttpHqEnrolment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SimulatedHqEnrolment:
    """Simulator of HQ's enrolment (laptops, demos, tests): codes are one-time, in memory.

    ``issue_code(store_id)`` is what head office does; ``go_offline()`` makes it unreachable.
    """

    def __init__(self) -> None:
        self._codes: dict[str, str] = {}
        self._lock = threading.Lock()
        self.online = True
        self.tokens: dict[str, str] = {}  # store id -> last token handed out

    def issue_code(self, store_id: str) -> str:
        if not _STORE_RE.match(store_id):
            raise EnrolmentError(f"store id {store_id!r} is not valid")
        code = secrets.token_urlsafe(12)
        with self._lock:
            self._codes[code] = store_id
        return code

    def go_offline(self) -> None:
        self.online = False

    def go_online(self) -> None:
        self.online = True

    def enrol(self, code: str) -> EdgeEnrolment:
        if not self.online:
            raise HqUnreachableError("simulated HQ is offline")
        code = _check_code(code)
        with self._lock:
            store_id = self._codes.pop(code, None)
        if store_id is None:
            raise EnrolmentRefusedError("enrolment code unknown, used or expired")
        token = secrets.token_urlsafe(32)
        self.tokens[store_id] = token
        return EdgeEnrolment(store_id, token)

    def close(self) -> None:
        pass
