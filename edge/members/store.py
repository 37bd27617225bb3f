"""Members on the edge database: records, points ledger, stored value, levels, birthday
coupons and the win-back list (component ``members``).

The points and stored-value ledgers are append-only (SQLite triggers refuse UPDATE and
DELETE); balances are sums. Every rule decision comes from :mod:`retail.loyalty`; this module
only keeps the ledgers and calls the rules inside ``BEGIN IMMEDIATE`` transactions, so two
clerks topping up at once cannot both read the same balance.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from edge.db import SqliteComponent, connect
from edge.members.errors import DuplicateMemberError, InvalidMemberError, MemberNotFoundError, MembersError
from edge.members.model import (
    Member,
    card_payload,
    check_email,
    kiosk_view,
    months_before,
    normalise_phone,
    parse_card_payload,
    phone_query,
)
from edge.notify.messages import MessageKind, render
from edge.notify.outbox import enqueue, ensure_outbox_schema
from edge.schema import migrate_component
from edge.staff.audit import audit, ensure_audit_schema
from retail.clock import Clock
from retail.errors import LoyaltyError
from retail.loyalty import (
    BirthdayCouponRule,
    InsufficientPointsError,
    LoyaltyProgram,
    MovementKind,
    PointsRedemption,
    RefundExceedsSaleError,
    StoredValueMovement,
    StoredValueRules,
    birthday_coupon_due,
    birthday_coupon_year,
    birthday_in_year,
    expired_points,
    level_by_code,
    level_for,
    points_to_reverse,
    points_value,
    redeem_points,
    refund_stored_value,
    rolling_spend,
    spend_stored_value,
    top_up,
)
from retail.money import Money

__all__ = [
    "BirthdayCoupon",
    "MEMBERS_STEPS",
    "MemberSettings",
    "MemberStore",
    "PointsEntry",
    "PointsKind",
    "StoredValueEntry",
]

log = logging.getLogger(__name__)

POINTS_KINDS = ("earned", "redeemed", "reversed", "expired", "adjusted")
PointsKind = str

MEMBERS_STEPS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE members (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            phone TEXT NOT NULL UNIQUE,
            phone_last4 TEXT NOT NULL,
            email TEXT,
            language TEXT NOT NULL DEFAULT 'zh',
            birthday TEXT,
            level TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_purchase_at TEXT
        )""",
        "CREATE INDEX members_phone_last4 ON members (phone_last4)",
        "CREATE INDEX members_last_purchase ON members (last_purchase_at)",
        """CREATE TABLE member_points (
            id INTEGER PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members (id),
            kind TEXT NOT NULL CHECK (kind IN ('earned', 'redeemed', 'reversed', 'expired', 'adjusted')),
            points INTEGER NOT NULL CHECK (
                (kind = 'earned' AND points > 0) OR (kind = 'adjusted' AND points <> 0)
                OR (kind IN ('redeemed', 'reversed', 'expired') AND points < 0)),
            ref TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            actor TEXT NOT NULL,
            at TEXT NOT NULL,
            UNIQUE (member_id, kind, ref)
        )""",
        "CREATE INDEX member_points_member ON member_points (member_id, id)",
        """CREATE TRIGGER member_points_no_update BEFORE UPDATE ON member_points
           BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only'); END""",
        """CREATE TRIGGER member_points_no_delete BEFORE DELETE ON member_points
           BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only'); END""",
        """CREATE TABLE member_stored_value (
            id INTEGER PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members (id),
            kind TEXT NOT NULL CHECK (kind IN ('top_up', 'spend', 'refund')),
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
            bonus_minor INTEGER NOT NULL DEFAULT 0 CHECK (bonus_minor >= 0),
            delta_minor INTEGER NOT NULL,
            balance_after_minor INTEGER NOT NULL CHECK (balance_after_minor >= 0),
            currency TEXT NOT NULL,
            ref TEXT NOT NULL,
            sale_ref TEXT,
            actor TEXT NOT NULL,
            at TEXT NOT NULL,
            UNIQUE (member_id, kind, ref)
        )""",
        "CREATE INDEX member_stored_value_member ON member_stored_value (member_id, id)",
        """CREATE TRIGGER member_stored_value_no_update BEFORE UPDATE ON member_stored_value
           BEGIN SELECT RAISE(ABORT, 'the stored-value ledger is append-only'); END""",
        """CREATE TRIGGER member_stored_value_no_delete BEFORE DELETE ON member_stored_value
           BEGIN SELECT RAISE(ABORT, 'the stored-value ledger is append-only'); END""",
        """CREATE TABLE member_purchases (
            sale_ref TEXT PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members (id),
            at TEXT NOT NULL,
            amount_minor INTEGER NOT NULL,
            eligible_minor INTEGER NOT NULL,
            points_earned INTEGER NOT NULL
        )""",
        "CREATE INDEX member_purchases_member ON member_purchases (member_id, at)",
        """CREATE TABLE member_refunds (
            refund_ref TEXT PRIMARY KEY,
            sale_ref TEXT NOT NULL REFERENCES member_purchases (sale_ref),
            member_id TEXT NOT NULL REFERENCES members (id),
            at TEXT NOT NULL,
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0)
        )""",
        """CREATE TABLE member_birthday_coupons (
            id INTEGER PRIMARY KEY,
            member_id TEXT NOT NULL REFERENCES members (id),
            year INTEGER NOT NULL,
            code TEXT NOT NULL UNIQUE,
            valid_until TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            UNIQUE (member_id, year)
        )""",
        """CREATE TABLE member_accrual_cursor (
            name TEXT PRIMARY KEY,
            last_sale_row INTEGER NOT NULL
        )""",
        """CREATE TABLE member_accrual_issues (
            id INTEGER PRIMARY KEY,
            sale_row INTEGER NOT NULL,
            sale_ref TEXT NOT NULL,
            member_id TEXT,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
    ),
)


@dataclass(frozen=True, slots=True)
class MemberSettings:
    """The shop's loyalty rules and secrets for members."""

    program: LoyaltyProgram
    stored_value: StoredValueRules
    card_secret: bytes
    birthday_rule: BirthdayCouponRule | None = None
    timezone: tzinfo = timezone.utc
    store_name: str = "tillpi"
    e_receipts: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.card_secret, bytes) or len(self.card_secret) < 16:
            raise InvalidMemberError("the member card secret is at least 16 random bytes")
        if self.stored_value.currency != self.program.currency:
            raise InvalidMemberError("stored value and points must use the same currency")

    @property
    def currency(self) -> str:
        return self.program.currency


