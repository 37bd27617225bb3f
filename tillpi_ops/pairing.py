"""Pairing codes: a short code (and a QR payload) a new kiosk shows, which staff confirm at the edge.

A code is an HMAC of the store, kiosk and lane under the store's pairing key (kept on the edge,
``<broker data>/pairing.key``, 0600) and a time window, so it needs no table to check and it
expires by itself, like a TOTP code::

    authority = PairingAuthority(key, store_id="s1", clock=clock)
    code = authority.issue("kiosk-05", lane=5)       # code.code == "K7QM-4XTD"
    authority.verify("kiosk-05", 5, "k7qm 4xtd")     # case, spaces and dashes do not matter
    authority.verify_payload(code.payload)            # what the QR holds

A window lasts ``ttl_s``; a code issued in window *w* is accepted until the end of window
*w + 1* (so it lives between ``ttl_s`` and ``2 * ttl_s``). :class:`PairingExpiredError` for a
genuine code too old, :class:`PairingCodeError` for a wrong or forged one.

:func:`pairing_slip_blocks` lays out a slip (pure); :func:`print_pairing_slip` prints it on the
kiosk's receipt printer. :func:`pairing_qr_png` draws the QR for the screen.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from broker.config import KIOSK_ID_RE, STORE_ID_RE
from broker.fsutil import atomic_write_bytes
from retail.clock import Clock
from tillpi_ops.errors import PairingCodeError, PairingError, PairingExpiredError

__all__ = [
    "DEFAULT_TTL_S",
    "KEY_FILE_NAME",
    "PairingAuthority",
    "PairingCode",
    "load_or_create_pairing_key",
    "pairing_qr_png",
    "pairing_slip_blocks",
    "print_pairing_slip",
]

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 600
KEY_FILE_NAME = "pairing.key"
PAYLOAD_SCHEME = "tillpi"
PAYLOAD_VERSION = "1"
_CODE_CHARS = 8  # 40 bits of base32: a forger's guess succeeds once in a trillion tries
_B32 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


@dataclass(frozen=True, slots=True)
class PairingCode:
    """An issued code: what the kiosk shows (``code``), what its QR holds (``payload``)."""

    store_id: str
    kiosk_id: str
    lane: int
    code: str
    expires_at: datetime
    payload: str


def load_or_create_pairing_key(path: Path | str) -> bytes:
    """The store's pairing key at ``path`` (32 random bytes), created 0600 if missing."""
    path = Path(path)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        atomic_write_bytes(path, key, mode=0o600)
        log.info("created pairing key %s", path)
        return key
    if len(key) < 16:
        raise PairingError(f"pairing key {path} is too short ({len(key)} bytes)")
    return key


def _normalise(code: str) -> str:
    text = "".join(ch for ch in code.upper() if ch not in " -\t")
    if len(text) != _CODE_CHARS or not set(text) <= _B32:
        raise PairingCodeError("a pairing code is 8 letters and digits (A-Z, 2-7)")
    return text


def _pretty(raw: str) -> str:
    return f"{raw[:4]}-{raw[4:]}"


