"""The store bus contract: every topic and every payload kiosk and edge exchange is built here.

Topics (``<store>`` and ``<kiosk>`` are ids: letters, digits, ``-``, ``_``, ``.``)::

    tillpi/<store>/kiosk/<kiosk>/state      kiosk -> edge   KioskState, retained, will "lost"
    tillpi/<store>/kiosk/<kiosk>/sale       kiosk -> edge   Sale, QoS 1
    tillpi/<store>/kiosk/<kiosk>/health     kiosk -> edge   Health, retained, expires
    tillpi/<store>/kiosk/<kiosk>/event      kiosk -> edge   DeviceEvent
    tillpi/<store>/kiosk/<kiosk>/ack        edge -> kiosk   SaleAcks (a batch of SaleAck), QoS 1
    tillpi/<store>/kiosk/<kiosk>/cmd        edge -> kiosk   Command, QoS 1
    tillpi/<store>/edge/state               edge -> all     EdgeState, retained, will "offline"
    tillpi/<store>/alarm/<key...>           edge -> staff
    tillpi/<store>/catalogue/<part...>      edge -> kiosks

Payloads are JSON of versioned pydantic models (``schema`` = ``"tillpi.<kind>/<version>"``),
strict: money is integer minor units, a float is refused. :func:`encode` and :func:`decode`
are the only way bytes are made and read; :func:`decode` raises :class:`ContractError` with a
short machine-readable ``reason`` on anything it will not accept.

This module is pure: no network, no database, no clock.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeVar, Union

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from broker.errors import BrokerError

__all__ = [
    "MAX_LINES",
    "MAX_ACKS_PER_MESSAGE",
    "MAX_PAYLOAD_BYTES",
    "ROOT",
    "LightName",
    "AlarmMessage",
    "Approval",
    "help_event_detail",
    "CatalogueManifest",
    "CataloguePromotions",
    "Command",
    "ContractError",
    "DeviceEvent",
    "DeviceReport",
    "EdgeState",
    "Health",
    "KioskState",
    "LineSaving",
    "Message",
    "Payment",
    "Sale",
    "SaleAck",
    "SaleAcks",
    "SaleDraft",
    "SaleLine",
    "SaleTotals",
    "TopicError",
    "TopicRef",
    "alarm_topic",
    "body_hash_of",
    "catalogue_delta_topic",
    "catalogue_manifest_topic",
    "catalogue_promotions_topic",
    "catalogue_snapshot_filter",
    "catalogue_snapshot_topic",
    "catalogue_topic",
    "decode",
    "decode_acks",
    "edge_state_topic",
    "encode",
    "health_expiry_s",
    "kiosk_filter",
    "kiosk_topic",
    "parse_topic",
    "validate_id",
]

ROOT = "tillpi"
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_LINES = 500
MAX_PAYMENTS = 10
MAX_APPROVALS = 50
MAX_SAVINGS_PER_LINE = 20
MAX_ACKS_PER_MESSAGE = 500  # about 70 kB of acks: well inside MAX_PAYLOAD_BYTES
MAX_DEVICES = 64
MAX_MINOR = 10**12  # a sale of ten billion yuan is a bug, not a sale

KIOSK_KINDS = ("state", "sale", "health", "event", "ack", "cmd")
KioskKind = Literal["state", "sale", "health", "event", "ack", "cmd"]

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_HASH_PATTERN = r"^[0-9a-f]{64}$"


# ---------------------------------------------------------------------------------------------
# errors


class ContractError(BrokerError, ValueError):
    """A topic or payload breaks the bus contract. ``reason`` is a short code for logs and
    dead letters (``invalid_json``, ``wrong_schema``, ``invalid``, ``oversize``,
    ``hash_mismatch``, ``bad_topic``); the message says what exactly."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class TopicError(ContractError):
    """A topic that is not one of the contract's."""

    def __init__(self, detail: str) -> None:
        super().__init__("bad_topic", detail)


# ---------------------------------------------------------------------------------------------
# topics