@dataclass(frozen=True, slots=True)
class PointsEntry:
    id: int
    member_id: str
    kind: str
    points: int
    ref: str
    detail: str
    actor: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "points": self.points, "ref": self.ref,
                "detail": self.detail, "actor": self.actor, "at": self.at.isoformat()}


@dataclass(frozen=True, slots=True)
class StoredValueEntry:
    id: int
    member_id: str
    kind: str
    amount: Money
    bonus: Money
    delta: Money
    balance_after: Money
    ref: str
    sale_ref: str | None
    actor: str
    at: datetime

    def as_json(self) -> dict[str, Any]:
        def m(x: Money) -> dict[str, Any]:
            return {"minor": x.minor, "currency": x.currency}
        return {"id": self.id, "kind": self.kind, "amount": m(self.amount), "bonus": m(self.bonus),
                "delta": m(self.delta), "balance_after": m(self.balance_after), "ref": self.ref,
                "sale_ref": self.sale_ref, "actor": self.actor, "at": self.at.isoformat()}


@dataclass(frozen=True, slots=True)
class BirthdayCoupon:
    member_id: str
    year: int
    code: str
    valid_until: date
    issued_at: datetime


_MEMBER = "id, name, phone, email, language, birthday, level, created_at, last_purchase_at"


def _member(row: tuple[Any, ...]) -> Member:
    return Member(
        id=row[0], name=row[1], phone=row[2], email=row[3], language=row[4],
        birthday=date.fromisoformat(row[5]) if row[5] else None, level=row[6],
        created_at=datetime.fromisoformat(row[7]),
        last_purchase_at=datetime.fromisoformat(row[8]) if row[8] else None,
    )


def _language(value: str) -> str:
    if not isinstance(value, str) or value.lower()[:2] not in ("en", "zh"):
        raise InvalidMemberError("language is 'en' or 'zh'")
    return value.lower()[:2]


