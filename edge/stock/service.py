"""The shop's stock: on-hand derived from the ledger's moves, batches and expiry, reorder
points and suggestions, suppliers and purchase orders, stocktakes and transfers.

**On-hand, and why stocktakes do not depend on arrival order.** A stocktake records what was
counted *at a time* T. Approving it stores a count anchor (the counted amount at T) and writes
a ``count`` move holding the variance. On-hand of a SKU at any time is then

    the latest anchor at or before that time + every non-count move after the anchor's T
    (by business time, the move's ``at``), or simply the sum of all moves without an anchor.

A kiosk that was offline may deliver a sale finished before T after the count was approved:
that sale is already inside the counted amount, and the formula leaves it out. The same sales
delivered in any order give the same on-hand. Times are compared with SQLite's ``julianday``
(millisecond resolution), so moves stored with any UTC offset compare correctly.

Amounts are in the product's measure: pieces, or grams for a product sold by weight (the
catalogue says which; without a catalogue every SKU counts pieces). Quantities in moves are
signed by their effect on stock.

:class:`StockService` owns one connection to the edge database file; it is a context manager
with an idempotent :meth:`close`, thread-safe, and takes its time from an injected clock.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Iterable, Literal, Sequence

from edge.catalogue.store import CatalogueStore
from edge.db import SqliteComponent
from edge.ledger.migrations import migrate as migrate_ledger
from edge.schema import migrate_component
from edge.stock.errors import (
    InvalidMoveError,
    OrderStateError,
    OverReceiptError,
    StockClosedError,
    StocktakeStateError,
    TransferConflictError,
    UnknownOrderError,
    UnknownRecordError,
    UnknownStocktakeError,
    UnknownSupplierError,
    UnknownTransferError,
)
from edge.stock.migrations import STEPS
from edge.stock.moves import Move, iso_utc, record_moves
from edge.stock.rules import (
    DEFAULT_MARKDOWN,
    Allocation,
    Lot,
    MarkdownRule,
    fefo_allocate,
    markdown_price,
    remaining_by_lot,
    reorder_quantity,
    suggest_markdown,
)
from retail.catalogue import SoldBy
from retail.clock import Clock
from retail.money import Money

__all__ = [
    "BatchStock",
    "Level",
    "OrderLine",
    "PurchaseOrder",
    "ReceiptLine",
    "ReorderSuggestion",
    "StockService",
    "Stocktake",
    "StocktakeLine",
    "Supplier",
    "Transfer",
]

log = logging.getLogger(__name__)

Measure = Literal["units", "grams"]
_USER_KINDS = {"return", "receipt", "adjustment", "waste", "transfer"}


# -- records ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Level:
    """On-hand of one SKU: pieces and grams, and which of the two is its measure."""

    sku: str
    units: int
    grams: int
    measure: Measure = "units"

    @property
    def amount(self) -> int:
        return self.grams if self.measure == "grams" else self.units

    def to_dict(self) -> dict[str, object]:
        return {"sku": self.sku, "units": self.units, "grams": self.grams, "measure": self.measure, "amount": self.amount}


@dataclass(frozen=True, slots=True)
class Supplier:
    id: int
    name: str
    lead_time_days: int
    contact: str = ""
    phone: str = ""
    email: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "lead_time_days": self.lead_time_days, "contact": self.contact, "phone": self.phone, "email": self.email}


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    ordered: int
    cost: Money
    received: int = 0

    @property
    def outstanding(self) -> int:
        return max(self.ordered - self.received, 0)


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    id: int
    supplier_id: int
    status: str
    lines: tuple[OrderLine, ...]
    created_at: str
    note: str = ""
    expected_on: date | None = None

    @property
    def total_cost(self) -> Money:
        currency = self.lines[0].cost.currency
        return Money(sum(line.cost.minor * line.ordered for line in self.lines), currency)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "supplier_id": self.supplier_id,
            "status": self.status,
            "note": self.note,
            "created_at": self.created_at,
            "expected_on": None if self.expected_on is None else self.expected_on.isoformat(),
            "total_cost": {"minor": self.total_cost.minor, "currency": self.total_cost.currency},
            "lines": [
                {"sku": l.sku, "ordered": l.ordered, "received": l.received, "outstanding": l.outstanding,
                 "cost": {"minor": l.cost.minor, "currency": l.cost.currency}}
                for l in self.lines
            ],
        }


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """What arrived: ``amount`` of ``sku`` (pieces or grams), optionally a lot with expiry."""

    sku: str
    amount: int
    lot: str = ""
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class BatchStock:
    batch_id: int
    sku: str
    lot: str
    expires_on: date | None
    received: int
    remaining: int
    days_left: int | None
    markdown_percent: int | None = None
    markdown_price: Money | None = None
    expired: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "batch_id": self.batch_id, "sku": self.sku, "lot": self.lot,
            "expires_on": None if self.expires_on is None else self.expires_on.isoformat(),
            "received": self.received, "remaining": self.remaining, "days_left": self.days_left,
            "expired": self.expired, "markdown_percent": self.markdown_percent,
            "markdown_price": None if self.markdown_price is None else {"minor": self.markdown_price.minor, "currency": self.markdown_price.currency},
        }


@dataclass(frozen=True, slots=True)
class ReorderSuggestion:
    sku: str
    on_hand: int
    on_order: int
    sold_last_28_days: int
    reorder_point: int
    supplier_id: int | None
    lead_time_days: int
    quantity: int

    def to_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class StocktakeLine:
    sku: str
    counted: int
    expected: int
    counted_at: str

    @property
    def variance(self) -> int:
        return self.counted - self.expected

    def to_dict(self) -> dict[str, object]:
        return {"sku": self.sku, "counted": self.counted, "expected": self.expected, "variance": self.variance, "counted_at": self.counted_at}


@dataclass(frozen=True, slots=True)
class Stocktake:
    id: int
    status: str
    note: str
    count_at: str | None
    opened_at: str
    approved_at: str | None = None
    approved_by: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "status": self.status, "note": self.note, "count_at": self.count_at,
            "opened_at": self.opened_at, "approved_at": self.approved_at, "approved_by": self.approved_by,
            "counts": dict(self.counts),
        }


@dataclass(frozen=True, slots=True)
class Transfer:
    id: int
    direction: str
    shop: str
    ref: str
    status: str
    lines: dict[str, int]
    created_at: str

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "direction": self.direction, "shop": self.shop, "ref": self.ref, "status": self.status, "lines": dict(self.lines), "created_at": self.created_at}


def _migrate(conn: sqlite3.Connection) -> None:
    migrate_ledger(conn)  # the stock_moves table is the ledger's; a no-op when current
    migrate_component(conn, "stock", STEPS)


# -- the service --------------------------------------------------------------------------------
class StockService(SqliteComponent):
    """Stock of one shop, over the edge database at ``path``."""

    _closed_error = StockClosedError
    _closed_message = "the stock service is closed"

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock,
        catalogue: CatalogueStore | None = None,
        markdown: Sequence[MarkdownRule] = DEFAULT_MARKDOWN,
        shop_timezone: tzinfo = timezone.utc,
        currency: str = "CNY",
        source: str = "edge",
    ) -> None:
        self._clock = clock
        self._catalogue = catalogue
        self._markdown = tuple(markdown)
        self._tz = shop_timezone
        self.currency = catalogue.currency if catalogue is not None else currency
        self._source = source
        super().__init__(path, migrations=_migrate)

    def _read(self, sql: str, args: Sequence[object] = ()) -> list[tuple]:  # type: ignore[type-arg]
        with self._lock:
            return self._db().execute(sql, tuple(args)).fetchall()

    def _now(self) -> datetime:
        return self._clock.now()

    def today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()

    # -- measure --------------------------------------------------------------------------------
    def measure(self, sku: str) -> Measure:
        if self._catalogue is not None:
            product = self._catalogue.find(sku)
            if product is not None and product.sold_by is SoldBy.WEIGHT:
                return "grams"
        return "units"

    def _split(self, sku: str, amount: int) -> tuple[int, int]:
        """``(qty, grams)`` of a move of ``amount`` in the SKU's measure."""
        return (0, amount) if self.measure(sku) == "grams" else (amount, 0)

    # -- on-hand ----------------------------------------------------------------------------------
    def _anchor(self, db: sqlite3.Connection, sku: str, at: str | None) -> tuple[float, int, int] | None:
        sql = "SELECT jd, units, grams FROM count_anchors WHERE sku = ?"
        args: list[object] = [sku]
        if at is not None:
            sql += " AND jd <= julianday(?)"
            args.append(at)
        row = db.execute(sql + " ORDER BY jd DESC, id DESC LIMIT 1", args).fetchone()
        return None if row is None else (float(row[0]), int(row[1]), int(row[2]))

    def _on_hand(self, db: sqlite3.Connection, sku: str, at: str | None = None) -> tuple[int, int]:
        anchor = self._anchor(db, sku, at)
        sql = "SELECT COALESCE(SUM(qty), 0), COALESCE(SUM(grams), 0) FROM stock_moves WHERE sku = ?"
        args: list[object] = [sku]
        if anchor is not None:
            sql += " AND kind != 'count' AND julianday(at) > ?"
            args.append(anchor[0])
        if at is not None:
            sql += " AND julianday(at) <= julianday(?)"
            args.append(at)
        units, grams = db.execute(sql, args).fetchone()
        base_u, base_g = (anchor[1], anchor[2]) if anchor is not None else (0, 0)
        return base_u + int(units), base_g + int(grams)

    def on_hand(self, sku: str, *, at: datetime | None = None) -> Level:
        """On-hand of ``sku`` now, or as it stood at business time ``at``."""
        when = None if at is None else iso_utc(at)
        with self._lock:
            units, grams = self._on_hand(self._db(), sku, when)
        return Level(sku, units, grams, self.measure(sku))

    def levels(self, skus: Iterable[str] | None = None) -> list[Level]:
        """On-hand of every SKU that has moves or a count (or of ``skus``), by SKU."""
        with self._lock:
            db = self._db()
            anchors = {
                str(r[0]): (float(r[1]), int(r[2]), int(r[3]))
                for r in db.execute(
                    "SELECT sku, jd, units, grams FROM (SELECT sku, jd, units, grams,"
                    " ROW_NUMBER() OVER (PARTITION BY sku ORDER BY jd DESC, id DESC) AS rn FROM count_anchors) WHERE rn = 1"
                )
            }
            totals: dict[str, tuple[int, int]] = {
                sku: (a[1], a[2]) for sku, a in anchors.items()
            }
            rows = db.execute(
                "WITH a AS (SELECT sku, MAX(jd) AS jd FROM count_anchors GROUP BY sku)"
                " SELECT m.sku, SUM(m.qty), SUM(m.grams) FROM stock_moves m LEFT JOIN a ON a.sku = m.sku"
                " WHERE a.sku IS NULL OR (m.kind != 'count' AND julianday(m.at) > a.jd) GROUP BY m.sku"
            ).fetchall()
        for sku, units, grams in rows:
            bu, bg = totals.get(sku, (0, 0))
            totals[str(sku)] = (bu + int(units), bg + int(grams))
        wanted = sorted(totals) if skus is None else sorted(set(skus))
        weighed = self._weighed_skus()
        return [
            Level(s, *totals.get(s, (0, 0)), "grams" if s in weighed else "units")  # type: ignore[arg-type]
            for s in wanted
        ]

    def _weighed_skus(self) -> set[str]:
        return set() if self._catalogue is None else self._catalogue.weighed_skus()

    # -- moves ------------------------------------------------------------------------------------
    def record_move(
        self, kind: str, sku: str, amount: int, *, ref: str, at: datetime | None = None, source: str | None = None
    ) -> None:
        """Record a return, receipt, adjustment, waste or transfer of ``amount`` (signed by its
        effect on stock: waste is negative). Sales come from the ingest and counts from
        stocktakes only."""
        if kind not in _USER_KINDS:
            raise InvalidMoveError(f"{kind!r} moves are not recorded by hand; use one of {sorted(_USER_KINDS)}")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
            raise InvalidMoveError("a move's amount is a non-zero whole number")
        if kind in ("return", "receipt") and amount < 0:
            raise InvalidMoveError(f"a {kind} adds stock; its amount is positive")
        if kind == "waste" and amount > 0:
            raise InvalidMoveError("waste removes stock; its amount is negative")
        if not ref:
            raise InvalidMoveError("a move needs a reference (why it happened)")
        qty, grams = self._split(sku, amount)
        move = Move(kind, sku, qty, grams, ref, source or self._source, at or self._now())
        with self._write() as db:
            record_moves(db, [move])
        log.info("stock: %s %s %+d (%s)", kind, sku, amount, ref)

    def moves(
        self, *, sku: str | None = None, kind: str | None = None, since: datetime | None = None, limit: int = 200
    ) -> list[dict[str, object]]:
        """The newest moves first (by business time)."""
        clauses, args = [], []  # type: ignore[var-annotated]
        if sku:
            clauses.append("sku = ?")
            args.append(sku)
        if kind:
            clauses.append("kind = ?")
            args.append(kind)
        if since is not None:
            clauses.append("julianday(at) >= julianday(?)")
            args.append(iso_utc(since))
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._read(
            f"SELECT id, kind, sku, qty, grams, ref, source, at FROM stock_moves {where} ORDER BY julianday(at) DESC, id DESC LIMIT ?",
            [*args, int(limit)],
        )
        keys = ("id", "kind", "sku", "qty", "grams", "ref", "source", "at")
        return [dict(zip(keys, r)) for r in rows]

    # -- batches, FEFO and expiry ---------------------------------------------------------------------
    def add_batch(self, sku: str, amount: int, *, expires_on: date | None, lot: str = "", ref: str = "") -> int:
        """Record a batch that arrived (its stock move is written by the caller: a receipt)."""
        with self._write() as db:
            return self._add_batch(db, sku, amount, expires_on, lot, ref)

    def _add_batch(self, db: sqlite3.Connection, sku: str, amount: int, expires_on: date | None, lot: str, ref: str) -> int:
        if amount <= 0:
            raise InvalidMoveError("a batch holds a positive amount")
        cur = db.execute(
            "INSERT INTO batches (sku, lot, expires_on, amount, received_at, ref) VALUES (?, ?, ?, ?, ?, ?)",
            (sku, lot, None if expires_on is None else expires_on.isoformat(), amount, iso_utc(self._now()), ref),
        )
        return int(cur.lastrowid or 0)

    def _lots(self, sku: str) -> list[tuple[Lot, str]]:
        rows = self._read("SELECT id, expires_on, amount, received_at, lot FROM batches WHERE sku = ? ORDER BY id", (sku,))
        return [
            (
                Lot(int(r[0]), None if r[1] is None else date.fromisoformat(r[1]), int(r[2]), datetime.fromisoformat(r[3]).date()),
                str(r[4]),
            )
            for r in rows
        ]

    def batches(self, sku: str) -> list[BatchStock]:
        """The SKU's batches with what remains of each (first-expiry-first-out), FEFO order."""
        lots = self._lots(sku)
        on_hand = self.on_hand(sku).amount
        remaining = remaining_by_lot([lot for lot, _ in lots], on_hand)
        today = self.today()
        out = []
        for lot, name in sorted(lots, key=lambda x: (x[0].expires_on is None, x[0].expires_on or date.max, x[0].batch_id)):
            days = None if lot.expires_on is None else (lot.expires_on - today).days
            out.append(BatchStock(lot.batch_id, sku, name, lot.expires_on, lot.amount, remaining[lot.batch_id], days, expired=days is not None and days < 0))
        return out

    def allocate(self, sku: str, amount: int) -> tuple[list[Allocation], int]:
        """Which batches ``amount`` of ``sku`` should come from, first expiry first:
        ``(allocations, shortfall)``."""
        lots = [lot for lot, _ in self._lots(sku)]
        remaining = remaining_by_lot(lots, self.on_hand(sku).amount)
        return fefo_allocate([Lot(l.batch_id, l.expires_on, remaining[l.batch_id], l.received_on) for l in lots], amount)

    def expiring(self, within_days: int = 3) -> list[BatchStock]:
        """Batches with stock left that expire within ``within_days`` (or already have), with
        the suggested markdown and marked-down price; soonest first."""
        horizon = (self.today() + timedelta(days=within_days)).isoformat()
        skus = [str(r[0]) for r in self._read("SELECT DISTINCT sku FROM batches WHERE expires_on IS NOT NULL AND expires_on <= ?", (horizon,))]
        out: list[BatchStock] = []
        for sku in skus:
            product = self._catalogue.find(sku) if self._catalogue is not None else None
            for b in self.batches(sku):
                if b.expires_on is None or b.remaining <= 0 or b.expires_on.isoformat() > horizon:
                    continue
                pct = suggest_markdown(b.days_left or 0, self._markdown) if not b.expired else None
                price = markdown_price(product.price, pct) if (pct is not None and product is not None) else None
                out.append(BatchStock(b.batch_id, sku, b.lot, b.expires_on, b.received, b.remaining, b.days_left, pct, price, b.expired))
        out.sort(key=lambda b: (b.expires_on or date.max, b.sku, b.batch_id))
        return out

    # -- reorder points and suggestions ---------------------------------------------------------------
    def set_reorder_point(
        self, sku: str, reorder_point: int, *, supplier_id: int | None = None, pack_size: int = 1, order_up_to: int | None = None
    ) -> None:
        if reorder_point < 0 or pack_size < 1 or (order_up_to is not None and order_up_to < reorder_point):
            raise InvalidMoveError("reorder point >= 0, pack size >= 1, order-up-to at least the reorder point")
        with self._write() as db:
            if supplier_id is not None:
                self._supplier(db, supplier_id)
            db.execute(
                "INSERT INTO reorder_points (sku, reorder_point, order_up_to, supplier_id, pack_size) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (sku) DO UPDATE SET reorder_point = excluded.reorder_point, order_up_to = excluded.order_up_to,"
                " supplier_id = excluded.supplier_id, pack_size = excluded.pack_size",
                (sku, reorder_point, order_up_to, supplier_id, pack_size),
            )

    def low_stock(self) -> list[tuple[Level, int]]:
        """SKUs at or below their reorder point: ``(level, reorder_point)``."""
        points = {str(r[0]): int(r[1]) for r in self._read("SELECT sku, reorder_point FROM reorder_points")}
        levels = {lv.sku: lv for lv in self.levels(points)}
        return [(levels[s], p) for s, p in sorted(points.items()) if levels[s].amount <= p]

    def on_order(self) -> dict[str, int]:
        return {
            str(r[0]): int(r[1])
            for r in self._read(
                "SELECT l.sku, SUM(l.ordered - l.received) FROM po_lines l JOIN purchase_orders o ON o.id = l.po_id"
                " WHERE o.status IN ('open', 'partial') GROUP BY l.sku"
            )
        }

    def sold_since(self, since: datetime) -> dict[str, int]:
        """Net amount sold per SKU since ``since`` (sales less returns), in each SKU's measure."""
        weighed = self._weighed_skus()
        out: dict[str, int] = {}
        for sku, qty, grams in self._read(
            "SELECT sku, -SUM(qty), -SUM(grams) FROM stock_moves WHERE kind IN ('sale', 'return') AND julianday(at) >= julianday(?) GROUP BY sku",
            (iso_utc(since),),
        ):
            out[str(sku)] = max(int(grams) if sku in weighed else int(qty), 0)
        return out

    def reorder_suggestions(self, *, cover_days: int = 14) -> list[ReorderSuggestion]:
        """What to order now, from sales velocity (last 28 days), supplier lead time, stock on
        hand and on order, and reorder points. SKUs with a reorder point or recent sales."""
        sold = self.sold_since(self._now() - timedelta(days=28))
        points = {
            str(r[0]): (int(r[1]), r[2], r[3], int(r[4]))
            for r in self._read("SELECT sku, reorder_point, order_up_to, supplier_id, pack_size FROM reorder_points")
        }
        suppliers = {s.id: s for s in self.suppliers()}
        on_order = self.on_order()
        skus = sorted(set(sold) | set(points))
        levels = {lv.sku: lv for lv in self.levels(skus)}
        out = []
        for sku in skus:
            point, up_to, supplier_id, pack = points.get(sku, (0, None, None, 1))
            lead = suppliers[supplier_id].lead_time_days if supplier_id in suppliers else 7
            qty = reorder_quantity(
                on_hand=levels[sku].amount, on_order=on_order.get(sku, 0), sold_last_28_days=sold.get(sku, 0),
                lead_time_days=lead, cover_days=cover_days, reorder_point=point, order_up_to=up_to, pack_size=pack,
            )
            if qty > 0:
                out.append(ReorderSuggestion(sku, levels[sku].amount, on_order.get(sku, 0), sold.get(sku, 0), point, supplier_id, lead, qty))
        return out

    # -- suppliers ----------------------------------------------------------------------------------
    def add_supplier(self, name: str, *, lead_time_days: int, contact: str = "", phone: str = "", email: str = "") -> int:
        if not name.strip() or lead_time_days < 0:
            raise InvalidMoveError("a supplier needs a name and a lead time >= 0 days")
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO suppliers (name, contact, phone, email, lead_time_days, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (name.strip(), contact, phone, email, lead_time_days, iso_utc(self._now())),
            )
            return int(cur.lastrowid or 0)

    def _supplier(self, db: sqlite3.Connection, supplier_id: int) -> Supplier:
        r = db.execute("SELECT id, name, lead_time_days, contact, phone, email FROM suppliers WHERE id = ?", (supplier_id,)).fetchone()
        if r is None:
            raise UnknownSupplierError(f"no supplier {supplier_id}")
        return Supplier(int(r[0]), r[1], int(r[2]), r[3], r[4], r[5])

    def supplier(self, supplier_id: int) -> Supplier:
        with self._lock:
            return self._supplier(self._db(), supplier_id)

    def suppliers(self) -> list[Supplier]:
        return [Supplier(int(r[0]), r[1], int(r[2]), r[3], r[4], r[5]) for r in self._read("SELECT id, name, lead_time_days, contact, phone, email FROM suppliers ORDER BY name, id")]

    # -- purchase orders ------------------------------------------------------------------------------
    def create_purchase_order(
        self, supplier_id: int, lines: Sequence[tuple[str, int, Money]], *, note: str = "", expected_on: date | None = None
    ) -> int:
        """A new open order: ``lines`` of ``(sku, amount, unit cost)``."""
        if not lines:
            raise InvalidMoveError("a purchase order needs at least one line")
        skus = [sku for sku, _, _ in lines]
        if len(set(skus)) != len(skus):
            raise InvalidMoveError("a SKU appears twice on the order")
        for sku, amount, cost in lines:
            if amount <= 0 or cost.minor < 0 or cost.currency != self.currency:
                raise InvalidMoveError(f"line {sku}: amount > 0 and a cost in {self.currency} are needed")
        with self._write() as db:
            self._supplier(db, supplier_id)
            cur = db.execute(
                "INSERT INTO purchase_orders (supplier_id, status, currency, note, created_at, expected_on) VALUES (?, 'open', ?, ?, ?, ?)",
                (supplier_id, self.currency, note, iso_utc(self._now()), None if expected_on is None else expected_on.isoformat()),
            )
            po_id = int(cur.lastrowid or 0)
            db.executemany("INSERT INTO po_lines (po_id, sku, ordered, cost_minor) VALUES (?, ?, ?, ?)", [(po_id, s, a, c.minor) for s, a, c in lines])
        return po_id

    def _order(self, db: sqlite3.Connection, po_id: int) -> PurchaseOrder:
        r = db.execute("SELECT id, supplier_id, status, currency, note, created_at, expected_on FROM purchase_orders WHERE id = ?", (po_id,)).fetchone()
        if r is None:
            raise UnknownOrderError(f"no purchase order {po_id}")
        lines = tuple(
            OrderLine(l[0], int(l[1]), Money(int(l[3]), r[3]), int(l[2]))
            for l in db.execute("SELECT sku, ordered, received, cost_minor FROM po_lines WHERE po_id = ? ORDER BY sku", (po_id,))
        )
        return PurchaseOrder(int(r[0]), int(r[1]), r[2], lines, r[5], r[4], None if r[6] is None else date.fromisoformat(r[6]))

    def purchase_order(self, po_id: int) -> PurchaseOrder:
        with self._lock:
            return self._order(self._db(), po_id)

    def purchase_orders(self, status: str | None = None) -> list[PurchaseOrder]:
        with self._lock:
            db = self._db()
            ids = [r[0] for r in db.execute(
                "SELECT id FROM purchase_orders" + (" WHERE status = ?" if status else "") + " ORDER BY id DESC", (status,) if status else ()
            )]
            return [self._order(db, i) for i in ids]

    def receive(self, po_id: int, lines: Sequence[ReceiptLine], *, at: datetime | None = None) -> PurchaseOrder:
        """Book a delivery against an order (partial deliveries too): receipt moves, batches for
        lines with an expiry date, and the order's status (partial / received)."""
        if not lines:
            raise InvalidMoveError("a delivery has at least one line")
        when = at or self._now()
        with self._write() as db:
            order = self._order(db, po_id)
            if order.status not in ("open", "partial"):
                raise OrderStateError(f"purchase order {po_id} is {order.status}")
            outstanding = {l.sku: l.outstanding for l in order.lines}
            arriving: dict[str, int] = {}
            for line in lines:
                if line.amount <= 0:
                    raise InvalidMoveError(f"line {line.sku}: received amount must be positive")
                arriving[line.sku] = arriving.get(line.sku, 0) + line.amount
            for sku, amount in arriving.items():
                if sku not in outstanding:
                    raise OverReceiptError(f"{sku} is not on purchase order {po_id}")
                if amount > outstanding[sku]:
                    raise OverReceiptError(f"{sku}: {amount} received, only {outstanding[sku]} outstanding on order {po_id}")
            moves = []
            for line in lines:
                batch_id = self._add_batch(db, line.sku, line.amount, line.expires_on, line.lot, f"po:{po_id}") if (line.expires_on or line.lot) else None
                db.execute("INSERT INTO po_receipts (po_id, sku, amount, batch_id, at) VALUES (?, ?, ?, ?, ?)", (po_id, line.sku, line.amount, batch_id, iso_utc(when)))
                db.execute("UPDATE po_lines SET received = received + ? WHERE po_id = ? AND sku = ?", (line.amount, po_id, line.sku))
                qty, grams = self._split(line.sku, line.amount)
                moves.append(Move("receipt", line.sku, qty, grams, f"po:{po_id}", self._source, when))
            record_moves(db, moves)
            left = db.execute("SELECT COALESCE(SUM(ordered - received), 0) FROM po_lines WHERE po_id = ?", (po_id,)).fetchone()[0]
            status = "received" if int(left) == 0 else "partial"
            db.execute("UPDATE purchase_orders SET status = ? WHERE id = ?", (status, po_id))
            result = self._order(db, po_id)
        log.info("stock: delivery on PO %d booked; order now %s", po_id, status)
        return result

    def cancel_purchase_order(self, po_id: int) -> PurchaseOrder:
        with self._write() as db:
            order = self._order(db, po_id)
            if order.status != "open":
                raise OrderStateError(f"purchase order {po_id} is {order.status}; only an open order without deliveries can be cancelled")
            db.execute("UPDATE purchase_orders SET status = 'cancelled' WHERE id = ?", (po_id,))
            return self._order(db, po_id)

    # -- stocktakes -----------------------------------------------------------------------------------
    def open_stocktake(self, *, note: str = "", count_at: datetime | None = None) -> int:
        """Open a count. ``count_at``: the business time all counts refer to (e.g. last night's
        close); when None, each SKU's count refers to the moment it was recorded."""
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO stocktakes (status, note, count_at, opened_at) VALUES ('open', ?, ?, ?)",
                (note, None if count_at is None else iso_utc(count_at), iso_utc(self._now())),
            )
            return int(cur.lastrowid or 0)

    def _stocktake(self, db: sqlite3.Connection, stocktake_id: int) -> Stocktake:
        r = db.execute("SELECT id, status, note, count_at, opened_at, approved_at, approved_by FROM stocktakes WHERE id = ?", (stocktake_id,)).fetchone()
        if r is None:
            raise UnknownStocktakeError(f"no stocktake {stocktake_id}")
        counts = {str(c[0]): int(c[1]) for c in db.execute("SELECT sku, amount FROM stocktake_counts WHERE stocktake_id = ? ORDER BY sku", (stocktake_id,))}
        return Stocktake(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], counts)

    def stocktake(self, stocktake_id: int) -> Stocktake:
        with self._lock:
            return self._stocktake(self._db(), stocktake_id)

    def stocktakes(self) -> list[Stocktake]:
        with self._lock:
            db = self._db()
            return [self._stocktake(db, int(r[0])) for r in db.execute("SELECT id FROM stocktakes ORDER BY id DESC")]

    def record_count(self, stocktake_id: int, sku: str, amount: int, *, add: bool = False) -> int:
        """Set (or with ``add``, add to) the counted amount of ``sku``; returns the new count."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InvalidMoveError("a count is a whole number >= 0")
        with self._write() as db:
            take = self._stocktake(db, stocktake_id)
            if take.status != "open":
                raise StocktakeStateError(f"stocktake {stocktake_id} is {take.status}")
            new = (take.counts.get(sku, 0) + amount) if add else amount
            db.execute(
                "INSERT INTO stocktake_counts (stocktake_id, sku, amount, counted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (stocktake_id, sku) DO UPDATE SET amount = excluded.amount, counted_at = excluded.counted_at",
                (stocktake_id, sku, new, iso_utc(self._now())),
            )
        return new

    def record_scan(self, stocktake_id: int, code: str, *, amount: int = 1) -> tuple[str, int]:
        """A scanned barcode (or typed SKU/PLU) adds ``amount`` to that product's count:
        ``(sku, new count)``."""
        if self._catalogue is None:
            raise UnknownRecordError("scanning needs the catalogue")
        product = self._catalogue.find(code)
        if product is None:
            raise UnknownRecordError(f"no product for code {code!r}")
        return product.sku, self.record_count(stocktake_id, product.sku, amount, add=True)

    def _variance(self, db: sqlite3.Connection, take: Stocktake) -> list[StocktakeLine]:
        out = []
        rows = db.execute("SELECT sku, amount, counted_at FROM stocktake_counts WHERE stocktake_id = ? ORDER BY sku", (take.id,)).fetchall()
        for sku, amount, counted_at in rows:
            at = take.count_at or counted_at
            units, grams = self._on_hand(db, sku, at)
            expected = grams if self.measure(sku) == "grams" else units
            out.append(StocktakeLine(str(sku), int(amount), expected, at))
        return out

    def variance(self, stocktake_id: int) -> list[StocktakeLine]:
        """Counted against the derived on-hand at each count's time."""
        with self._lock:
            db = self._db()
            return self._variance(db, self._stocktake(db, stocktake_id))

    def approve_stocktake(self, stocktake_id: int, *, approved_by: str) -> list[StocktakeLine]:
        """Approve: the counts become the on-hand at their count time (count anchors) and a
        ``count`` move records each variance. Returns the variance lines."""
        if not approved_by:
            raise InvalidMoveError("an approval names who approved")
        with self._write() as db:
            take = self._stocktake(db, stocktake_id)
            if take.status != "open":
                raise StocktakeStateError(f"stocktake {stocktake_id} is {take.status}")
            lines = self._variance(db, take)
            moves = []
            for line in lines:
                grams_measure = self.measure(line.sku) == "grams"
                units, grams = self._on_hand(db, line.sku, line.counted_at)
                counted_u, counted_g = (units, line.counted) if grams_measure else (line.counted, grams)
                db.execute(
                    "INSERT INTO count_anchors (sku, stocktake_id, at, jd, units, grams) VALUES (?, ?, ?, julianday(?), ?, ?)",
                    (line.sku, stocktake_id, line.counted_at, line.counted_at, counted_u, counted_g),
                )
                db.execute("UPDATE stocktake_counts SET expected = ? WHERE stocktake_id = ? AND sku = ?", (line.expected, stocktake_id, line.sku))
                if line.variance:
                    qty, g = (0, line.variance) if grams_measure else (line.variance, 0)
                    moves.append(Move("count", line.sku, qty, g, f"stocktake:{stocktake_id}", self._source, datetime.fromisoformat(line.counted_at)))
            record_moves(db, moves)
            db.execute(
                "UPDATE stocktakes SET status = 'approved', approved_at = ?, approved_by = ? WHERE id = ?",
                (iso_utc(self._now()), approved_by, stocktake_id),
            )
        log.info("stock: stocktake %d approved by %s (%d lines)", stocktake_id, approved_by, len(lines))
        return lines

    def cancel_stocktake(self, stocktake_id: int) -> None:
        with self._write() as db:
            take = self._stocktake(db, stocktake_id)
            if take.status != "open":
                raise StocktakeStateError(f"stocktake {stocktake_id} is {take.status}")
            db.execute("UPDATE stocktakes SET status = 'cancelled' WHERE id = ?", (stocktake_id,))

    # -- transfers --------------------------------------------------------------------------------------
    def _transfer(self, db: sqlite3.Connection, transfer_id: int) -> Transfer:
        r = db.execute("SELECT id, direction, shop, ref, status, created_at FROM transfers WHERE id = ?", (transfer_id,)).fetchone()
        if r is None:
            raise UnknownTransferError(f"no transfer {transfer_id}")
        lines = {str(l[0]): int(l[1]) for l in db.execute("SELECT sku, amount FROM transfer_lines WHERE transfer_id = ? ORDER BY sku", (transfer_id,))}
        return Transfer(int(r[0]), r[1], r[2], r[3], r[4], lines, r[5])

    def transfers(self) -> list[Transfer]:
        with self._lock:
            db = self._db()
            return [self._transfer(db, int(r[0])) for r in db.execute("SELECT id FROM transfers ORDER BY id DESC")]

    def _check_lines(self, lines: dict[str, int]) -> None:
        if not lines or any(a <= 0 for a in lines.values()):
            raise InvalidMoveError("a transfer moves positive amounts of at least one SKU")

    def transfer_out(self, to_shop: str, lines: dict[str, int], *, ref: str, at: datetime | None = None) -> Transfer:
        """Send stock to another shop: ``transfer`` moves out now; the other shop books them
        in when it receives them (through HQ)."""
        self._check_lines(lines)
        when = at or self._now()
        with self._write() as db:
            try:
                cur = db.execute(
                    "INSERT INTO transfers (direction, shop, ref, status, created_at) VALUES ('out', ?, ?, 'sent', ?)",
                    (to_shop, ref, iso_utc(when)),
                )
            except sqlite3.IntegrityError:
                raise TransferConflictError(f"transfer {ref} to {to_shop} already exists") from None
            tid = int(cur.lastrowid or 0)
            db.executemany("INSERT INTO transfer_lines (transfer_id, sku, amount) VALUES (?, ?, ?)", [(tid, s, a) for s, a in sorted(lines.items())])
            moves = []
            for sku, amount in sorted(lines.items()):
                qty, grams = self._split(sku, -amount)
                moves.append(Move("transfer", sku, qty, grams, f"transfer:{ref}", self._source, when))
            record_moves(db, moves)
            return self._transfer(db, tid)

    def transfer_in(self, from_shop: str, lines: dict[str, int], *, ref: str, at: datetime | None = None) -> Transfer:
        """Receive stock sent by another shop. Idempotent by ``(from_shop, ref)``: the same
        transfer announced twice is booked once; with other lines it is refused."""
        self._check_lines(lines)
        when = at or self._now()
        with self._write() as db:
            row = db.execute("SELECT id FROM transfers WHERE direction = 'in' AND shop = ? AND ref = ?", (from_shop, ref)).fetchone()
            if row is not None:
                existing = self._transfer(db, int(row[0]))
                if existing.lines != dict(lines):
                    raise TransferConflictError(f"transfer {ref} from {from_shop} was already received with other lines")
                return existing
            cur = db.execute(
                "INSERT INTO transfers (direction, shop, ref, status, created_at, received_at) VALUES ('in', ?, ?, 'received', ?, ?)",
                (from_shop, ref, iso_utc(when), iso_utc(when)),
            )
            tid = int(cur.lastrowid or 0)
            db.executemany("INSERT INTO transfer_lines (transfer_id, sku, amount) VALUES (?, ?, ?)", [(tid, s, a) for s, a in sorted(lines.items())])
            moves = []
            for sku, amount in sorted(lines.items()):
                qty, grams = self._split(sku, amount)
                moves.append(Move("transfer", sku, qty, grams, f"transfer:{ref}", from_shop, when))
            record_moves(db, moves)
            return self._transfer(db, tid)

    def mark_transfer_received(self, transfer_id: int) -> Transfer:
        """The receiving shop confirmed (reported by HQ): close the outgoing transfer."""
        with self._write() as db:
            t = self._transfer(db, transfer_id)
            if t.direction != "out":
                raise TransferConflictError(f"transfer {transfer_id} is incoming")
            db.execute("UPDATE transfers SET status = 'received', received_at = ? WHERE id = ?", (iso_utc(self._now()), transfer_id))
            return self._transfer(db, transfer_id)