def validate_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it is a valid store or kiosk id, else raise :class:`TopicError`."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise TopicError(f"{what} {value!r} is not a valid id (letters, digits, - _ . ; max 64)")
    return value


def kiosk_topic(store_id: str, kiosk_id: str, kind: str) -> str:
    """``tillpi/<store>/kiosk/<kiosk>/<kind>``; ``kind`` is one of :data:`KIOSK_KINDS`."""
    if kind not in KIOSK_KINDS:
        raise TopicError(f"unknown kiosk topic kind {kind!r}")
    return f"{ROOT}/{validate_id(store_id, 'store')}/kiosk/{validate_id(kiosk_id, 'kiosk')}/{kind}"


def kiosk_filter(store_id: str, kind: str) -> str:
    """Subscription filter for one kind from every kiosk: ``tillpi/<store>/kiosk/+/<kind>``."""
    if kind not in KIOSK_KINDS:
        raise TopicError(f"unknown kiosk topic kind {kind!r}")
    return f"{ROOT}/{validate_id(store_id, 'store')}/kiosk/+/{kind}"


def edge_state_topic(store_id: str) -> str:
    return f"{ROOT}/{validate_id(store_id, 'store')}/edge/state"


def _subtopic(parts: tuple[str, ...]) -> str:
    for p in parts:
        if not p or "/" in p or "+" in p or "#" in p or "\x00" in p:
            raise TopicError(f"invalid topic level {p!r}")
    return "/".join(parts)


def alarm_topic(store_id: str, *key: str) -> str:
    """``tillpi/<store>/alarm/<key...>``; without a key, the filter ``.../alarm/#``."""
    base = f"{ROOT}/{validate_id(store_id, 'store')}/alarm"
    return f"{base}/{_subtopic(key)}" if key else f"{base}/#"


def catalogue_topic(store_id: str, *part: str) -> str:
    """``tillpi/<store>/catalogue/<part...>``; without a part, the filter ``.../catalogue/#``."""
    base = f"{ROOT}/{validate_id(store_id, 'store')}/catalogue"
    return f"{base}/{_subtopic(part)}" if part else f"{base}/#"


# The catalogue replica (edge -> kiosks, all retained, QoS 1):
#   catalogue/manifest                  CatalogueManifest: which snapshot is current
#   catalogue/snapshot/<version>/<n>    chunk n of that snapshot (edge.catalogue.replica_format)
#   catalogue/delta                     one cumulative delta since the manifest's snapshot
#   catalogue/promotions                CataloguePromotions: the promotions the kiosks apply


def catalogue_manifest_topic(store_id: str) -> str:
    """``tillpi/<store>/catalogue/manifest`` (retained :class:`CatalogueManifest`)."""
    return catalogue_topic(store_id, "manifest")


def catalogue_delta_topic(store_id: str) -> str:
    """``tillpi/<store>/catalogue/delta`` (retained cumulative delta since the snapshot)."""
    return catalogue_topic(store_id, "delta")


def catalogue_promotions_topic(store_id: str) -> str:
    """``tillpi/<store>/catalogue/promotions`` (retained :class:`CataloguePromotions`)."""
    return catalogue_topic(store_id, "promotions")


def catalogue_snapshot_topic(store_id: str, version: int, chunk: int) -> str:
    """``tillpi/<store>/catalogue/snapshot/<version>/<chunk>`` (retained snapshot chunk)."""
    if version < 1 or chunk < 0:
        raise TopicError(f"snapshot version {version} / chunk {chunk} out of range")
    return catalogue_topic(store_id, "snapshot", str(int(version)), str(int(chunk)))


def catalogue_snapshot_filter(store_id: str, version: int) -> str:
    """``tillpi/<store>/catalogue/snapshot/<version>/#``: every chunk of one snapshot."""
    if version < 1:
        raise TopicError(f"snapshot version {version} out of range")
    return f"{catalogue_topic(store_id, 'snapshot', str(int(version)))}/#"