def _migrate(conn: sqlite3.Connection) -> None:
    ensure_audit_schema(conn)
    ensure_outbox_schema(conn)
    migrate_component(conn, "members", MEMBERS_STEPS)


class MemberStore(SqliteComponent):
    """Members and their ledgers (context manager; ``close()`` is idempotent; thread-safe)."""

    _closed_error = MembersError
    _closed_message = "the member store is closed"

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock, settings: MemberSettings,
                 owns_connection: bool = False) -> None:
        self._clock = clock
        self.settings = settings
        self.program = settings.program
        super().__init__(conn, migrations=_migrate, owns_connection=owns_connection)

    @classmethod
    def open(cls, path: str | Path, *, clock: Clock, settings: MemberSettings) -> MemberStore:
        return cls(connect(path), clock=clock, settings=settings, owns_connection=True)

    # -- plumbing ------------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``); all or nothing."""
        return self._write()

    def reading(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._reading()

    def now(self) -> datetime:
        return self._clock.now()

    def local_today(self) -> date:
        return self._clock.now().astimezone(self.settings.timezone).date()

    def _money(self, minor: int) -> Money:
        return Money(minor, self.settings.currency)

    def _get(self, db: sqlite3.Connection, member_id: str) -> Member:
        row = db.execute(f"SELECT {_MEMBER} FROM members WHERE id = ?", (member_id,)).fetchone()
        if row is None:
            raise MemberNotFoundError(f"no member {member_id!r}")
        return _member(row)

    # -- records -------------------------------------------------------------------------------
    def create(self, *, name: str, phone: str, actor: str, birthday: date | None = None,
               email: str | None = None, language: str = "zh") -> Member:
        """Enrol a member (queues a welcome message when there is an e-mail address)."""
        name = (name or "").strip()
        if not name or len(name) > 120:
            raise InvalidMemberError("a member needs a name of 1 to 120 characters")
        digits = normalise_phone(phone)
        email = check_email(email)
        lang = _language(language)
        now = self.now()
        if birthday is not None and birthday > now.date():
            raise InvalidMemberError("a birthday cannot be in the future")
        with self.transaction() as db:
            number = int(db.execute("SELECT COUNT(*) FROM members").fetchone()[0]) + 1
            member_id = f"M{number:06d}"
            while db.execute("SELECT 1 FROM members WHERE id = ?", (member_id,)).fetchone():
                number += 1
                member_id = f"M{number:06d}"
            try:
                db.execute(
                    "INSERT INTO members (id, name, phone, phone_last4, email, language, birthday, level, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (member_id, name, digits, digits[-4:], email, lang,
                     birthday.isoformat() if birthday else None, self.program.base_level.code, now.isoformat()),
                )
            except sqlite3.IntegrityError:
                raise DuplicateMemberError("another member has this phone number") from None
            audit(db, actor=actor, action="member.create", target=f"member:{member_id}", at=now)
            member = self._get(db, member_id)
            if email:
                enqueue(db, render(
                    MessageKind.WELCOME, lang, key=f"welcome:{member_id}", to=email,
                    values={"store": self.settings.store_name, "name": name, "member_id": member_id},
                ), at=now)
        log.info("member %s enrolled", member_id)
        return member

    def get(self, member_id: str) -> Member:
        with self.reading() as db:
            return self._get(db, member_id)

    def update(self, member_id: str, *, actor: str, name: str | None = None, phone: str | None = None,
               email: str | None = None, birthday: date | None = None, language: str | None = None) -> Member:
        """Change details; the audit entry names the fields changed, never their values."""
        changes: dict[str, Any] = {}
        if name is not None:
            if not name.strip():
                raise InvalidMemberError("a member needs a name")
            changes["name"] = name.strip()
        if phone is not None:
            digits = normalise_phone(phone)
            changes["phone"] = digits
            changes["phone_last4"] = digits[-4:]
        if email is not None:
            changes["email"] = check_email(email)
        if birthday is not None:
            if birthday > self.now().date():
                raise InvalidMemberError("a birthday cannot be in the future")
            changes["birthday"] = birthday.isoformat()
        if language is not None:
            changes["language"] = _language(language)
        with self.transaction() as db:
            self._get(db, member_id)
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                try:
                    db.execute(f"UPDATE members SET {sets} WHERE id = ?", (*changes.values(), member_id))
                except sqlite3.IntegrityError:
                    raise DuplicateMemberError("another member has this phone number") from None
                audit(db, actor=actor, action="member.update", target=f"member:{member_id}",
                      after=sorted(k for k in changes if k != "phone_last4"), at=self.now())
            return self._get(db, member_id)

    def search_by_phone(self, query: str, *, limit: int = 20) -> list[Member]:
        """The member with this full number, or every member whose number ends in these digits."""
        q = phone_query(query)
        with self.reading() as db:
            if not q.suffix:
                rows = db.execute(f"SELECT {_MEMBER} FROM members WHERE phone = ?", (q.digits,)).fetchall()
            elif len(q.digits) == 4:
                rows = db.execute(
                    f"SELECT {_MEMBER} FROM members WHERE phone_last4 = ? ORDER BY id LIMIT ?", (q.digits, limit)
                ).fetchall()
            else:
                rows = db.execute(
                    f"SELECT {_MEMBER} FROM members WHERE phone_last4 = ? AND substr(phone, -?) = ? ORDER BY id LIMIT ?",
                    (q.digits[-4:], len(q.digits), q.digits, limit),
                ).fetchall()
        return [_member(r) for r in rows]

    def card(self, member_id: str) -> str:
        """The e-card QR payload of a member."""
        self.get(member_id)
        return card_payload(self.settings.card_secret, member_id)

    def from_card(self, payload: str) -> Member:
        return self.get(parse_card_payload(self.settings.card_secret, payload))

    def kiosk_view(self, member_id: str) -> dict[str, Any]:
        """What a kiosk may be told about a member (see :func:`edge.members.model.kiosk_view`)."""
        with self.reading() as db:
            member = self._get(db, member_id)
            return kiosk_view(member, points_balance=self._points_balance(db, member_id),
                              stored_value_minor=self._sv_balance(db, member_id), currency=self.settings.currency)

    # -- points --------------------------------------------------------------------------------
    def _points_balance(self, db: sqlite3.Connection, member_id: str) -> int:
        return int(db.execute("SELECT COALESCE(SUM(points), 0) FROM member_points WHERE member_id = ?",
                              (member_id,)).fetchone()[0])

    def points_balance(self, member_id: str) -> int:
        with self.reading() as db:
            self._get(db, member_id)
            return self._points_balance(db, member_id)

    def _add_points(self, db: sqlite3.Connection, member_id: str, kind: str, points: int, ref: str, *,
                    actor: str, detail: str = "", at: datetime | None = None) -> bool:
        """Append one points entry; False when (member, kind, ref) was recorded before."""
        if kind not in POINTS_KINDS:
            raise MembersError(f"unknown points entry kind {kind!r}")
        cur = db.execute(
            "INSERT INTO member_points (member_id, kind, points, ref, detail, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (member_id, kind, ref) DO NOTHING",
            (member_id, kind, points, ref, detail, actor, (at or self.now()).isoformat()),
        )
        return cur.rowcount == 1

    def points_history(self, member_id: str, *, limit: int = 100) -> list[PointsEntry]:
        with self.reading() as db:
            self._get(db, member_id)
            rows = db.execute(
                "SELECT id, member_id, kind, points, ref, detail, actor, at FROM member_points WHERE member_id = ?"
                " ORDER BY id DESC LIMIT ?", (member_id, limit),
            ).fetchall()
        return [PointsEntry(*r[:7], datetime.fromisoformat(r[7])) for r in rows]

    def adjust_points(self, member_id: str, points: int, *, reason: str, actor: str, ref: str | None = None) -> int:
        """A hand adjustment (audited); the balance never goes below zero. Returns the balance."""
        if isinstance(points, bool) or not isinstance(points, int) or points == 0:
            raise InvalidMemberError("an adjustment is a non-zero whole number of points")
        if not reason.strip():
            raise InvalidMemberError("an adjustment needs a reason")
        now = self.now()
        with self.transaction() as db:
            self._get(db, member_id)
            before = self._points_balance(db, member_id)
            if before + points < 0:
                raise InsufficientPointsError(f"the balance is {before}; cannot take {-points}")
            key = ref or f"adjust:{now.isoformat()}:{hashlib.sha256(reason.encode()).hexdigest()[:8]}"
            if self._add_points(db, member_id, "adjusted", points, key, actor=actor, detail=reason, at=now):
                audit(db, actor=actor, action="member.points.adjust", target=f"member:{member_id}",
                      before={"points": before}, after={"points": before + points}, detail=reason, at=now)
            return self._points_balance(db, member_id)

    def redeem_points(self, member_id: str, points: int, *, due: Money, ref: str, actor: str,
                      sale_total: Money | None = None) -> PointsRedemption:
        """Use points against ``due`` (the program's caps apply); idempotent by ``ref``."""
        now = self.now()
        with self.transaction() as db:
            self._get(db, member_id)
            done = db.execute("SELECT points FROM member_points WHERE member_id = ? AND kind = 'redeemed' AND ref = ?",
                              (member_id, ref)).fetchone()
            if done is not None:
                return PointsRedemption(-int(done[0]), points_value(self.program, -int(done[0])))
            result = redeem_points(self.program, self._points_balance(db, member_id), points, due, sale_total=sale_total)
            self._add_points(db, member_id, "redeemed", -result.points, ref, actor=actor,
                             detail=f"worth {result.value.minor}", at=now)
            audit(db, actor=actor, action="member.points.redeem", target=f"member:{member_id}",
                  after={"points": result.points, "value_minor": result.value.minor, "ref": ref}, at=now)
            return result

    def reverse_points_for_refund(self, member_id: str, *, sale_ref: str, refund_ref: str, refunded: Money,
                                  actor: str) -> int:
        """Take back the points of the refunded share of a sale (idempotent by ``refund_ref``).

        Also lowers the member's rolling spend. Returns the points taken back.
        """
        now = self.now()
        with self.transaction() as db:
            self._get(db, member_id)
            if db.execute("SELECT 1 FROM member_refunds WHERE refund_ref = ?", (refund_ref,)).fetchone():
                row = db.execute("SELECT points FROM member_points WHERE member_id = ? AND kind = 'reversed' AND ref = ?",
                                 (member_id, f"refund:{refund_ref}")).fetchone()
                return -int(row[0]) if row else 0
            purchase = db.execute(
                "SELECT eligible_minor, points_earned, amount_minor FROM member_purchases WHERE sale_ref = ? AND member_id = ?",
                (sale_ref, member_id),
            ).fetchone()
            if purchase is None:
                raise MemberNotFoundError(f"no purchase {sale_ref!r} by {member_id}")
            eligible, earned, amount = int(purchase[0]), int(purchase[1]), int(purchase[2])
            earlier = int(db.execute("SELECT COALESCE(SUM(amount_minor), 0) FROM member_refunds WHERE sale_ref = ?",
                                     (sale_ref,)).fetchone()[0])
            if earlier + refunded.minor > amount:
                raise RefundExceedsSaleError(f"refunds of {sale_ref} would exceed the sale")
            # points follow the refunded share of the eligible spend
            share_before = Money(min(eligible, earlier * eligible // amount if amount else 0), refunded.currency)
            share_now = Money(min(eligible, (earlier + refunded.minor) * eligible // amount if amount else 0),
                              refunded.currency)
            taken = points_to_reverse(earned, self._money(eligible), share_now - share_before, share_before)
            db.execute("INSERT INTO member_refunds (refund_ref, sale_ref, member_id, at, amount_minor) VALUES (?, ?, ?, ?, ?)",
                       (refund_ref, sale_ref, member_id, now.isoformat(), refunded.minor))
            balance = self._points_balance(db, member_id)
            taken = min(taken, balance)  # points already spent cannot be taken twice
            if taken > 0:
                self._add_points(db, member_id, "reversed", -taken, f"refund:{refund_ref}", actor=actor,
                                 detail=sale_ref, at=now)
            self._refresh_level(db, member_id, now)
            return taken

    def expire_points(self, today: date | None = None) -> int:
        """Record what has lapsed under the program's expiry rule; returns points expired."""
        if self.program.expiry is None:
            return 0
        today = today or self.local_today()
        total = 0
        with self.transaction() as db:
            ids = [r[0] for r in db.execute("SELECT DISTINCT member_id FROM member_points WHERE kind = 'earned'")]
            for member_id in ids:
                rows = db.execute("SELECT kind, points, at FROM member_points WHERE member_id = ?", (member_id,)).fetchall()
                lots = [(datetime.fromisoformat(at).astimezone(self.settings.timezone).date(), pts)
                        for kind, pts, at in rows if pts > 0]
                consumed = -sum(pts for _, pts, _ in rows if pts < 0)
                lapsed = expired_points(self.program, lots, consumed, today)
                if lapsed > 0 and self._add_points(db, member_id, "expired", -lapsed, f"expiry:{today.isoformat()}",
                                                   actor="system", detail="points expiry"):
                    total += lapsed
        return total

    # -- stored value --------------------------------------------------------------------------
    def _sv_balance(self, db: sqlite3.Connection, member_id: str) -> int:
        return int(db.execute("SELECT COALESCE(SUM(delta_minor), 0) FROM member_stored_value WHERE member_id = ?",
                              (member_id,)).fetchone()[0])

    def stored_value_balance(self, member_id: str) -> Money:
        with self.reading() as db:
            self._get(db, member_id)
            return self._money(self._sv_balance(db, member_id))

    def _sv_existing(self, db: sqlite3.Connection, member_id: str, kind: str, ref: str) -> StoredValueMovement | None:
        row = db.execute(
            "SELECT amount_minor, bonus_minor, delta_minor, balance_after_minor FROM member_stored_value"
            " WHERE member_id = ? AND kind = ? AND ref = ?", (member_id, kind, ref),
        ).fetchone()
        if row is None:
            return None
        after = self._money(int(row[3]))
        return StoredValueMovement(MovementKind(kind), self._money(int(row[0])), self._money(int(row[1])),
                                   after - self._money(int(row[2])), after)

    def _sv_record(self, db: sqlite3.Connection, member_id: str, move: StoredValueMovement, *, ref: str,
                   sale_ref: str | None, actor: str, at: datetime) -> None:
        db.execute(
            "INSERT INTO member_stored_value (member_id, kind, amount_minor, bonus_minor, delta_minor,"
            " balance_after_minor, currency, ref, sale_ref, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (member_id, move.kind.value, move.amount.minor, move.bonus.minor, move.delta.minor,
             move.balance_after.minor, move.amount.currency, ref, sale_ref, actor, at.isoformat()),
        )

    def top_up(self, member_id: str, amount: Money, *, ref: str, actor: str) -> StoredValueMovement:
        """Credit a paid top-up plus its tier bonus (audited); idempotent by ``ref``."""
        now = self.now()
        with self.transaction() as db:
            self._get(db, member_id)
            existing = self._sv_existing(db, member_id, "top_up", ref)
            if existing is not None:
                return existing
            move = top_up(self.settings.stored_value, self._money(self._sv_balance(db, member_id)), amount)
            self._sv_record(db, member_id, move, ref=ref, sale_ref=None, actor=actor, at=now)
            audit(db, actor=actor, action="member.stored_value.top_up", target=f"member:{member_id}",
                  before={"balance_minor": move.balance_before.minor},
                  after={"balance_minor": move.balance_after.minor, "paid_minor": move.amount.minor,
                         "bonus_minor": move.bonus.minor, "ref": ref}, at=now)
            return move

    def _spend(self, db: sqlite3.Connection, member_id: str, amount: Money, *, ref: str, actor: str,
               at: datetime) -> StoredValueMovement:
        existing = self._sv_existing(db, member_id, "spend", ref)
        if existing is not None:
            return existing
        move = spend_stored_value(self._money(self._sv_balance(db, member_id)), amount)
        self._sv_record(db, member_id, move, ref=ref, sale_ref=ref, actor=actor, at=at)
        return move

    def spend_stored_value(self, member_id: str, amount: Money, *, ref: str, actor: str) -> StoredValueMovement:
        """Pay from stored value (never below zero); idempotent by ``ref`` (the sale)."""
        with self.transaction() as db:
            self._get(db, member_id)
            return self._spend(db, member_id, amount, ref=ref, actor=actor, at=self.now())

    def refund_stored_value(self, member_id: str, amount: Money, *, sale_ref: str, ref: str,
                            actor: str) -> StoredValueMovement:
        """Give back stored value a sale took (audited); never more than it took."""
        now = self.now()
        with self.transaction() as db:
            self._get(db, member_id)
            existing = self._sv_existing(db, member_id, "refund", ref)
            if existing is not None:
                return existing
            spent = int(db.execute(
                "SELECT COALESCE(SUM(amount_minor), 0) FROM member_stored_value WHERE member_id = ? AND kind = 'spend'"
                " AND sale_ref = ?", (member_id, sale_ref)).fetchone()[0])
            earlier = int(db.execute(
                "SELECT COALESCE(SUM(amount_minor), 0) FROM member_stored_value WHERE member_id = ? AND kind = 'refund'"
                " AND sale_ref = ?", (member_id, sale_ref)).fetchone()[0])
            move = refund_stored_value(self._money(self._sv_balance(db, member_id)), amount,
                                       self._money(spent), self._money(earlier))
            self._sv_record(db, member_id, move, ref=ref, sale_ref=sale_ref, actor=actor, at=now)
            audit(db, actor=actor, action="member.stored_value.refund", target=f"member:{member_id}",
                  before={"balance_minor": move.balance_before.minor},
                  after={"balance_minor": move.balance_after.minor, "sale_ref": sale_ref, "ref": ref}, at=now)
            return move

    def stored_value_history(self, member_id: str, *, limit: int = 100) -> list[StoredValueEntry]:
        with self.reading() as db:
            self._get(db, member_id)
            rows = db.execute(
                "SELECT id, member_id, kind, amount_minor, bonus_minor, delta_minor, balance_after_minor, ref, sale_ref,"
                " actor, at FROM member_stored_value WHERE member_id = ? ORDER BY id DESC LIMIT ?", (member_id, limit),
            ).fetchall()
        m = self._money
        return [StoredValueEntry(r[0], r[1], r[2], m(r[3]), m(r[4]), m(r[5]), m(r[6]), r[7], r[8], r[9],
                                 datetime.fromisoformat(r[10])) for r in rows]

    # -- purchases and levels ------------------------------------------------------------------
    def _purchases(self, db: sqlite3.Connection, member_id: str) -> list[tuple[datetime, Money]]:
        rows = db.execute("SELECT at, amount_minor FROM member_purchases WHERE member_id = ?", (member_id,)).fetchall()
        refunds = db.execute("SELECT at, amount_minor FROM member_refunds WHERE member_id = ?", (member_id,)).fetchall()
        return ([(datetime.fromisoformat(a), self._money(int(x))) for a, x in rows]
                + [(datetime.fromisoformat(a), self._money(-int(x))) for a, x in refunds])

    def rolling_spend(self, member_id: str, at: datetime | None = None) -> Money:
        with self.reading() as db:
            self._get(db, member_id)
            return rolling_spend(self._purchases(db, member_id), at or self.now(), self.program)

    def _refresh_level(self, db: sqlite3.Connection, member_id: str, at: datetime) -> str:
        level = level_for(self.program, rolling_spend(self._purchases(db, member_id), at, self.program)).code
        old = db.execute("SELECT level FROM members WHERE id = ?", (member_id,)).fetchone()[0]
        if old != level:
            db.execute("UPDATE members SET level = ? WHERE id = ?", (level, member_id))
            log.info("member %s level %s -> %s", member_id, old, level)
        return level

    def refresh_levels(self) -> int:
        """Recompute every member's level at the clock's now (spend leaves the window); count changed."""
        now = self.now()
        changed = 0
        with self.transaction() as db:
            for (member_id, old) in db.execute("SELECT id, level FROM members").fetchall():
                if self._refresh_level(db, member_id, now) != old:
                    changed += 1
        return changed

    # -- birthday coupons ----------------------------------------------------------------------
    def issue_birthday_coupons(self, today: date | None = None) -> list[BirthdayCoupon]:
        """Issue today's due birthday coupons (once per member per birthday year) and queue the
        birthday messages. Safe to run any number of times a day."""
        rule = self.settings.birthday_rule
        if rule is None:
            return []
        today = today or self.local_today()
        now = self.now()
        issued: list[BirthdayCoupon] = []
        with self.transaction() as db:
            rows = db.execute(f"SELECT {_MEMBER} FROM members WHERE birthday IS NOT NULL").fetchall()
            for member in map(_member, rows):
                if member.birthday is None or member.birthday > today:
                    continue
                years = {int(r[0]) for r in db.execute(
                    "SELECT year FROM member_birthday_coupons WHERE member_id = ?", (member.id,))}
                try:
                    level = level_by_code(self.program, member.level)
                except LoyaltyError:
                    level = self.program.base_level
                if not birthday_coupon_due(rule, member.birthday, today, level, years):
                    continue
                year = birthday_coupon_year(rule, member.birthday, today)
                if year is None:
                    continue
                valid_until = birthday_in_year(member.birthday, year) + timedelta(days=rule.days_after)
                digest = hashlib.sha256(self.settings.card_secret + f"{member.id}:{year}".encode()).hexdigest()
                code = f"BD{year}-{digest[:8].upper()}"
                db.execute(
                    "INSERT INTO member_birthday_coupons (member_id, year, code, valid_until, issued_at) VALUES (?, ?, ?, ?, ?)",
                    (member.id, year, code, valid_until.isoformat(), now.isoformat()),
                )
                coupon = BirthdayCoupon(member.id, year, code, valid_until, now)
                issued.append(coupon)
                if member.email:
                    enqueue(db, render(
                        MessageKind.BIRTHDAY, member.language, key=f"birthday:{member.id}:{year}", to=member.email,
                        values={"store": self.settings.store_name, "name": member.name, "code": code,
                                "offer": self._offer_text(rule, member.language), "valid_until": valid_until.isoformat()},
                    ), at=now)
        return issued

    @staticmethod
    def _offer_text(rule: BirthdayCouponRule, language: str) -> str:
        zh = language == "zh"
        if rule.value is not None:
            return (f"立减{rule.value.format('zh_CN')}" if zh else f"{rule.value.format('en')} off")
        return f"{rule.percent}% 折扣" if zh else f"{rule.percent}% off"

    def birthday_coupons(self, member_id: str) -> list[BirthdayCoupon]:
        with self.reading() as db:
            rows = db.execute("SELECT member_id, year, code, valid_until, issued_at FROM member_birthday_coupons"
                              " WHERE member_id = ? ORDER BY year", (member_id,)).fetchall()
        return [BirthdayCoupon(r[0], int(r[1]), r[2], date.fromisoformat(r[3]), datetime.fromisoformat(r[4]))
                for r in rows]

    # -- win-back ------------------------------------------------------------------------------
    def winback(self, months: int, *, limit: int = 500) -> list[Member]:
        """Members with no purchase in the last ``months`` calendar months (never-buyers enrolled
        before then included), longest-absent first."""
        if isinstance(months, bool) or not isinstance(months, int) or months < 1:
            raise InvalidMemberError("months is a whole number of at least 1")
        cutoff = months_before(self.now(), months).isoformat()
        with self.reading() as db:
            rows = db.execute(
                f"SELECT {_MEMBER} FROM members WHERE COALESCE(last_purchase_at, created_at) < ?"
                " ORDER BY COALESCE(last_purchase_at, created_at), id LIMIT ?", (cutoff, limit),
            ).fetchall()
        return [_member(r) for r in rows]

    def queue_winback_messages(self, months: int) -> int:
        """Queue a win-back message to each absent member with e-mail, at most once a month each."""
        now = self.now()
        month = now.astimezone(self.settings.timezone).strftime("%Y-%m")
        queued = 0
        members = [m for m in self.winback(months) if m.email]
        with self.transaction() as db:
            for m in members:
                message = render(MessageKind.WIN_BACK, m.language, key=f"winback:{m.id}:{month}", to=m.email or "",
                                 values={"store": self.settings.store_name, "name": m.name,
                                         "points_balance": self._points_balance(db, m.id)})
                queued += int(enqueue(db, message, at=now))
        return queued
