"""HQ's own request and response models (pydantic 2). HQ reads the sale as JSON through these
and imports nothing from kiosk, edge or broker.

Money is integer minor units everywhere; a float is refused (``StrictInt``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
HASH_PATTERN = r"^[0-9a-f]{64}$"
MAX_MINOR = 10**12
MAX_BATCH_ITEMS = 5000

Id = Annotated[str, Field(pattern=ID_PATTERN)]
BatchId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
SaleId = Annotated[str, Field(pattern=UUID_PATTERN)]
Hash = Annotated[str, Field(pattern=HASH_PATTERN)]
Minor = Annotated[StrictInt, Field(ge=-MAX_MINOR, le=MAX_MINOR)]
NonNegMinor = Annotated[StrictInt, Field(ge=0, le=MAX_MINOR)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Role = Literal["admin", "analyst", "store_manager"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- the sale as HQ reads it --------------------------------------------------------------------


class SaleLineIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(max_length=200)]
    category: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)] | None = None
    weight_g: Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None = None
    unit_price_minor: NonNegMinor
    gross_minor: NonNegMinor
    net_minor: NonNegMinor
    tax_minor: NonNegMinor

    @model_validator(mode="after")
    def _one_measure(self) -> SaleLineIn:
        if (self.quantity is None) == (self.weight_g is None):
            raise ValueError(f"line {self.sku}: exactly one of quantity and weight_g")
        if self.net_minor > self.gross_minor:
            raise ValueError(f"line {self.sku}: net exceeds gross")
        return self


class SaleTotalsIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    subtotal_minor: NonNegMinor
    savings_minor: NonNegMinor
    total_minor: NonNegMinor
    tax_minor: NonNegMinor


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    method: Annotated[str, Field(pattern=r"^[a-z_]{1,20}$")]
    amount_minor: Annotated[StrictInt, Field(ge=1, le=MAX_MINOR)]


class SaleBodyIn(BaseModel):
    """The kiosk's sale (bus contract ``tillpi.sale/1``) as HQ needs it. Unknown fields are
    allowed and kept in the stored body (they are part of it and of its hash); the model itself
    ignores them, here and in the lines, totals and payments, since copying them into every
    checked sale would only cost time."""

    model_config = ConfigDict(extra="ignore")

    sale_id: SaleId
    store_id: Id
    kiosk_id: Id
    seq: Annotated[StrictInt, Field(ge=1, le=2**62)]
    body_hash: Hash | None = None
    business_date: date
    finished_at: datetime
    currency: Currency
    lines: Annotated[list[SaleLineIn], Field(min_length=1, max_length=500)]
    totals: SaleTotalsIn
    payments: Annotated[list[PaymentIn], Field(min_length=1, max_length=10)]
    change_minor: NonNegMinor = 0
    member_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @model_validator(mode="after")
    def _reconcile(self) -> SaleBodyIn:
        if self.finished_at.tzinfo is None:
            raise ValueError("finished_at must carry a timezone")
        t = self.totals
        if t.total_minor != sum(line.net_minor for line in self.lines):
            raise ValueError("total != sum of line nets")
        if t.subtotal_minor != sum(line.gross_minor for line in self.lines):
            raise ValueError("subtotal != sum of line gross")
        if t.total_minor != t.subtotal_minor - t.savings_minor:
            raise ValueError("total != subtotal - savings")
        paid = sum(p.amount_minor for p in self.payments)
        if paid - self.change_minor != t.total_minor:
            raise ValueError("payments - change != total")
        cash = sum(p.amount_minor for p in self.payments if p.method == "cash")
        if self.change_minor > cash:
            raise ValueError("change is only given from cash")
        return self


# -- sync ---------------------------------------------------------------------------------------


class SaleItemIn(_Strict):
    kind: Literal["sale"]
    kiosk_id: Id
    sale_id: SaleId
    seq: Annotated[StrictInt, Field(ge=1, le=2**62)]
    body_hash: Hash
    body: dict[str, Any]


class RefundBodyIn(BaseModel):
    """An edge's refund (``tillpi.refund/1``) as HQ needs it: what it is against, its day, and
    the amount given back (line nets, tax included, like a sale's total). Unknown fields are
    kept (they are part of the body and of its hash) but not read."""

    model_config = ConfigDict(extra="allow")

    schema_: Literal["tillpi.refund/1"] = Field(alias="schema")
    refund_id: Annotated[str, Field(min_length=1, max_length=64)]
    store_id: Id | None = None
    kiosk_id: Id
    sale_id: Annotated[str, Field(min_length=1, max_length=64)]
    business_date: date
    currency: Currency
    total_minor: NonNegMinor
    tax_minor: NonNegMinor = 0


class EventItemIn(_Strict):
    """Later sync kinds, kept exactly once by ``(store, kind, event_id)`` and counted in
    summaries where they apply (alarms; stock-outs are ``stock_move`` items with
    ``body.stock_out = true``; a ``refund``'s body is a :class:`RefundBodyIn` whose
    ``total_minor`` comes off the revenue of its business date)."""

    kind: Literal["stock_move", "alarm", "day_close", "refund"]
    event_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
    kiosk_id: Id | None = None
    business_date: date | None = None
    body_hash: Hash
    body: dict[str, Any]


SyncItemIn = Annotated[SaleItemIn | EventItemIn, Field(discriminator="kind")]


class SyncBatchIn(_Strict):
    batch_id: BatchId
    store_id: Id
    sent_at: datetime | None = None
    items: Annotated[list[SyncItemIn], Field(max_length=MAX_BATCH_ITEMS)]


ItemStatus = Literal["accepted", "duplicate", "conflict", "rejected"]


class SyncItemResult(BaseModel):
    index: int
    kind: str
    kiosk_id: str | None
    id: str
    status: ItemStatus
    reason: str = ""


class SyncBatchResult(BaseModel):
    batch_id: str
    store_id: str
    times_received: int
    accepted: int
    duplicates: int
    conflicts: int
    rejected: int
    items: list[SyncItemResult]


class KioskCursor(BaseModel):
    kiosk_id: str
    highest_seq: int
    updated_at: datetime


class SyncCursorOut(BaseModel):
    store_id: str
    last_batch_id: str | None
    last_batch_at: datetime | None
    kiosks: list[KioskCursor]


class ReconciliationRow(BaseModel):
    kiosk_id: str
    business_date: date
    count: int
    total_minor: int
    highest_seq: int


class ReconciliationOut(BaseModel):
    store_id: str
    start: date
    end: date
    rows: list[ReconciliationRow]


class ConflictOut(BaseModel):
    kind: str
    kiosk_id: str
    id: str
    kept_hash: str
    received_hash: str
    batch_id: str
    received_at: datetime


# -- stores, tokens, users ------------------------------------------------------------------------


class StoreIn(_Strict):
    store_id: Id
    name: Annotated[str, Field(min_length=1, max_length=200)]
    region: Annotated[str, Field(min_length=1, max_length=64)] = "default"
    currency: Currency | None = None


class StoreOut(BaseModel):
    store_id: str
    name: str
    region: str
    currency: str
    last_batch_id: str | None = None
    last_batch_at: datetime | None = None


class TokenOut(BaseModel):
    store_id: str
    token: str
    old_tokens_valid_until: datetime | None = None


class EnrolmentCodeOut(BaseModel):
    store_id: str
    code: str
    expires_at: datetime


class EnrolIn(_Strict):
    code: Annotated[str, Field(min_length=8, max_length=200)]


class RotateIn(_Strict):
    revoke_old: StrictBool = False


class UserIn(_Strict):
    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
    password: Annotated[str, Field(min_length=8, max_length=200)]
    role: Role
    store_ids: list[Id] = []


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    active: bool
    store_ids: list[str]


class LoginIn(_Strict):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class SessionOut(BaseModel):
    token: str
    expires_at: datetime
    user: UserOut


# -- catalogue ------------------------------------------------------------------------------------


Scope = Annotated[str, Field(pattern=r"^(chain|region:[A-Za-z0-9_.-]{1,64}|store:[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$")]


class ProductIn(_Strict):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    name_en: Annotated[str, Field(min_length=1, max_length=200)]
    name_zh: Annotated[str, Field(min_length=1, max_length=200)]
    category: Annotated[str, Field(min_length=1, max_length=64)] = "general"
    gtins: list[Annotated[str, Field(pattern=r"^[0-9]{8,14}$")]] = []
    plu: Annotated[str, Field(pattern=r"^[0-9]{1,5}$")] | None = None
    sold_by: Literal["unit", "weight"] = "unit"
    tax_rate_bp: Annotated[StrictInt, Field(ge=0, le=10_000)] = 1300
    min_age: Annotated[StrictInt, Field(ge=0, le=99)] = 0


class PriceIn(_Strict):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    scope: Scope = "chain"
    price_minor: NonNegMinor
    currency: Currency | None = None


class PromotionIn(_Strict):
    promotion_id: Annotated[str, Field(min_length=1, max_length=64)]
    scope: Scope = "chain"
    definition: dict[str, Any]


class PriceKey(_Strict):
    sku: str
    scope: Scope


class CatalogueChangesIn(_Strict):
    note: Annotated[str, Field(max_length=500)] = ""
    products: list[ProductIn] = []
    prices: list[PriceIn] = []
    promotions: list[PromotionIn] = []
    remove_products: list[str] = []
    remove_prices: list[PriceKey] = []
    remove_promotions: list[str] = []


class ProductOut(BaseModel):
    sku: str
    name_en: str
    name_zh: str
    category: str
    gtins: list[str]
    plu: str | None
    sold_by: str
    tax_rate_bp: int
    min_age: int
    active: bool
    version: int


class PriceOut(BaseModel):
    sku: str
    scope: str
    price_minor: int
    currency: str
    active: bool
    version: int


class PromotionOut(BaseModel):
    promotion_id: str
    scope: str
    definition: dict[str, Any]
    active: bool
    version: int


class CatalogueOut(BaseModel):
    """Changes since ``since_version`` (a full snapshot of active rows when it is 0). Rows
    with ``active = false`` are removals. Prices carry their scope; the most specific applies
    (``store:`` over ``region:`` over ``chain``)."""

    version: int
    since_version: int
    full: bool
    products: list[ProductOut]
    prices: list[PriceOut]
    promotions: list[PromotionOut]


class CatalogueVersionOut(BaseModel):
    version: int
    created_at: datetime
    note: str


# -- transfers ----------------------------------------------------------------------------------


class TransferLine(_Strict):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[StrictInt, Field(ge=0, le=1_000_000)] = 0
    weight_g: Annotated[StrictInt, Field(ge=0, le=100_000_000)] = 0


class TransferIn(_Strict):
    """Asked for by ``to_store_id`` (the requester) from ``from_store_id`` (the shipper)."""

    from_store_id: Id
    to_store_id: Id | None = None
    lines: Annotated[list[TransferLine], Field(min_length=1, max_length=500)]
    note: Annotated[str, Field(max_length=500)] = ""


class TransferActionIn(_Strict):
    lines: Annotated[list[TransferLine], Field(max_length=500)] | None = None


class TransferOut(BaseModel):
    id: int
    from_store_id: str
    to_store_id: str
    status: str
    lines: list[dict[str, Any]]
    shipped_lines: list[dict[str, Any]] | None
    received_lines: list[dict[str, Any]] | None
    note: str
    requested_at: datetime
    shipped_at: datetime | None
    received_at: datetime | None


# -- summaries ----------------------------------------------------------------------------------


class PaymentShare(BaseModel):
    method: str
    payments: int
    amount_minor: int
    share_bp: int


class ProductFigure(BaseModel):
    sku: str
    name: str
    category: str
    units: int
    weight_g: int
    revenue_minor: int


class CategoryFigure(BaseModel):
    category: str
    units: int
    revenue_minor: int


class Figures(BaseModel):
    start: date
    end: date
    revenue_minor: int
    units: int
    transactions: int
    average_basket_minor: int
    savings_minor: int
    tax_minor: int
    payment_mix: list[PaymentShare]
    top_products: list[ProductFigure]
    top_categories: list[CategoryFigure]
    alarms: int
    stock_outs: int
    device_availability_bp: int | None = Field(
        None, description="placeholder: filled once edges sync device availability"
    )


class Change(BaseModel):
    revenue_minor: int
    revenue_bp: int | None
    units: int
    transactions: int
    average_basket_minor: int


class StoreFigure(BaseModel):
    store_id: str
    name: str
    revenue_minor: int
    transactions: int
    units: int
    previous_revenue_minor: int


class SummaryOut(BaseModel):
    scope: str
    store_id: str | None
    period: str
    currency: str
    current: Figures
    previous: Figures
    change: Change
    stores: list[StoreFigure] = []