@dataclass(frozen=True, slots=True)
class TopicRef:
    """What a topic names. ``kiosk_id`` is None for store-wide topics; ``kind`` is the kiosk
    kind (``sale``, ``ack``, ...), ``edge_state``, ``alarm`` or ``catalogue``; ``rest`` holds
    the levels after ``alarm/`` or ``catalogue/``."""

    store_id: str
    kiosk_id: str | None
    kind: str
    rest: str = ""


def parse_topic(topic: str) -> TopicRef:
    """Parse a contract topic, raising :class:`TopicError` on anything else."""
    if not isinstance(topic, str):
        raise TopicError(f"topic must be text, not {type(topic).__name__}")
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != ROOT:
        raise TopicError(f"not a {ROOT} topic: {topic!r}")
    store = parts[1]
    if not _ID_RE.match(store):
        raise TopicError(f"bad store id in {topic!r}")
    area = parts[2]
    if area == "kiosk":
        if len(parts) != 5 or not _ID_RE.match(parts[3]) or parts[4] not in KIOSK_KINDS:
            raise TopicError(f"malformed kiosk topic {topic!r}")
        return TopicRef(store, parts[3], parts[4])
    if area == "edge":
        if len(parts) != 4 or parts[3] != "state":
            raise TopicError(f"malformed edge topic {topic!r}")
        return TopicRef(store, None, "edge_state")
    if area in ("alarm", "catalogue"):
        rest = parts[3:]
        if not rest or any(not p or p in ("+", "#") for p in rest):
            raise TopicError(f"malformed {area} topic {topic!r}")
        return TopicRef(store, None, area, "/".join(rest))
    raise TopicError(f"unknown topic area in {topic!r}")


def health_expiry_s(interval_s: int) -> int:
    """MQTT 5 message expiry for a retained health snapshot: three publish intervals."""
    if interval_s <= 0:
        raise ContractError("invalid", "health interval must be positive")
    return 3 * interval_s


# ---------------------------------------------------------------------------------------------
# models

