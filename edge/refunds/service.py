"""Returns and refunds against a sale in the ledger.

A refund is found by the receipt's code (the sale id printed as CODE128/QR, or
``<kiosk>-<seq>``), names lines and quantities, and gives back the lines' net amounts:

* **one transaction** on the edge database writes the refund record (own tables), a ``return``
  stock move per line (:func:`edge.stock.moves.record_moves`), the audit entry and the HQ
  outbox row (kind ``refund``); every check (left to return, left per payment method) is made
  again inside that transaction, so two desks refunding the same sale cannot both succeed;
* then the member's side, through :class:`~edge.members.MemberStore` (its own transactions,
  each idempotent by the refund id): points earned on the refunded share taken back, stored
  value given back when the sale was paid with it (or the refund credited as stored value),
  points used as payment given back. The refund row records when this is done; a refund whose
  member side failed half-way is finished by :meth:`RefundService.finish_pending` or by
  retrying the same request;
* a refund id is an idempotency key: the same request again returns the first refund; the same
  id with another request is refused (:class:`RefundConflictError`).

Refunds need a staff member whose role has ``refunds.create``.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, Literal, Sequence

from broker.contract import Sale
from edge.db import SqliteComponent
from edge.ledger.migrations import migrate as migrate_ledger
from edge.refunds.errors import (
    InvalidRefundError,
    RefundConflictError,
    RefundPermissionError,
    RefundsClosedError,
    SaleNotFoundError,
    UnknownRefundError,
)
from edge.refunds.migrations import STEPS
from edge.refunds.rules import (
    LineAmount,
    ReturnLine,
    SoldLine,
    line_refund,
    paid_by_method,
    request_hash,
    split_by_method,
)
from edge.schema import migrate_component
from edge.staff.audit import audit, ensure_audit_schema
from edge.stock.moves import Move, record_moves
from retail.clock import Clock
from retail.money import Money

__all__ = ["PERMISSION", "Refund", "RefundMode", "RefundService", "SaleForRefund"]

log = logging.getLogger(__name__)

PERMISSION = "refunds.create"
RefundMode = Literal["original", "stored_value"]
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _actor_of(actor: Any) -> str:
    """The staff id of ``actor`` (a :class:`~edge.staff.Principal`), checking its permission."""
    can = getattr(actor, "can", None)
    if can is None or not callable(can):
        raise RefundPermissionError("a refund needs a signed-in staff member")
    if not can(PERMISSION):
        raise RefundPermissionError(f"{getattr(actor, 'id', '?')} lacks {PERMISSION}")
    return str(actor.id)


@dataclass(frozen=True, slots=True)
class SaleForRefund:
    """A sale as a refund desk sees it: lines with what is left to return, and payments."""

    kiosk_id: str
    sale_id: str
    seq: int
    business_date: date
    currency: str
    member_id: str | None
    total_minor: int
    lines: tuple[SoldLine, ...]
    returned: dict[int, int]
    paid: dict[str, int]
    refunded: dict[str, int]
    refund_ids: tuple[str, ...] = ()

    @property
    def sale_ref(self) -> str:
        return f"sale:{self.kiosk_id}:{self.sale_id}"

    def left(self, line: SoldLine) -> int:
        whole = line.quantity if line.quantity is not None else (line.weight_g or 0)
        return whole - self.returned.get(line.line_no, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kiosk_id": self.kiosk_id, "sale_id": self.sale_id, "seq": self.seq,
            "business_date": self.business_date.isoformat(), "currency": self.currency,
            "member_id": self.member_id, "total_minor": self.total_minor,
            "lines": [
                {"line_no": l.line_no, "sku": l.sku, "name": l.name, "quantity": l.quantity, "weight_g": l.weight_g,
                 "net_minor": l.net_minor, "tax_rate_bp": l.tax_rate_bp, "left": self.left(l),
                 "weighed": l.quantity is None}
                for l in self.lines
            ],
            "paid": dict(self.paid), "refunded": dict(self.refunded), "refund_ids": list(self.refund_ids),
        }


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund record."""

    refund_id: str
    kiosk_id: str
    sale_id: str
    sale_seq: int
    member_id: str | None
    business_date: date
    mode: str
    total: Money
    tax: Money
    reason: str
    actor: str
    created_at: datetime
    lines: tuple[LineAmount, ...]
    payments: tuple[tuple[str, str, int], ...]
    """``(method paid, refunded as, amount_minor)``"""
    members_done: bool
    members_note: str = ""
    replayed: bool = field(default=False, compare=False)

    @property
    def sale_ref(self) -> str:
        return f"sale:{self.kiosk_id}:{self.sale_id}"

    def by_method(self) -> dict[str, int]:
        """Amounts by where the money went back (``refunded_as``)."""
        out: dict[str, int] = {}
        for _, to, amount in self.payments:
            out[to] = out.get(to, 0) + amount
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "tillpi.refund/1",
            "refund_id": self.refund_id, "kiosk_id": self.kiosk_id, "sale_id": self.sale_id,
            "sale_seq": self.sale_seq, "member_id": self.member_id,
            "business_date": self.business_date.isoformat(), "mode": self.mode,
            "currency": self.total.currency, "total_minor": self.total.minor, "tax_minor": self.tax.minor,
            "reason": self.reason, "actor": self.actor, "created_at": self.created_at.isoformat(),
            "lines": [
                {"line_no": l.line_no, "sku": l.sku, "name": l.name, "quantity": l.quantity, "weight_g": l.weight_g,
                 "net_minor": l.net_minor, "tax_rate_bp": l.tax_rate_bp, "tax_minor": l.tax_minor}
                for l in self.lines
            ],
            "payments": [{"method": m, "refunded_as": to, "amount_minor": a} for m, to, a in self.payments],
            "members_done": self.members_done, "members_note": self.members_note,
        }