class PairingAuthority:
    """Issues and checks the pairing codes of one store (on the edge, where the key lives)."""

    def __init__(self, key: bytes, *, store_id: str, clock: Clock, ttl_s: int = DEFAULT_TTL_S) -> None:
        if len(key) < 16:
            raise PairingError("the pairing key must be at least 16 bytes")
        if not STORE_ID_RE.match(store_id):
            raise PairingError(f"store id {store_id!r} must match {STORE_ID_RE.pattern}")
        if ttl_s < 60:
            raise PairingError("a pairing code must live at least a minute")
        self._key = key
        self.store_id = store_id
        self._clock = clock
        self.ttl_s = ttl_s

    @classmethod
    def from_broker_data(cls, broker_data: Path | str, *, store_id: str, clock: Clock, ttl_s: int = DEFAULT_TTL_S) -> PairingAuthority:
        """The authority whose key is ``<broker_data>/pairing.key`` (created if missing)."""
        return cls(load_or_create_pairing_key(Path(broker_data) / KEY_FILE_NAME), store_id=store_id, clock=clock, ttl_s=ttl_s)

    # -- windows --------------------------------------------------------------------------
    def _window(self, when: datetime) -> int:
        return math.floor(when.timestamp() / self.ttl_s)

    def _expiry(self, window: int) -> datetime:
        return datetime.fromtimestamp((window + 2) * self.ttl_s, tz=timezone.utc)

    def _mac(self, kiosk_id: str, lane: int, window: int) -> str:
        message = f"tillpi-pair|{PAYLOAD_VERSION}|{self.store_id}|{kiosk_id}|{lane}|{window}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.b32encode(digest).decode("ascii")[:_CODE_CHARS]

    @staticmethod
    def _check_ids(kiosk_id: str, lane: int) -> None:
        if not isinstance(kiosk_id, str) or not KIOSK_ID_RE.match(kiosk_id):
            raise PairingCodeError(f"kiosk id {kiosk_id!r} must match {KIOSK_ID_RE.pattern}")
        if isinstance(lane, bool) or not isinstance(lane, int) or not 1 <= lane <= 999:
            raise PairingCodeError(f"lane must be 1..999, not {lane!r}")

    # -- issuing --------------------------------------------------------------------------
    def issue(self, kiosk_id: str, lane: int) -> PairingCode:
        """A code for ``kiosk_id`` on ``lane``, valid from now for at least ``ttl_s``."""
        self._check_ids(kiosk_id, lane)
        window = self._window(self._clock.now())
        raw = self._mac(kiosk_id, lane, window)
        expires = self._expiry(window)
        query = urlencode(
            {"v": PAYLOAD_VERSION, "store": self.store_id, "kiosk": kiosk_id, "lane": lane,
             "code": raw, "exp": int(expires.timestamp())}
        )
        return PairingCode(self.store_id, kiosk_id, lane, _pretty(raw), expires, f"{PAYLOAD_SCHEME}://pair?{query}")

    # -- checking -------------------------------------------------------------------------
    def verify(self, kiosk_id: str, lane: int, code: str) -> datetime:
        """Accept ``code`` for this kiosk and lane now; return when it expires.

        Raises :class:`PairingExpiredError` if it was genuine for an earlier window, else
        :class:`PairingCodeError`. Comparisons are constant-time.
        """
        self._check_ids(kiosk_id, lane)
        given = _normalise(code)
        now_window = self._window(self._clock.now())
        for window in (now_window, now_window - 1):
            if hmac.compare_digest(given, self._mac(kiosk_id, lane, window)):
                return self._expiry(window)
        for window in range(now_window - 2, now_window - 2 - 144, -1):  # a day of 10-minute windows
            if hmac.compare_digest(given, self._mac(kiosk_id, lane, window)):
                raise PairingExpiredError(
                    f"pairing code for {kiosk_id} expired at {self._expiry(window).isoformat(timespec='seconds')}"
                )
        raise PairingCodeError(f"pairing code is not valid for {kiosk_id} on lane {lane}")

    def verify_payload(self, payload: str) -> PairingCode:
        """Check a scanned QR payload: store, kiosk, lane and code must agree, and it must be current."""
        parts = urlsplit(payload)
        if parts.scheme != PAYLOAD_SCHEME or parts.netloc != "pair":
            raise PairingCodeError("not a tillpi pairing payload")
        fields: dict[str, Any] = {k: v[0] for k, v in parse_qs(parts.query, strict_parsing=False).items() if len(v) == 1}
        if fields.get("v") != PAYLOAD_VERSION:
            raise PairingCodeError(f"pairing payload version {fields.get('v')!r} is not supported")
        if fields.get("store") != self.store_id:
            raise PairingCodeError(f"pairing payload is for store {fields.get('store')!r}, not {self.store_id!r}")
        try:
            lane = int(fields["lane"])
            exp = int(fields["exp"])
            kiosk_id = str(fields["kiosk"])
            raw = _normalise(str(fields["code"]))
        except (KeyError, ValueError) as exc:
            raise PairingCodeError(f"pairing payload lacks or garbles {exc}") from None
        self._check_ids(kiosk_id, lane)
        window = exp // self.ttl_s - 2
        if exp % self.ttl_s or not hmac.compare_digest(raw, self._mac(kiosk_id, lane, window)):
            raise PairingCodeError("pairing payload does not match its code (tampered or another store)")
        expires = self._expiry(window)
        if self._clock.now() >= expires:
            raise PairingExpiredError(f"pairing code for {kiosk_id} expired at {expires.isoformat(timespec='seconds')}")
        return PairingCode(self.store_id, kiosk_id, lane, _pretty(raw), expires, payload)