Id = Annotated[str, Field(pattern=_ID_PATTERN)]
Minor = Annotated[int, Field(ge=-MAX_MINOR, le=MAX_MINOR)]
NonNegMinor = Annotated[int, Field(ge=0, le=MAX_MINOR)]
ShortText = Annotated[str, Field(max_length=120)]
Text = Annotated[str, Field(max_length=500)]
Gtin = Annotated[str, Field(pattern=r"^[0-9]{8,14}$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


def _aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must carry a timezone")


class LineSaving(_Model):
    promotion_id: Annotated[str, Field(min_length=1, max_length=64)]
    amount_minor: NonNegMinor


class SaleLine(_Model):
    """One basket line. Exactly one of ``quantity`` (pieces) and ``weight_g`` is set; the
    unit price is per piece, or per kilogram for a weighed line. ``gross`` is before savings,
    ``net`` after; ``tax_minor`` is the tax included in ``net``."""

    sku: Annotated[str, Field(min_length=1, max_length=64)]
    gtin: Gtin | None = None
    name: ShortText
    quantity: Annotated[int, Field(ge=1, le=100_000)] | None = None
    weight_g: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    unit_price_minor: NonNegMinor
    gross_minor: NonNegMinor
    savings: Annotated[list[LineSaving], Field(max_length=MAX_SAVINGS_PER_LINE)] = []
    net_minor: NonNegMinor
    tax_rate_bp: Annotated[int, Field(ge=0, le=10_000)]
    tax_minor: NonNegMinor

    @model_validator(mode="after")
    def _reconcile(self) -> SaleLine:
        if (self.quantity is None) == (self.weight_g is None):
            raise ValueError(f"line {self.sku}: exactly one of quantity and weight_g")
        if self.quantity is not None:
            expected = self.unit_price_minor * self.quantity
        else:
            # price per kg x grams / 1000, rounded half up (both factors are non-negative)
            expected = (self.unit_price_minor * (self.weight_g or 0) * 2 + 1000) // 2000
        if self.gross_minor != expected:
            raise ValueError(f"line {self.sku}: gross {self.gross_minor} != price x quantity {expected}")
        saved = sum(s.amount_minor for s in self.savings) if self.savings else 0
        if self.net_minor != self.gross_minor - saved:
            raise ValueError(f"line {self.sku}: net {self.net_minor} != gross - savings {self.gross_minor - saved}")
        if self.tax_minor > self.net_minor:
            raise ValueError(f"line {self.sku}: tax exceeds the line's net amount")
        return self

    @property
    def savings_minor(self) -> int:
        return sum(s.amount_minor for s in self.savings)


class SaleTotals(_Model):
    subtotal_minor: NonNegMinor
    savings_minor: NonNegMinor
    total_minor: NonNegMinor
    tax_minor: NonNegMinor


PaymentMethod = Literal["card", "mobile", "cash", "stored_value", "points"]


class Payment(_Model):
    method: PaymentMethod
    amount_minor: Annotated[int, Field(ge=1, le=MAX_MINOR)]
    reference: Annotated[str, Field(max_length=64)] = ""


class Approval(_Model):
    """An attendant's approval: who (staff id), what (age_check, weight_override...), why."""

    who: Annotated[str, Field(min_length=1, max_length=64)]
    what: Annotated[str, Field(min_length=1, max_length=64)]
    why: Text = ""
    at: datetime

    @model_validator(mode="after")
    def _tz(self) -> Approval:
        _aware(self.at, "approval time")
        return self


class _SaleBody(_Model):
    sale_id: Annotated[str, Field(pattern=_UUID_PATTERN)]
    store_id: Id
    kiosk_id: Id
    business_date: date
    started_at: datetime
    finished_at: datetime
    clock_synced: bool
    currency: Currency
    catalogue_version: Annotated[str, Field(max_length=64)]
    lines: Annotated[list[SaleLine], Field(min_length=1, max_length=MAX_LINES)]
    totals: SaleTotals
    payments: Annotated[list[Payment], Field(min_length=1, max_length=MAX_PAYMENTS)]
    change_minor: NonNegMinor = 0
    #: what cash rounding added to (+) or took off (-) the amount paid in cash (0.05/0.10 stores)
    cash_rounding_minor: Annotated[int, Field(ge=-50, le=50)] = 0
    member_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    approvals: Annotated[list[Approval], Field(max_length=MAX_APPROVALS)] = []

    @model_validator(mode="after")
    def _reconcile(self) -> _SaleBody:
        _aware(self.started_at, "started_at")
        _aware(self.finished_at, "finished_at")
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        t = self.totals
        subtotal = savings = net = tax = 0
        for line in self.lines:  # one pass: this runs for every sale the edge receives
            subtotal += line.gross_minor
            net += line.net_minor
            tax += line.tax_minor
            if line.savings:
                savings += line.savings_minor
        if t.subtotal_minor != subtotal:
            raise ValueError(f"subtotal {t.subtotal_minor} != sum of line gross {subtotal}")
        if t.savings_minor != savings:
            raise ValueError(f"savings {t.savings_minor} != sum of line savings {savings}")
        if t.total_minor != net:
            raise ValueError(f"total {t.total_minor} != sum of line nets {net}")
        if t.total_minor != t.subtotal_minor - t.savings_minor:
            raise ValueError("total != subtotal - savings")
        if t.tax_minor != tax:
            raise ValueError(f"tax {t.tax_minor} != sum of line tax {tax}")
        paid = sum(p.amount_minor for p in self.payments)
        if paid - self.change_minor != t.total_minor + self.cash_rounding_minor:
            raise ValueError(
                f"payments {paid} - change {self.change_minor} != total {t.total_minor}"
                f" + cash rounding {self.cash_rounding_minor}"
            )
        if self.cash_rounding_minor and not any(p.method == "cash" for p in self.payments):
            raise ValueError("cash rounding without a cash payment")
        if self.change_minor:
            cash = sum(p.amount_minor for p in self.payments if p.method == "cash")
            if self.change_minor > cash:
                raise ValueError("change is only given from cash")
        return self


class SaleDraft(_SaleBody):
    """A finished basket before the outbox numbers it: a :class:`Sale` without ``seq``."""


def _canonical(data: dict[str, Any]) -> bytes:
    """The canonical JSON of ``data``: keys sorted at every level, no spaces, UTF-8 unescaped;
    byte for byte ``json.dumps(data, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False).encode()`` (a property test holds the two together), made by orjson in
    a tenth of the time: every sale is hashed on the kiosk and checked on the edge."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def _payload_hash(payload: bytes) -> str | None:
    """The body hash of a sale *as sent*: the canonical JSON of the payload's own object
    without ``body_hash``; None when the payload is not a JSON object."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    data.pop("body_hash", None)
    return hashlib.sha256(_canonical(data)).hexdigest()


def body_hash_of(model: BaseModel) -> str:
    """SHA-256 (hex) of the canonical JSON of everything in ``model`` except ``body_hash``.

    Only the fields the sender set take part (``exclude_unset``), so a field added later with a
    default does not change the hash of a body written by older software.
    """
    data = model.model_dump(mode="json", by_alias=True, exclude={"body_hash"}, exclude_unset=True)
    return hashlib.sha256(_canonical(data)).hexdigest()


class Sale(_SaleBody):
    """A sale as the kiosk journal numbered it. ``sale_id`` is the idempotency key,
    ``seq`` the kiosk's gapless sequence number, ``body_hash`` proves the body is the same."""

    schema_: Literal["tillpi.sale/1"] = Field("tillpi.sale/1", alias="schema")
    seq: Annotated[int, Field(ge=1, le=2**62)]
    body_hash: Annotated[str, Field(pattern=_HASH_PATTERN)]

    @model_validator(mode="after")
    def _hash(self, info: ValidationInfo) -> Sale:
        # Checked on the payload as sent when :func:`decode` hands it over (one JSON parse, no
        # model dump); a sender that writes dates or times in another valid form than this
        # software's is checked on the model's own canonical form, as before.
        payload = info.context.get("payload") if isinstance(info.context, dict) else None
        if payload is not None and _payload_hash(payload) == self.body_hash:
            return self
        if body_hash_of(self) != self.body_hash:
            raise ValueError("body_hash does not match the body")
        return self

    @classmethod
    def from_draft(cls, draft: SaleDraft, seq: int) -> Sale:
        """Number a draft: the same body plus ``seq``, ``schema`` and its ``body_hash``."""
        data = draft.model_dump(mode="json", by_alias=True)
        data["seq"] = seq
        data["schema"] = "tillpi.sale/1"
        data["body_hash"] = hashlib.sha256(_canonical(data)).hexdigest()
        return cls.model_validate_json(_canonical(data))

    def draft(self) -> SaleDraft:
        data = self.model_dump(mode="json", by_alias=True, exclude={"schema_", "seq", "body_hash"})
        return SaleDraft.model_validate_json(_canonical(data))


AckStatus = Literal["accepted", "duplicate", "rejected"]


class SaleAck(_Model):
    """The edge application's answer for one sale, sent after its ledger committed."""

    schema_: Literal["tillpi.sale-ack/1"] = Field("tillpi.sale-ack/1", alias="schema")
    kiosk_id: Id
    sale_id: Annotated[str, Field(pattern=_UUID_PATTERN)]
    seq: Annotated[int, Field(ge=1, le=2**62)]
    status: AckStatus
    reason: Text = ""


class SaleAcks(_Model):
    """The edge's answers for several sales of one kiosk, sent once its ledger committed them:
    one message per kiosk per committed batch, in the order the sales arrived. A kiosk with a
    backlog gets dozens of acks in one message, so it handles (and the broker routes) one
    message where it would otherwise handle dozens."""

    schema_: Literal["tillpi.sale-acks/1"] = Field("tillpi.sale-acks/1", alias="schema")
    kiosk_id: Id
    acks: Annotated[list[SaleAck], Field(min_length=1, max_length=MAX_ACKS_PER_MESSAGE)]

    @model_validator(mode="after")
    def _one_kiosk(self) -> SaleAcks:
        for ack in self.acks:
            if ack.kiosk_id != self.kiosk_id:
                raise ValueError(f"ack for kiosk {ack.kiosk_id!r} in a batch for {self.kiosk_id!r}")
        return self

    @classmethod
    def batches(cls, acks: Sequence[SaleAck]) -> list[SaleAcks]:
        """``acks`` (in order) as messages, one kiosk each, at most ``MAX_ACKS_PER_MESSAGE``
        acks per message; a kiosk's messages keep the order of its acks."""
        by_kiosk: dict[str, list[SaleAck]] = {}
        for ack in acks:
            by_kiosk.setdefault(ack.kiosk_id, []).append(ack)
        return [
            cls(kiosk_id=kiosk, acks=mine[i:i + MAX_ACKS_PER_MESSAGE])
            for kiosk, mine in by_kiosk.items()
            for i in range(0, len(mine), MAX_ACKS_PER_MESSAGE)
        ]


class KioskState(_Model):
    """Retained presence. ``session`` rises on every connect; a ``lost`` will whose session
    is lower than the last ``online`` one seen is stale and ignored."""

    schema_: Literal["tillpi.kiosk-state/1"] = Field("tillpi.kiosk-state/1", alias="schema")
    kiosk_id: Id
    status: Literal["online", "lost"]
    session: Annotated[int, Field(ge=1)]
    software_version: Annotated[str, Field(max_length=64)]
    at: datetime


class EdgeState(_Model):
    """Retained: the edge *application* is consuming (``online``) or not (``offline``, also
    its will). ``session`` rises on every connect."""

    schema_: Literal["tillpi.edge-state/1"] = Field("tillpi.edge-state/1", alias="schema")
    store_id: Id
    status: Literal["online", "offline"]
    session: Annotated[int, Field(ge=1)]
    software_version: Annotated[str, Field(max_length=64)]
    at: datetime


class DeviceReport(_Model):
    device: Annotated[str, Field(min_length=1, max_length=64)]
    status: Literal["ok", "degraded", "fault", "absent"]
    code: Annotated[str, Field(max_length=64)] = ""
    detail: Text = ""
    since: datetime


class Health(_Model):
    """A kiosk's health snapshot, retained with a message expiry of three intervals."""

    schema_: Literal["tillpi.health/1"] = Field("tillpi.health/1", alias="schema")
    kiosk_id: Id
    at: datetime
    interval_s: Annotated[int, Field(ge=1, le=86_400)]
    cpu_temp_c: float | None = None
    throttled: bool | None = None
    load_1m: float | None = None
    mem_used_pct: float | None = None
    disk_free_mb: int | None = None
    uptime_s: int | None = None
    clock_synced: bool
    devices: Annotated[list[DeviceReport], Field(max_length=MAX_DEVICES)] = []
    outbox_pending: Annotated[int, Field(ge=0)]
    oldest_pending_age_s: Annotated[int, Field(ge=0)] | None = None


class DeviceEvent(_Model):
    schema_: Literal["tillpi.device-event/1"] = Field("tillpi.device-event/1", alias="schema")
    event_id: Annotated[str, Field(pattern=_UUID_PATTERN)]
    kiosk_id: Id
    device: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Annotated[str, Field(min_length=1, max_length=64)]
    detail: Text = ""
    at: datetime


LightName = Literal["idle", "assistance", "alarm", "offline"]


class Command(_Model):
    """An order from the edge to one kiosk. Repeats (same ``command_id``) and commands past
    ``expires_at`` are ignored.

    ``resync`` asks for every sale from ``from_seq`` on; ``approve`` carries a staff member's
    remote decision on the kiosk's attendant request ``request_id``; ``set_light`` tells the
    kiosk's status light what the store's alarms want it to show."""

    schema_: Literal["tillpi.command/1"] = Field("tillpi.command/1", alias="schema")
    command_id: Annotated[str, Field(pattern=_UUID_PATTERN)]
    kiosk_id: Id
    kind: Literal["resync", "publish_health", "reload_catalogue", "approve", "set_light"]
    from_seq: Annotated[int, Field(ge=1)] | None = None
    request_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    staff_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    approve: bool | None = None
    why: Annotated[str, Field(max_length=500)] = ""
    light: LightName | None = None
    issued_at: datetime
    expires_at: datetime

    @model_validator(mode="after")
    def _check(self) -> Command:
        if self.kind == "resync" and self.from_seq is None:
            raise ValueError("resync needs from_seq")
        if self.kind == "approve" and (self.request_id is None or self.staff_id is None or self.approve is None):
            raise ValueError("approve needs request_id, staff_id and approve")
        if self.kind == "set_light" and self.light is None:
            raise ValueError("set_light needs light")
        if self.expires_at <= self.issued_at:
            raise ValueError("a command expires after it is issued")
        return self

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class AlarmMessage(_Model):
    """``tillpi.alarm/1``: one open alarm, retained on ``tillpi/<store>/alarm/<key>``; an
    empty retained payload clears it (for HQ and any other consumer)."""

    schema_: Literal["tillpi.alarm/1"] = Field("tillpi.alarm/1", alias="schema")
    alarm_id: Annotated[str, Field(min_length=1, max_length=64)]
    key: Annotated[str, Field(min_length=1, max_length=200)]
    kiosk_id: str | None
    device: str
    condition: str
    severity: Literal["critical", "major", "minor", "info"]
    state: Literal["pending", "active", "acknowledged"]
    label_en: str
    label_zh: str
    detail: Annotated[str, Field(max_length=500)] = ""
    stale: bool = False
    since: datetime
    updated_at: datetime


class CatalogueManifest(_Model):
    """Retained on ``catalogue/manifest``: the current snapshot of the catalogue replica.

    ``digest`` (32 hex digits) and ``count`` are those every chunk of the snapshot carries."""

    schema_: Literal["tillpi.catalogue-manifest/1"] = Field("tillpi.catalogue-manifest/1", alias="schema")
    store_id: Id
    version: Annotated[int, Field(ge=1, le=2**62)]
    chunks: Annotated[int, Field(ge=1, le=100_000)]
    count: Annotated[int, Field(ge=0, le=10_000_000)]
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    created_at: datetime


class CataloguePromotions(_Model):
    """Retained on ``catalogue/promotions``: the store's active promotions at ``version``, each
    as the JSON object the promotions component stores (``retail.promotions`` form), and the
    coupons usable today or later."""

    schema_: Literal["tillpi.catalogue-promotions/1"] = Field("tillpi.catalogue-promotions/1", alias="schema")
    store_id: Id
    version: Annotated[int, Field(ge=0, le=2**62)]
    promotions: Annotated[list[dict[str, Any]], Field(max_length=10_000)] = []
    coupons: Annotated[list[dict[str, Any]], Field(max_length=100_000)] = []
    at: datetime


Message = Union[Sale, SaleAck, SaleAcks, KioskState, EdgeState, Health, DeviceEvent, Command, CatalogueManifest, CataloguePromotions]
M = TypeVar("M", bound=BaseModel)

KINDS: dict[str, type[BaseModel]] = {
    "sale": Sale,
    "ack": SaleAcks,
    "sale_ack": SaleAck,  # one ack alone: what an edge before ``SaleAcks`` sent on ``ack``
    "state": KioskState,
    "edge_state": EdgeState,
    "health": Health,
    "event": DeviceEvent,
    "cmd": Command,
    "alarm": AlarmMessage,
    "catalogue_manifest": CatalogueManifest,
    "catalogue_promotions": CataloguePromotions,
}


def encode(msg: BaseModel) -> bytes:
    """The JSON bytes of a contract message."""
    if type(msg) not in KINDS.values():
        raise ContractError("invalid", f"{type(msg).__name__} is not a bus message")
    data = msg.model_dump_json(by_alias=True).encode("utf-8")
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ContractError("oversize", f"{len(data)} bytes > {MAX_PAYLOAD_BYTES}")
    return data


def decode(kind: str | type[M], payload: bytes, *, max_bytes: int = MAX_PAYLOAD_BYTES) -> Any:
    """Parse ``payload`` as the message of ``kind`` (a topic kind such as ``"sale"`` or a
    model class). Raises :class:`ContractError` with the reason on anything invalid."""
    model = KINDS.get(kind) if isinstance(kind, str) else kind
    if model is None or model not in KINDS.values():
        raise ContractError("invalid", f"unknown message kind {kind!r}")
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise ContractError("invalid", "payload must be bytes")
    if len(payload) > max_bytes:
        raise ContractError("oversize", f"{len(payload)} bytes > {max_bytes}")
    data = bytes(payload)
    try:
        # One parse on the hot path: a message the model accepts is a JSON object with the
        # right ``schema`` (a Literal field). Only a refusal is parsed again, to say why.
        # only a sale's hash check reads the payload as sent (Sale._hash)
        return model.model_validate_json(data, strict=True, context={"payload": data} if model is Sale else None)
    except ValidationError as exc:
        failure = exc
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError("invalid_json", str(exc)[:200]) from None
    if not isinstance(raw, dict):
        raise ContractError("invalid_json", "payload is not a JSON object")
    expected = model.model_fields["schema_"].default
    if raw.get("schema") != expected:
        raise ContractError("wrong_schema", f"expected {expected!r}, got {str(raw.get('schema'))[:80]!r}")
    errors = failure.errors(include_url=False)
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = str(first.get("msg", failure))[:300]
    reason = "hash_mismatch" if "body_hash does not match" in message else "invalid"
    raise ContractError(reason, f"{where}: {message}" if where else message) from None


def decode_acks(payload: bytes) -> list[SaleAck]:
    """The acks in a message on a kiosk's ``ack`` topic: a :class:`SaleAcks` batch, or the single
    :class:`SaleAck` an edge of an earlier version sends (kiosks may be upgraded first)."""
    try:
        return list(decode(SaleAcks, payload).acks)
    except ContractError as exc:
        if exc.reason != "wrong_schema":
            raise
    return [decode(SaleAck, payload)]


def command_expiry(issued_at: datetime, seconds: int = 300) -> datetime:
    """Default expiry of a command: five minutes after it was issued."""
    return issued_at + timedelta(seconds=seconds)


def help_event_detail(request_id: str, reason: str, *, role: str = "attendant", note: str = "",
                      lines: int | None = None, total_minor: int | None = None, currency: str = "",
                      items: Sequence[tuple[str, int]] = (), limit: int = 500) -> str:
    """The compact JSON ``detail`` of a kiosk's help / age-check / intervention event:
    ``r`` request id, ``why`` reason, ``role``, ``note``, ``n`` basket lines, ``t`` total in
    minor units, ``c`` currency, ``i`` ``[name, qty]`` items. Trimmed to ``limit`` characters by
    dropping items, then shortening the note; :class:`ContractError` if even that cannot fit."""
    data: dict[str, Any] = {"r": request_id, "why": reason, "role": role}
    if note:
        data["note"] = note[:120]
    if lines is not None:
        data["n"] = lines
    if total_minor is not None:
        data["t"] = total_minor
        data["c"] = currency
    kept = [[str(n)[:40], int(q)] for n, q in items]
    while True:
        if kept:
            data["i"] = kept
        else:
            data.pop("i", None)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(text) <= limit:
            return text
        if kept:
            kept = kept[:-1]
        elif data.get("note"):
            data["note"] = data["note"][: max(0, len(data["note"]) - (len(text) - limit) - 1)]
        else:
            raise ContractError("oversize", "help detail does not fit even without items and note")