def _migrate(conn: sqlite3.Connection) -> None:
    migrate_ledger(conn)
    ensure_audit_schema(conn)
    migrate_component(conn, "refunds", STEPS)


class RefundService(SqliteComponent):
    """Refunds over the edge database at ``path`` (context manager; idempotent ``close()``;
    thread-safe). ``members`` is the shop's member store (points and stored value);
    ``shop_timezone`` decides a refund's business date."""

    _closed_error = RefundsClosedError
    _closed_message = "the refund service is closed"

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock,
        members: Any | None = None,
        shop_timezone: tzinfo = timezone.utc,
        store_id: str = "",
    ) -> None:
        self._clock = clock
        self._members = members
        self._tz = shop_timezone
        self._store_id = store_id
        super().__init__(path, migrations=_migrate)

    # -- finding the sale -------------------------------------------------------------------------
    def _sale_row(self, db: sqlite3.Connection, code: str) -> tuple[Any, ...]:
        code = (code or "").strip()
        if not code:
            raise SaleNotFoundError("scan or type the receipt's code")
        if code.startswith("sale:") and code.count(":") == 2:
            _, kiosk, sale_id = code.split(":")
            rows = db.execute("SELECT id, kiosk_id, sale_id, seq, body FROM sales WHERE kiosk_id = ? AND sale_id = ?",
                              (kiosk, sale_id)).fetchall()
        elif _UUID_RE.match(code.lower()):
            rows = db.execute("SELECT id, kiosk_id, sale_id, seq, body FROM sales WHERE sale_id = ?",
                              (code.lower(),)).fetchall()
        else:
            kiosk, _, seq = code.rpartition("-")
            if not kiosk or not seq.isdigit():
                raise SaleNotFoundError(f"{code!r} is neither a sale id nor <kiosk>-<seq>")
            rows = db.execute("SELECT id, kiosk_id, sale_id, seq, body FROM sales WHERE kiosk_id = ? AND seq = ?",
                              (kiosk, int(seq))).fetchall()
        if not rows:
            raise SaleNotFoundError(f"no sale {code!r} in this shop's ledger")
        if len(rows) > 1:
            raise SaleNotFoundError(f"{code!r} matches {len(rows)} sales; use <kiosk>-<seq>")
        return tuple(rows[0])

    def _sale(self, db: sqlite3.Connection, code: str) -> SaleForRefund:
        _row, kiosk_id, sale_id, seq, body = self._sale_row(db, code)
        sale = Sale.model_validate_json(body)
        lines = tuple(
            SoldLine(n, l.sku, l.name, l.quantity, l.weight_g, l.net_minor, l.tax_rate_bp, l.tax_minor)
            for n, l in enumerate(sale.lines, start=1)
        )
        returned: dict[int, int] = {}
        for line_no, qty, grams in db.execute(
            "SELECT l.line_no, SUM(COALESCE(l.quantity, 0)), SUM(COALESCE(l.weight_g, 0)) FROM refund_lines l"
            " JOIN refunds r ON r.refund_id = l.refund_id WHERE r.kiosk_id = ? AND r.sale_id = ? GROUP BY l.line_no",
            (kiosk_id, sale_id),
        ):
            returned[int(line_no)] = int(qty) + int(grams)
        refunded = {
            str(m): int(a)
            for m, a in db.execute(
                "SELECT p.method, SUM(p.amount_minor) FROM refund_payments p JOIN refunds r ON r.refund_id = p.refund_id"
                " WHERE r.kiosk_id = ? AND r.sale_id = ? GROUP BY p.method",
                (kiosk_id, sale_id),
            )
        }
        ids = tuple(str(r[0]) for r in db.execute(
            "SELECT refund_id FROM refunds WHERE kiosk_id = ? AND sale_id = ? ORDER BY created_at, refund_id",
            (kiosk_id, sale_id)))
        paid = paid_by_method([(p.method, p.amount_minor) for p in sale.payments], sale.change_minor)
        return SaleForRefund(kiosk_id, sale_id, int(seq), sale.business_date, sale.currency, sale.member_id,
                             sale.totals.total_minor, lines, returned, paid, refunded, ids)

    def find_sale(self, code: str) -> SaleForRefund:
        """The sale behind a receipt code, with what is left to return and refund."""
        with self._reading() as db:
            return self._sale(db, code)

    # -- refunds ----------------------------------------------------------------------------------
    def _load(self, db: sqlite3.Connection, refund_id: str) -> Refund | None:
        row = db.execute(
            "SELECT refund_id, kiosk_id, sale_id, sale_seq, member_id, business_date, mode, total_minor, tax_minor,"
            " currency, reason, actor, created_at, members_done, members_note FROM refunds WHERE refund_id = ?",
            (refund_id,),
        ).fetchone()
        if row is None:
            return None
        lines = tuple(
            LineAmount(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), int(r[7]))
            for r in db.execute(
                "SELECT line_no, sku, name, quantity, weight_g, net_minor, tax_rate_bp, tax_minor FROM refund_lines"
                " WHERE refund_id = ? ORDER BY line_no", (refund_id,))
        )
        payments = tuple(
            (str(r[0]), str(r[1]), int(r[2]))
            for r in db.execute("SELECT method, refunded_as, amount_minor FROM refund_payments WHERE refund_id = ?"
                                " ORDER BY method", (refund_id,))
        )
        currency = row[9]
        return Refund(row[0], row[1], row[2], int(row[3]), row[4], date.fromisoformat(row[5]), row[6],
                      Money(int(row[7]), currency), Money(int(row[8]), currency), row[10], row[11],
                      datetime.fromisoformat(row[12]), lines, payments, bool(row[13]), row[14])

    def get(self, refund_id: str) -> Refund:
        with self._reading() as db:
            found = self._load(db, refund_id)
        if found is None:
            raise UnknownRefundError(f"no refund {refund_id!r}")
        return found

    def refunds(self, *, business_date: date | None = None, kiosk_id: str | None = None,
                sale_id: str | None = None) -> list[Refund]:
        clauses, args = [], []
        for column, value in (("business_date", business_date.isoformat() if business_date else None),
                              ("kiosk_id", kiosk_id), ("sale_id", sale_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._reading() as db:
            ids = [r[0] for r in db.execute(f"SELECT refund_id FROM refunds{where} ORDER BY created_at, refund_id", args)]
            return [r for r in (self._load(db, i) for i in ids) if r is not None]

    def refund(
        self,
        refund_id: str,
        sale_code: str,
        lines: Sequence[ReturnLine],
        *,
        actor: Any,
        mode: RefundMode = "original",
        reason: str = "",
    ) -> Refund:
        """Refund ``lines`` of the sale behind ``sale_code`` (see the module docstring).

        ``actor`` is the staff :class:`~edge.staff.Principal` doing it. Returns the refund; a
        repeat of the same request returns the first one with ``replayed=True``.
        """
        actor_id = _actor_of(actor)
        if not isinstance(refund_id, str) or not _ID_RE.match(refund_id):
            raise InvalidRefundError("a refund id is 1-64 letters, digits, '-', '_', '.', ':'")
        if mode not in ("original", "stored_value"):
            raise InvalidRefundError(f"refund to 'original' or 'stored_value', not {mode!r}")
        wanted = list(lines)
        if not wanted:
            raise InvalidRefundError("name at least one line to refund")
        if len({w.line_no for w in wanted}) != len(wanted):
            raise InvalidRefundError("a line is named twice")
        if len(reason) > 500:
            raise InvalidRefundError("the reason is at most 500 characters")

        now = self._clock.now()
        with self._write() as db:
            sale = self._sale(db, sale_code)
            digest = request_hash(sale.kiosk_id, sale.sale_id, wanted, mode)
            existing = self._load(db, refund_id)
            if existing is not None:
                stored = db.execute("SELECT request_hash FROM refunds WHERE refund_id = ?", (refund_id,)).fetchone()[0]
                if stored != digest:
                    raise RefundConflictError(f"refund id {refund_id!r} was used for another refund")
            else:
                self._insert(db, refund_id, sale, wanted, mode, reason, actor_id, digest, now)
        if existing is not None:
            log.info("refund %s repeated; returning the first", refund_id)
            done = existing if existing.members_done else self._finish(refund_id)
            return replace(done, replayed=True)
        return self._finish(refund_id)

    def _insert(self, db: sqlite3.Connection, refund_id: str, sale: SaleForRefund, wanted: list[ReturnLine],
                mode: str, reason: str, actor_id: str, digest: str, now: datetime) -> None:
        by_no = {line.line_no: line for line in sale.lines}
        amounts: list[LineAmount] = []
        for w in sorted(wanted, key=lambda w: w.line_no):
            line = by_no.get(w.line_no)
            if line is None:
                raise InvalidRefundError(f"the sale has no line {w.line_no} (lines 1..{len(sale.lines)})")
            amounts.append(line_refund(line, sale.returned.get(line.line_no, 0), w))
        total = sum(a.net_minor for a in amounts)
        tax = sum(a.tax_minor for a in amounts)
        if total <= 0:
            raise InvalidRefundError("these lines cost nothing; there is nothing to refund")
        if mode == "stored_value" and not sale.member_id:
            raise InvalidRefundError("only a member's sale can be refunded as stored value")
        split = split_by_method(total, sale.paid, sale.refunded)
        if (split.get("stored_value") or split.get("points")) and not sale.member_id:
            raise InvalidRefundError("the sale was paid with stored value or points but names no member")
        payments = []
        for method, amount in sorted(split.items()):
            to = method if mode == "original" or method == "points" else "stored_value"
            payments.append((method, to, amount))
        business_date = now.astimezone(self._tz).date()
        needs_members = bool(sale.member_id)
        db.execute(
            "INSERT INTO refunds (refund_id, kiosk_id, sale_id, sale_seq, member_id, business_date, mode, total_minor,"
            " tax_minor, currency, reason, actor, created_at, request_hash, members_done)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (refund_id, sale.kiosk_id, sale.sale_id, sale.seq, sale.member_id, business_date.isoformat(), mode, total,
             tax, sale.currency, reason, actor_id, now.isoformat(), digest, 0 if needs_members else 1),
        )
        db.executemany(
            "INSERT INTO refund_lines (refund_id, line_no, sku, name, quantity, weight_g, net_minor, tax_rate_bp,"
            " tax_minor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(refund_id, a.line_no, a.sku, a.name, a.quantity, a.weight_g, a.net_minor, a.tax_rate_bp, a.tax_minor)
             for a in amounts],
        )
        db.executemany(
            "INSERT INTO refund_payments (refund_id, method, refunded_as, amount_minor) VALUES (?, ?, ?, ?)",
            [(refund_id, m, to, a) for m, to, a in payments],
        )
        record_moves(db, [
            Move("return", a.sku, qty=a.quantity or 0, grams=a.weight_g or 0, ref=f"refund:{refund_id}",
                 source="refund", at=now)
            for a in amounts
        ])
        record = self._load(db, refund_id)
        if record is None:  # pragma: no cover - inserted just above
            raise InvalidRefundError("the refund vanished inside its transaction")
        payload = dict(record.to_dict(), store_id=self._store_id)
        audit(db, actor=actor_id, action="refund.create", target=f"sale:{sale.kiosk_id}:{sale.sale_id}",
              before={"refunded": sale.refunded},
              after={"refund_id": refund_id, "total_minor": total, "mode": mode,
                     "payments": payload["payments"], "lines": [[a.line_no, a.quantity, a.weight_g] for a in amounts]},
              detail=reason, at=now)
        db.execute(
            "INSERT INTO hq_outbox (kind, ref, payload, created_at) VALUES ('refund', ?, ?, ?)",
            (f"refund/{refund_id}", json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8"),
             now.isoformat()),
        )
        log.info("refund %s of %s/%s: %d %s to %s", refund_id, sale.kiosk_id, sale.sale_id, total, sale.currency, mode)

    # -- the member's side ------------------------------------------------------------------------
    def _finish(self, refund_id: str) -> Refund:
        refund = self.get(refund_id)
        if refund.members_done:
            return refund
        note = ""
        try:
            self._apply_members(refund)
        except Exception as exc:  # the refund stands; the member side is retried later
            note = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("refund %s: member side pending: %s", refund_id, note)
            with self._write() as db:
                db.execute("UPDATE refunds SET members_note = ? WHERE refund_id = ?", (note, refund_id))
        else:
            with self._write() as db:
                db.execute("UPDATE refunds SET members_done = 1, members_note = '' WHERE refund_id = ?", (refund_id,))
        return self.get(refund_id)

    def _apply_members(self, refund: Refund) -> None:
        members = self._members
        member_id = refund.member_id
        if member_id is None:
            return
        if members is None:
            raise InvalidRefundError("no member store is configured on this edge")
        from edge.members import AccrualProcessor

        sale_ref = refund.sale_ref
        actor = refund.actor
        currency = refund.total.currency
        with members.reading() as mdb:
            credited = mdb.execute("SELECT 1 FROM member_purchases WHERE sale_ref = ?", (sale_ref,)).fetchone()
        if credited is None:
            AccrualProcessor(members).run()  # the sale may not be credited yet: catch up first
        members.reverse_points_for_refund(member_id, sale_ref=sale_ref, refund_ref=refund.refund_id,
                                          refunded=refund.total, actor=actor)
        for method, to, amount in refund.payments:
            money = Money(amount, currency)
            if method == "stored_value":
                members.refund_stored_value(member_id, money, sale_ref=sale_ref, ref=f"refund:{refund.refund_id}",
                                            actor=actor)
            elif method == "points":
                program = members.program
                points, rest = divmod(amount * program.redeem_unit_points, program.redeem_unit_amount.minor)
                points += 1 if rest else 0
                members.adjust_points(member_id, points, reason=f"refund {refund.refund_id}: points paid back",
                                      actor=actor, ref=f"refund-points:{refund.refund_id}")
            elif to == "stored_value":
                self._credit_stored_value(members, member_id, money, refund)

    @staticmethod
    def _credit_stored_value(members: Any, member_id: str, amount: Money, refund: Refund) -> None:
        """Credit a refund of a card/cash/mobile payment to the member's stored value (no top-up
        bonus; idempotent by the refund id). The member store has no public call for this, so it
        writes through the store's own ledger helpers inside the store's transaction."""
        from retail.loyalty import MovementKind, StoredValueMovement

        ref = f"refund-credit:{refund.refund_id}:{refund.kiosk_id}"
        now = members.now()
        with members.transaction() as mdb:
            members._get(mdb, member_id)
            if members._sv_existing(mdb, member_id, "refund", ref) is not None:
                return
            balance = members._money(members._sv_balance(mdb, member_id))
            move = StoredValueMovement(MovementKind.REFUND, amount, Money.zero(amount.currency), balance,
                                       balance + amount)
            members._sv_record(mdb, member_id, move, ref=ref, sale_ref=f"credit:{refund.sale_ref}",
                               actor=refund.actor, at=now)
            audit(mdb, actor=refund.actor, action="member.stored_value.refund_credit", target=f"member:{member_id}",
                  before={"balance_minor": balance.minor},
                  after={"balance_minor": (balance + amount).minor, "refund_id": refund.refund_id}, at=now)

    def finish_pending(self) -> int:
        """Finish the member side of refunds whose earlier attempt failed; returns how many
        are now done."""
        with self._reading() as db:
            ids = [r[0] for r in db.execute("SELECT refund_id FROM refunds WHERE members_done = 0 ORDER BY created_at")]
        return sum(1 for i in ids if self._finish(i).members_done)