# -- showing and printing ----------------------------------------------------------------------


def pairing_qr_png(code: PairingCode, *, box_size: int = 8) -> bytes:
    """A PNG of the QR holding ``code.payload`` (for the kiosk's screen)."""
    import qrcode  # an optional drawing library; imported only when a QR is drawn

    image = qrcode.make(code.payload, box_size=box_size, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def pairing_slip_blocks(code: PairingCode, *, width_chars: int = 48) -> list[Any]:
    """The slip's layout as receipt blocks (pure): heading, lane, big code, QR, expiry."""
    from kiosk.receipt.layout import Align, FeedBlock, QrBlock, TextLine

    rule = "-" * width_chars
    return [
        TextLine("tillpi", Align.CENTER, bold=True),
        TextLine("KIOSK PAIRING / 设备配对", Align.CENTER, bold=True),
        TextLine(rule),
        TextLine(f"Store {code.store_id}", Align.CENTER),
        TextLine(f"{code.kiosk_id} - Lane {code.lane}", Align.CENTER),
        FeedBlock(1),
        TextLine(code.code, Align.CENTER, bold=True, double=True),
        FeedBlock(1),
        QrBlock(code.payload),
        TextLine(f"Valid until {code.expires_at.strftime('%Y-%m-%d %H:%M')} UTC", Align.CENTER),
        TextLine("Staff: enter this code on the edge console.", Align.CENTER),
        TextLine(rule),
    ]


def print_pairing_slip(printer: Any, code: PairingCode, *, width_chars: int | None = None) -> bytes:
    """Print the pairing slip; return the ESC/POS bytes sent.

    ``printer`` is the kiosk's receipt printer port (a ``ReceiptPrinter`` whose python-escpos
    connection is its ``device``, as :class:`SimulatedReceiptPrinter` has) or a python-escpos
    ``Escpos`` connection itself (``kiosk.devices.printer.build_escpos(settings)`` on a Pi).
    A port that reports it cannot print raises its typed ``PrinterNotReadyError``; the slip is
    not a sale, so it never goes into the receipt spool.
    """
    from escpos.escpos import Escpos

    from kiosk.devices.printer.errors import PrinterConfigError, PrinterNotReadyError
    from kiosk.devices.printer.render import render_to_bytes

    if isinstance(printer, Escpos):
        connection = printer
        width = width_chars or 48
    else:
        status = printer.status()
        if not status.can_print:
            raise PrinterNotReadyError(f"printer {printer.name}: {status.value}; pairing slip not printed")
        connection = getattr(printer, "device", None)
        if not isinstance(connection, Escpos):
            raise PrinterConfigError(
                f"printer {getattr(printer, 'name', printer)!r} does not expose its escpos connection; "
                "pass the connection (build_escpos(settings)) instead"
            )
        width = width_chars or int(getattr(printer, "width_chars", 48))
    payload = render_to_bytes(pairing_slip_blocks(code, width_chars=width), profile=connection.profile, width_chars=width)
    connection._raw(payload)  # python-escpos' one primitive: every printer class implements it
    log.info("printed pairing slip for %s", code.kiosk_id)
    return payload

