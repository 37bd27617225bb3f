"""The ``HqClient`` port (what the edge asks of HQ) and its HTTP adapter, ``HttpHqClient``.

Errors are typed so the sync can decide: :class:`HqUnavailableError` (connection refused,
timeouts, 5xx, a dropped answer: back off and resend), :class:`HqAuthError` (401: stop until
the token changes), :class:`HqForbiddenError` (403), :class:`HqConflictError` (409) and
:class:`HqRequestError` (any other refusal of the request itself).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

import httpx

from edge.hqsync.errors import (
    HqAuthError,
    HqConflictError,
    HqForbiddenError,
    HqRequestError,
    HqSyncClosedError,
    HqSyncConfigError,
    HqUnavailableError,
)
from edge.hqsync.tokens import TokenFile, fingerprint

__all__ = ["BatchResult", "HqClient", "HttpHqClient", "ItemResult", "ReconciliationRow"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ItemResult:
    """HQ's answer for one item of a batch: ``accepted``, ``duplicate``, ``conflict`` or
    ``rejected`` (with ``reason``)."""

    index: int
    status: str
    reason: str = ""
    id: str = ""


@dataclass(frozen=True, slots=True)
class BatchResult:
    batch_id: str
    times_received: int
    items: tuple[ItemResult, ...]

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchResult:
        return cls(str(data["batch_id"]), int(data.get("times_received", 1)),
                   tuple(ItemResult(int(i["index"]), str(i["status"]), str(i.get("reason") or ""), str(i.get("id") or ""))
                         for i in data["items"]))


@dataclass(frozen=True, slots=True)
class ReconciliationRow:
    """Per kiosk and business day: count, sum of totals and highest sequence number."""

    kiosk_id: str
    business_date: date
    count: int
    total_minor: int
    highest_seq: int


@runtime_checkable
class HqClient(Protocol):
    """What the edge asks of HQ. Transfers are HQ's JSON (``TransferOut``) as dicts."""

    def send_batch(self, batch: Mapping[str, Any]) -> BatchResult:
        """POST one sync batch; idempotent by ``batch_id`` and per item."""

    def catalogue(self, since_version: int) -> dict[str, Any]:
        """The master catalogue's changes after ``since_version`` (0: a full snapshot)."""

    def reconciliation(self, start: date, end: date) -> list[ReconciliationRow]:
        """HQ's per-kiosk, per-day count, sum and highest seq of this store's sales."""

    def cursor(self) -> dict[str, int]:
        """Per kiosk, the highest sequence number HQ holds."""

    def request_transfer(self, from_store_id: str, lines: Sequence[Mapping[str, Any]], note: str = "") -> dict[str, Any]:
        ...

    def transfers(self, *, pending: bool = True) -> list[dict[str, Any]]:
        ...

    def ship_transfer(self, transfer_id: int, lines: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
        ...

    def receive_transfer(self, transfer_id: int, lines: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
        ...

    def rotate_token(self) -> str:
        """Ask HQ for a new token (the old one stays valid for HQ's grace period); the client
        uses and keeps the new one."""

    def credential_id(self) -> str:
        """A non-secret fingerprint of the token in use: it changes when the token does."""

    def close(self) -> None:
        ...


def _detail(r: httpx.Response) -> str:
    try:
        data = r.json()
    except ValueError:
        return r.text[:300]
    detail = data.get("detail", data) if isinstance(data, dict) else data
    return str(detail)[:300]


class HttpHqClient:
    """:class:`HqClient` over HTTPS (httpx): a bearer token (given, or read from the token
    file whenever that file changes), a CA bundle for HQ's certificate, and timeouts."""

    def __init__(self, base_url: str, *, token: str | None = None, token_file: str | Path | TokenFile | None = None,
                 ca_file: str | Path | None = None, timeout_s: float = 30.0, connect_timeout_s: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if (token is None) == (token_file is None):
            raise HqSyncConfigError("give the HQ token or the token file (one of them)")
        if not base_url.startswith(("http://", "https://")):
            raise HqSyncConfigError(f"the HQ URL must be http(s), not {base_url!r}")
        self._token = token
        self._file = token_file if isinstance(token_file, TokenFile) or token_file is None else TokenFile(token_file)
        self._lock = threading.Lock()
        verify: bool | str = str(ca_file) if ca_file else True
        self._http: httpx.Client | None = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1", verify=verify, transport=transport,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s))

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> HttpHqClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    # -- plumbing -------------------------------------------------------------------------------
    def _current_token(self) -> str:
        if self._file is not None:
            return self._file.read()
        return self._token or ""

    def credential_id(self) -> str:
        return fingerprint(self._current_token())

    def _call(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        http = self._http
        if http is None:
            raise HqSyncClosedError("the HQ client is closed")
        headers = {"Authorization": f"Bearer {self._current_token()}"}
        try:
            r = http.request(method, path, json=json, params=params, headers=headers)
        except httpx.TransportError as exc:  # refused, reset, timeouts, dropped answers, TLS
            raise HqUnavailableError(f"HQ unreachable ({type(exc).__name__}): {exc}") from exc
        if r.status_code >= 500 or r.status_code in (408, 429):
            raise HqUnavailableError(f"HQ answered {r.status_code}: {_detail(r)}")
        if r.status_code == 401:
            raise HqAuthError(f"HQ refused the token: {_detail(r)}")
        if r.status_code == 403:
            raise HqForbiddenError(f"HQ forbids it: {_detail(r)}")
        if r.status_code == 409:
            raise HqConflictError(409, _detail(r))
        if r.status_code >= 400:
            raise HqRequestError(r.status_code, _detail(r))
        try:
            return r.json()
        except ValueError as exc:
            raise HqUnavailableError(f"HQ sent an unreadable answer: {exc}") from exc

    # -- the port -------------------------------------------------------------------------------
    def send_batch(self, batch: Mapping[str, Any]) -> BatchResult:
        return BatchResult.from_json(self._call("POST", "/sync/batches", json=dict(batch)))

    def catalogue(self, since_version: int) -> dict[str, Any]:
        return dict(self._call("GET", "/catalogue", params={"since_version": max(0, int(since_version))}))

    def reconciliation(self, start: date, end: date) -> list[ReconciliationRow]:
        data = self._call("GET", "/sync/reconciliation", params={"start": start.isoformat(), "end": end.isoformat()})
        return [ReconciliationRow(str(r["kiosk_id"]), date.fromisoformat(str(r["business_date"])), int(r["count"]),
                                  int(r["total_minor"]), int(r["highest_seq"])) for r in data["rows"]]

    def cursor(self) -> dict[str, int]:
        data = self._call("GET", "/sync/cursor")
        return {str(k["kiosk_id"]): int(k["highest_seq"]) for k in data["kiosks"]}

    def request_transfer(self, from_store_id: str, lines: Sequence[Mapping[str, Any]], note: str = "") -> dict[str, Any]:
        return dict(self._call("POST", "/transfers", json={"from_store_id": from_store_id, "lines": [dict(x) for x in lines],
                                                           "note": note}))

    def transfers(self, *, pending: bool = True) -> list[dict[str, Any]]:
        return [dict(t) for t in self._call("GET", "/transfers", params={"pending": "true" if pending else "false"})]

    def ship_transfer(self, transfer_id: int, lines: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
        body = {"lines": [dict(x) for x in lines]} if lines else None
        return dict(self._call("POST", f"/transfers/{int(transfer_id)}/ship", json=body))

    def receive_transfer(self, transfer_id: int, lines: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
        body = {"lines": [dict(x) for x in lines]} if lines else None
        return dict(self._call("POST", f"/transfers/{int(transfer_id)}/receive", json=body))

    def rotate_token(self) -> str:
        token = str(self._call("POST", "/stores/me/token", json={"revoke_old": False})["token"])
        if self._file is not None:
            self._file.write(token)
        else:
            self._token = token
        log.info("HQ token rotated (now %s)", fingerprint(token))
        return token
