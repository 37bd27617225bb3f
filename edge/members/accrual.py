"""Points accrual from the sales ledger.

The ingest writes every sale to the ledger's ``sales`` table; this processor reads the sales
after its cursor and, **in one transaction with the points rows, stored-value spends and the
cursor**, credits each member sale. A crash anywhere rolls all of it back, so a rerun picks up
exactly where the last commit left off: nothing is counted twice and nothing is skipped. Each
sale is also keyed by ``sale:<kiosk>:<sale_id>`` in ``member_purchases`` (a second guard).

A sale that cannot be credited (unknown member, another currency, points or stored value the
member no longer has) is written to ``member_accrual_issues`` for a person to look at; it
never blocks the sales behind it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from edge.members.errors import MemberNotFoundError
from edge.members.store import MemberStore
from edge.notify.messages import MessageKind, render
from edge.notify.outbox import enqueue
from retail.errors import LoyaltyError
from retail.loyalty import eligible_spend, level_by_code, points_earned
from retail.money import Money

__all__ = ["AccrualProcessor", "AccrualReport", "CURSOR_NAME"]

log = logging.getLogger(__name__)

CURSOR_NAME = "sales"
ACTOR = "accrual"


@dataclass(frozen=True, slots=True)
class AccrualReport:
    sales_read: int = 0
    member_sales: int = 0
    points_earned: int = 0
    issues: int = 0
    cursor: int = 0

    def __add__(self, other: AccrualReport) -> AccrualReport:
        return AccrualReport(self.sales_read + other.sales_read, self.member_sales + other.member_sales,
                             self.points_earned + other.points_earned, self.issues + other.issues, other.cursor)


@dataclass(frozen=True, slots=True)
class _Outcome:
    member_sale: bool = False
    points: int = 0
    issue: bool = False


class AccrualProcessor:
    """Credits member sales from the ledger's ``sales`` table (same database as the store)."""

    def __init__(self, store: MemberStore, *, batch_size: int = 200) -> None:
        if batch_size < 1:
            raise ValueError("batch_size is at least 1")
        self.store = store
        self.batch_size = batch_size

    def cursor(self) -> int:
        with self.store.reading() as db:
            return self._cursor(db)

    @staticmethod
    def _cursor(db: sqlite3.Connection) -> int:
        row = db.execute("SELECT last_sale_row FROM member_accrual_cursor WHERE name = ?", (CURSOR_NAME,)).fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _has_sales(db: sqlite3.Connection) -> bool:
        return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sales'").fetchone() is not None

    def run_once(self) -> AccrualReport:
        """Credit one batch of new sales; one transaction for the batch and the cursor."""
        with self.store.transaction() as db:
            if not self._has_sales(db):
                return AccrualReport()
            cursor = self._cursor(db)
            rows = db.execute(
                "SELECT id, kiosk_id, sale_id, body, received_at FROM sales WHERE id > ? ORDER BY id LIMIT ?",
                (cursor, self.batch_size),
            ).fetchall()
            members = points = issues = 0
            for row in rows:
                outcome = self._apply(db, row)
                members += outcome.member_sale
                points += outcome.points
                issues += outcome.issue
            if rows:
                cursor = int(rows[-1][0])
                db.execute(
                    "INSERT INTO member_accrual_cursor (name, last_sale_row) VALUES (?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET last_sale_row = excluded.last_sale_row",
                    (CURSOR_NAME, cursor),
                )
        if rows:
            log.info("accrual: %d sales, %d for members, %d points, %d issues", len(rows), members, points, issues)
        return AccrualReport(len(rows), members, points, issues, cursor)

    def run(self, *, max_batches: int | None = None) -> AccrualReport:
        """Run batches until caught up (or ``max_batches``)."""
        total = AccrualReport(cursor=self.cursor())
        batches = 0
        while max_batches is None or batches < max_batches:
            report = self.run_once()
            batches += 1
            total = total + report
            if report.sales_read < self.batch_size:
                break
        return total

    # -- one sale ------------------------------------------------------------------------------
    def _issue(self, db: sqlite3.Connection, row_id: int, sale_ref: str, member_id: str | None,
               reason: str, detail: str) -> None:
        log.warning("accrual issue on %s (%s): %s %s", sale_ref, member_id, reason, detail)
        db.execute(
            "INSERT INTO member_accrual_issues (sale_row, sale_ref, member_id, reason, detail, at) VALUES (?, ?, ?, ?, ?, ?)",
            (row_id, sale_ref, member_id, reason, detail[:500], self.store.now().isoformat()),
        )

    def _apply(self, db: sqlite3.Connection, row: tuple[Any, ...]) -> _Outcome:
        row_id, kiosk_id, sale_id, body_text, _received = row
        sale_ref = f"sale:{kiosk_id}:{sale_id}"
        try:
            body = json.loads(body_text)
        except (TypeError, ValueError) as err:
            self._issue(db, row_id, sale_ref, None, "unreadable", str(err))
            return _Outcome(issue=True)
        member_id = body.get("member_id")
        if not member_id:
            return _Outcome()
        store = self.store
        program = store.program
        try:
            member = store._get(db, member_id)
        except MemberNotFoundError:
            self._issue(db, row_id, sale_ref, member_id, "unknown_member", "the sale names a member this edge lacks")
            return _Outcome(issue=True)
        currency = body.get("currency")
        if currency != program.currency:
            self._issue(db, row_id, sale_ref, member_id, "currency", f"sale in {currency}, program in {program.currency}")
            return _Outcome(issue=True)
        if db.execute("SELECT 1 FROM member_purchases WHERE sale_ref = ?", (sale_ref,)).fetchone():
            return _Outcome()  # credited before (the cursor was moved back by hand)
        try:
            at = datetime.fromisoformat(body["finished_at"]).astimezone(timezone.utc)
            total = Money(int(body["totals"]["total_minor"]), currency)
            payments = body.get("payments") or []
            by_points = sum(int(p["amount_minor"]) for p in payments if p.get("method") == "points")
            by_sv = sum(int(p["amount_minor"]) for p in payments if p.get("method") == "stored_value")
        except (KeyError, TypeError, ValueError) as err:
            self._issue(db, row_id, sale_ref, member_id, "malformed", repr(err))
            return _Outcome(issue=True)

        issue = False
        try:
            level = level_by_code(program, member.level)
        except LoyaltyError:
            level = program.base_level
        try:
            eligible = eligible_spend(program, total, paid_with_points=Money(by_points, currency),
                                      paid_with_stored_value=Money(by_sv, currency))
        except LoyaltyError as err:
            self._issue(db, row_id, sale_ref, member_id, "malformed", str(err))
            return _Outcome(issue=True)
        earned = points_earned(program, level, eligible)
        db.execute(
            "INSERT INTO member_purchases (sale_ref, member_id, at, amount_minor, eligible_minor, points_earned)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (sale_ref, member_id, at.isoformat(), total.minor, eligible.minor, earned),
        )
        if earned > 0:
            store._add_points(db, member_id, "earned", earned, sale_ref, actor=ACTOR, at=at,
                              detail=f"{level.code} on {eligible.minor}")
        if by_points:
            unit_minor = program.redeem_unit_amount.minor
            points_used, rest = divmod(by_points * program.redeem_unit_points, unit_minor)
            balance = store._points_balance(db, member_id)
            if rest or points_used > balance:
                issue = True
                self._issue(db, row_id, sale_ref, member_id, "points",
                            f"paid {by_points} minor in points = {points_used} points (rest {rest}); balance {balance}")
            else:
                store._add_points(db, member_id, "redeemed", -points_used, sale_ref, actor=ACTOR, at=at,
                                  detail=f"paid {by_points} at the kiosk")
        if by_sv:
            try:
                store._spend(db, member_id, Money(by_sv, currency), ref=sale_ref, actor=ACTOR, at=at)
            except LoyaltyError as err:
                issue = True
                self._issue(db, row_id, sale_ref, member_id, "stored_value", str(err))
        db.execute(
            "UPDATE members SET last_purchase_at = ? WHERE id = ? AND (last_purchase_at IS NULL OR last_purchase_at < ?)",
            (at.isoformat(), member_id, at.isoformat()),
        )
        store._refresh_level(db, member_id, max(store.now(), at))
        if member.email and store.settings.e_receipts:
            self._queue_receipt(db, member_id, body, sale_ref, total, earned)
        return _Outcome(member_sale=True, points=earned, issue=issue)

    def _queue_receipt(self, db: sqlite3.Connection, member_id: str, body: dict[str, Any], sale_ref: str,
                       total: Money, earned: int) -> None:
        member = self.store._get(db, member_id)
        locale = "zh_CN" if member.language == "zh" else "en"
        lines = "\n".join(
            f"{line.get('name', '')}  {Money(int(line.get('net_minor', 0)), total.currency).format(locale)}"
            for line in body.get("lines", [])
        )
        message = render(
            MessageKind.E_RECEIPT, member.language, key=f"receipt:{sale_ref}", to=member.email or "",
            values={"store": self.store.settings.store_name, "name": member.name, "date": body.get("business_date", ""),
                    "lines": lines, "total": total.format(locale), "points": earned,
                    "points_balance": self.store._points_balance(db, member_id), "sale_ref": sale_ref},
        )
        enqueue(db, message, at=self.store.now())
