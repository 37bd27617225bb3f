"""Closing a business day: the Z report recorded once, immutable, queued for HQ.

:meth:`DayCloseService.close` computes the report from the ledger's sales of that business
date and the refunds made on it, and stores it with the highest sale row and refund row it
included (``day_closes``; SQLite triggers refuse UPDATE and DELETE), an audit entry and an HQ
outbox row (kind ``day_close``), in one transaction. Closing again returns the same report.

Sales that arrive after the close for a closed date (an offline kiosk catching up) and refunds
recorded on it after the close do not change the closed figures: :meth:`DayCloseService.report`
shows them as a ``late`` addendum with the same layout.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import date, timezone, tzinfo
from pathlib import Path
from typing import Any

from edge.dayclose.errors import DayCloseClosedError, InvalidDayError
from edge.dayclose.migrations import STEPS
from edge.dayclose.report import RefundFacts, SaleFacts, build_report
from edge.db import SqliteComponent
from edge.ledger.migrations import migrate as migrate_ledger
from edge.refunds.migrations import STEPS as REFUND_STEPS
from edge.schema import migrate_component
from edge.staff.audit import audit, ensure_audit_schema
from retail.clock import Clock

__all__ = ["DayCloseService"]

log = logging.getLogger(__name__)


def _sale_facts(kiosk_id: str, seq: int, body: str) -> SaleFacts:
    data = json.loads(body)
    rates: dict[int, tuple[int, int]] = {}
    for line in data["lines"]:
        rate = int(line["tax_rate_bp"])
        amount, tax = rates.get(rate, (0, 0))
        rates[rate] = (amount + int(line["net_minor"]), tax + int(line["tax_minor"]))
    totals = data["totals"]
    return SaleFacts(
        kiosk_id, int(seq), int(totals["subtotal_minor"]), int(totals["savings_minor"]), int(totals["total_minor"]),
        rates, [(p["method"], int(p["amount_minor"])) for p in data["payments"]], int(data.get("change_minor", 0)),
    )


def _migrate(conn: sqlite3.Connection) -> None:
    migrate_ledger(conn)
    ensure_audit_schema(conn)
    migrate_component(conn, "refunds", REFUND_STEPS)
    migrate_component(conn, "dayclose", STEPS)


class DayCloseService(SqliteComponent):
    """Z reports and day closes over the edge database at ``path`` (context manager;
    idempotent ``close()``; thread-safe)."""

    _closed_error = DayCloseClosedError
    _closed_message = "the day-close service is closed"

    def __init__(self, path: str | Path, *, clock: Clock, store_id: str = "", currency: str = "CNY",
                 shop_timezone: tzinfo = timezone.utc) -> None:
        self._clock = clock
        self._store_id = store_id
        self._currency = currency
        self._tz = shop_timezone
        super().__init__(path, migrations=_migrate)

    def local_today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()

    # -- figures --------------------------------------------------------------------------------
    def _compute(self, db: sqlite3.Connection, day: date, *, sales_after: int = 0, sales_upto: int | None = None,
                 refunds_after: int = 0, refunds_upto: int | None = None, gaps: bool = True) -> dict[str, Any]:
        d = day.isoformat()
        sql = "SELECT kiosk_id, seq, body, currency FROM sales WHERE business_date = ? AND id > ?"
        args: list[Any] = [d, sales_after]
        if sales_upto is not None:
            sql += " AND id <= ?"
            args.append(sales_upto)
        rows = db.execute(sql + " ORDER BY kiosk_id, seq", args).fetchall()
        sales = [_sale_facts(k, s, b) for k, s, b, _ in rows]
        currency = str(rows[0][3]) if rows else self._currency
        rsql = ("SELECT rowid, refund_id, kiosk_id, total_minor FROM refunds WHERE business_date = ? AND rowid > ?")
        rargs: list[Any] = [d, refunds_after]
        if refunds_upto is not None:
            rsql += " AND rowid <= ?"
            rargs.append(refunds_upto)
        refunds = []
        for _rowid, refund_id, kiosk_id, total in db.execute(rsql + " ORDER BY rowid", rargs).fetchall():
            rates = {int(r): (int(a), int(t)) for r, a, t in db.execute(
                "SELECT tax_rate_bp, SUM(net_minor), SUM(tax_minor) FROM refund_lines WHERE refund_id = ?"
                " GROUP BY tax_rate_bp", (refund_id,))}
            methods = {str(m): int(a) for m, a in db.execute(
                "SELECT refunded_as, SUM(amount_minor) FROM refund_payments WHERE refund_id = ? GROUP BY refunded_as",
                (refund_id,))}
            refunds.append(RefundFacts(refund_id, kiosk_id, int(total), rates, methods))
        open_gaps: dict[str, list[tuple[int, int]]] = {}
        if gaps:
            for kiosk_id, first, last in db.execute(
                    "SELECT kiosk_id, first_seq, last_seq FROM sequence_gaps WHERE cleared_at IS NULL ORDER BY id"):
                open_gaps.setdefault(str(kiosk_id), []).append((int(first), int(last)))
            kiosks = {s.kiosk_id for s in sales}
            open_gaps = {k: v for k, v in open_gaps.items() if k in kiosks}
        return build_report(day, currency, sales, refunds, open_gaps)

    def _high_waters(self, db: sqlite3.Connection) -> tuple[int, int]:
        sales = db.execute("SELECT COALESCE(MAX(id), 0) FROM sales").fetchone()[0]
        refunds = db.execute("SELECT COALESCE(MAX(rowid), 0) FROM refunds").fetchone()[0]
        return int(sales), int(refunds)

    def _closed(self, db: sqlite3.Connection, day: date) -> tuple[dict[str, Any], int, int] | None:
        row = db.execute("SELECT report, sales_high_water, refunds_high_water FROM day_closes WHERE business_date = ?",
                         (day.isoformat(),)).fetchone()
        return None if row is None else (json.loads(row[0]), int(row[1]), int(row[2]))

    # -- public ---------------------------------------------------------------------------------
    def report(self, day: date) -> dict[str, Any]:
        """The day's report: the closed one plus its ``late`` addendum, or the live figures
        (``closed`` false) while the day is open."""
        with self._lock:
            db = self._db()
            closed = self._closed(db, day)
            if closed is None:
                return dict(self._compute(db, day), closed=False)
            report, sales_hw, refunds_hw = closed
            late = self._compute(db, day, sales_after=sales_hw, refunds_after=refunds_hw, gaps=False)
        return dict(report, late=late)

    def close_day(self, day: date, *, actor: str) -> dict[str, Any]:
        """Close ``day`` once; closing again returns the same report (with any late addendum)."""
        if not isinstance(day, date):
            raise InvalidDayError(f"a business date, not {day!r}")
        if day > self.local_today():
            raise InvalidDayError(f"{day.isoformat()} has not happened yet")
        now = self._clock.now()
        with self._write() as db:
            if self._closed(db, day) is None:
                sales_hw, refunds_hw = self._high_waters(db)
                report = self._compute(db, day, sales_upto=sales_hw, refunds_upto=refunds_hw)
                report.update(closed=True, closed_at=now.isoformat(), closed_by=actor, store_id=self._store_id)
                text = json.dumps(report, sort_keys=True, ensure_ascii=False)
                db.execute(
                    "INSERT INTO day_closes (business_date, closed_at, closed_by, sales_high_water, refunds_high_water,"
                    " report) VALUES (?, ?, ?, ?, ?, ?)",
                    (day.isoformat(), now.isoformat(), actor, sales_hw, refunds_hw, text),
                )
                audit(db, actor=actor, action="dayclose.close", target=f"day:{day.isoformat()}",
                      after={"sales": report["shop"]["sales"], "net_minor": report["shop"]["net_minor"],
                             "cash_expected_minor": report["shop"]["cash_expected_minor"]}, at=now)
                db.execute("INSERT INTO hq_outbox (kind, ref, payload, created_at) VALUES ('day_close', ?, ?, ?)",
                           (f"day_close/{self._store_id}/{day.isoformat()}", text.encode("utf-8"), now.isoformat()))
                log.info("day %s closed by %s: %d sales", day, actor, report["shop"]["sales"])
        return self.report(day)

    def closed_days(self) -> list[date]:
        with self._lock:
            return [date.fromisoformat(r[0]) for r in
                    self._db().execute("SELECT business_date FROM day_closes ORDER BY business_date")]
