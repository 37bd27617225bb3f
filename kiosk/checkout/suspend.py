"""Suspended baskets as compact signed tokens, resumed at another lane from a QR code.

Token format: ``1.<payload>.<mac>`` where ``payload`` is base64url (no padding) of zlib-packed
compact JSON and ``mac`` the first 16 bytes of HMAC-SHA256 over ``"1." + payload`` with the
store's secret, base64url. The token carries SKUs and quantities, never prices: the resuming
lane prices against its own catalogue. The QR text is ``TILLPI-SUSPEND:<token>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone

from kiosk.checkout.errors import SuspendTokenError

__all__ = [
    "SUSPEND_PREFIX",
    "SuspendedBasket",
    "SuspendedLine",
    "decode_suspended",
    "encode_suspended",
]

SUSPEND_PREFIX = "TILLPI-SUSPEND:"
_VERSION = "1"
_MAC_BYTES = 16
_MAX_TOKEN = 4000
_KINDS = {"unit": "u", "weighed": "w", "label_weight": "lw", "label_price": "lp"}
_KINDS_BACK = {v: k for k, v in _KINDS.items()}


@dataclass(frozen=True, slots=True)
class SuspendedLine:
    sku: str
    kind: str  # a retail.basket.LineKind value
    quantity: int = 1
    weight_g: int | None = None
    label_price_minor: int | None = None


@dataclass(frozen=True, slots=True)
class SuspendedBasket:
    store_id: str
    lines: tuple[SuspendedLine, ...]
    suspended_at: datetime
    member_id: str | None = None
    coupons: tuple[str, ...] = ()
    language: str = "en"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SuspendTokenError("the suspended-basket token is not valid base64") from None


def _mac(secret: bytes, signed: str) -> bytes:
    return hmac.new(secret, signed.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < 16:
        raise SuspendTokenError("the store secret must be at least 16 bytes")


def encode_suspended(basket: SuspendedBasket, secret: bytes) -> str:
    """The signed token for ``basket``."""
    _check_secret(secret)
    body = {
        "s": basket.store_id,
        "t": int(basket.suspended_at.timestamp()),
        "g": basket.language,
        "l": [
            [line.sku, _KINDS[line.kind], line.quantity, line.weight_g, line.label_price_minor]
            for line in basket.lines
        ],
    }
    if basket.member_id:
        body["m"] = basket.member_id
    if basket.coupons:
        body["c"] = list(basket.coupons)
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    payload = _b64(zlib.compress(raw, 9))
    signed = f"{_VERSION}.{payload}"
    return f"{signed}.{_b64(_mac(secret, signed))}"


def decode_suspended(
    token: str, secret: bytes, *, store_id: str, now: datetime, max_age_s: float
) -> SuspendedBasket:
    """Verify and unpack a token; refuses forged, foreign-store, expired or malformed ones."""
    _check_secret(secret)
    if not isinstance(token, str) or len(token) > _MAX_TOKEN:
        raise SuspendTokenError("not a suspended-basket token")
    if token.startswith(SUSPEND_PREFIX):
        token = token[len(SUSPEND_PREFIX) :]
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _VERSION:
        raise SuspendTokenError("not a suspended-basket token of a known version")
    signed = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(secret, signed), _unb64(parts[2])):
        raise SuspendTokenError("the suspended-basket token's signature does not match")
    try:
        body = json.loads(zlib.decompress(_unb64(parts[1]), bufsize=16384).decode("utf-8"))
        lines = tuple(
            SuspendedLine(str(sku), _KINDS_BACK[kind], int(qty), None if w is None else int(w), None if lp is None else int(lp))
            for sku, kind, qty, w, lp in body["l"]
        )
        basket = SuspendedBasket(
            store_id=str(body["s"]),
            lines=lines,
            suspended_at=datetime.fromtimestamp(int(body["t"]), tz=timezone.utc),
            member_id=body.get("m"),
            coupons=tuple(str(c) for c in body.get("c", ())),
            language=str(body.get("g", "en")),
        )
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise SuspendTokenError("the suspended-basket token is signed but unreadable") from None
    if basket.store_id != store_id:
        raise SuspendTokenError(f"the basket was suspended in store {basket.store_id}, not {store_id}")
    age = (now - basket.suspended_at).total_seconds()
    if age > max_age_s:
        raise SuspendTokenError(f"the suspended basket expired ({int(age)} s old, at most {int(max_age_s)} s)")
    if age < -300:
        raise SuspendTokenError("the suspended basket is dated in the future")
    return basket
