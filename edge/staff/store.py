"""Staff accounts, role permissions, sign-in (PIN, password, badge, session) and clocking.

One SQLite database (the edge's), component ``staff``. Every change to an account, a role or
a permission writes an audit entry in the same transaction.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from edge.db import SqliteComponent, connect
from edge.schema import migrate_component
from edge.staff.audit import AuditEntry, audit, ensure_audit_schema, query_audit
from edge.staff.errors import (
    AccountLockedError,
    AuthenticationError,
    BadgeError,
    ClockingError,
    DuplicateStaffError,
    InvalidCredentialError,
    PermissionDeniedError,
    SessionError,
    StaffError,
    StaffNotFoundError,
)
from edge.staff.lockout import LockoutPolicy, LockoutState, is_locked, record_failure
from edge.staff.roles import DEFAULT_ROLE_PERMISSIONS, PERMISSIONS, Role, check_permission_name, parse_role
from edge.staff.security import (
    CredentialHasher,
    HashSettings,
    badge_payload,
    badge_token_matches,
    check_password_rules,
    check_pin_rules,
    hash_session_token,
    new_session_token,
    parse_badge_payload,
)
from edge.staff.timesheet import Shift, Timesheet, timesheet
from retail.clock import Clock

__all__ = ["Principal", "SYSTEM", "Session", "StaffMember", "StaffStore", "StaffSettings"]

log = logging.getLogger(__name__)

SYSTEM = "system"

STAFF_STEPS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE staff (
            id TEXT PRIMARY KEY,
            username TEXT UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('attendant', 'supervisor', 'manager', 'owner')),
            pin_hash TEXT,
            password_hash TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            badge_version INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE role_permissions (
            role TEXT NOT NULL,
            permission TEXT NOT NULL,
            PRIMARY KEY (role, permission)
        )""",
        """CREATE TABLE staff_sessions (
            token_hash TEXT PRIMARY KEY,
            staff_id TEXT NOT NULL REFERENCES staff (id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT
        )""",
        """CREATE TABLE staff_shifts (
            id INTEGER PRIMARY KEY,
            staff_id TEXT NOT NULL REFERENCES staff (id),
            clock_in_at TEXT NOT NULL,
            clock_out_at TEXT,
            in_by TEXT NOT NULL,
            out_by TEXT
        )""",
        "CREATE INDEX staff_shifts_by_staff ON staff_shifts (staff_id, clock_in_at)",
        "CREATE UNIQUE INDEX staff_shifts_one_open ON staff_shifts (staff_id) WHERE clock_out_at IS NULL",
    ),
    # 2: which permission names this database has been seeded with, so a permission added by
    # newer software reaches its default roles without undoing an owner's own changes
    (
        "CREATE TABLE known_permissions (name TEXT PRIMARY KEY)",
        "INSERT OR IGNORE INTO known_permissions (name) SELECT DISTINCT permission FROM role_permissions",
    ),
)


@dataclass(frozen=True, slots=True)
class StaffSettings:
    """Everything the staff store needs besides its database and clock."""

    badge_secret: bytes
    hashing: HashSettings = field(default_factory=HashSettings)
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
    session_ttl: timedelta = timedelta(hours=12)
    timezone: tzinfo = timezone.utc

    def __post_init__(self) -> None:
        if not isinstance(self.badge_secret, bytes) or len(self.badge_secret) < 16:
            raise InvalidCredentialError("the badge secret is at least 16 random bytes")
        if self.session_ttl <= timedelta(0):
            raise InvalidCredentialError("session_ttl must be positive")


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: str
    username: str | None
    name: str
    role: Role
    active: bool
    has_pin: bool
    has_password: bool
    locked_until: datetime | None
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "role": self.role.value,
            "active": self.active,
            "has_pin": self.has_pin,
            "has_password": self.has_password,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in staff member and what their role may do right now."""

    staff: StaffMember
    permissions: frozenset[str]

    @property
    def id(self) -> str:
        return self.staff.id

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise PermissionDeniedError(f"{self.staff.id} ({self.staff.role.value}) lacks {permission}")


@dataclass(frozen=True, slots=True)
class Session:
    token: str  # shown once to the client; the database keeps only its hash
    staff_id: str
    expires_at: datetime


_COLUMNS = "id, username, name, role, pin_hash, password_hash, active, failures, locked_until, created_at"


def _member(row: tuple[Any, ...]) -> StaffMember:
    return StaffMember(
        id=row[0],
        username=row[1],
        name=row[2],
        role=Role(row[3]),
        active=bool(row[6]),
        has_pin=row[4] is not None,
        has_password=row[5] is not None,
        locked_until=datetime.fromisoformat(row[8]) if row[8] else None,
        created_at=datetime.fromisoformat(row[9]),
    )


def _migrate(conn: sqlite3.Connection) -> None:
    ensure_audit_schema(conn)
    migrate_component(conn, "staff", STAFF_STEPS)


class StaffStore(SqliteComponent):
    """Staff accounts and sign-in on the edge database (context manager; idempotent close)."""

    _closed_error = StaffError
    _closed_message = "the staff store is closed"

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock, settings: StaffSettings, owns_connection: bool = False) -> None:
        self._clock = clock
        self.settings = settings
        self._hasher = CredentialHasher(settings.hashing)
        super().__init__(conn, migrations=_migrate, owns_connection=owns_connection)
        self._seed_permissions()

    @classmethod
    def open(cls, path: str | Path, *, clock: Clock, settings: StaffSettings) -> StaffStore:
        return cls(connect(path), clock=clock, settings=settings, owns_connection=True)

    # -- plumbing ------------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``); all or nothing."""
        return self._write()

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db().execute(sql, args).fetchall()

    def _now(self) -> datetime:
        return self._clock.now()

    def now(self) -> datetime:
        """The store's clock (injected)."""
        return self._clock.now()

    def local_today(self) -> date:
        """Today in the shop's time zone."""
        return self._clock.now().astimezone(self.settings.timezone).date()

    def _seed_permissions(self) -> None:
        """Give every permission this software knows, and the database has never seen, to its
        default roles. Permissions seen before keep whatever an owner made of them."""
        with self.transaction() as db:
            known = {row[0] for row in db.execute("SELECT name FROM known_permissions")}
            new = sorted(set(PERMISSIONS) - known)
            if not new:
                return
            db.executemany(
                "INSERT OR IGNORE INTO role_permissions (role, permission) VALUES (?, ?)",
                [(role.value, perm) for role, perms in DEFAULT_ROLE_PERMISSIONS.items() for perm in new if perm in perms],
            )
            db.executemany("INSERT INTO known_permissions (name) VALUES (?)", [(perm,) for perm in new])

    @staticmethod
    def _actor_id(actor: Principal | None) -> str:
        return actor.id if actor is not None else SYSTEM

    def _row(self, db: sqlite3.Connection, staff_id: str) -> tuple[Any, ...]:
        row = db.execute(f"SELECT {_COLUMNS} FROM staff WHERE id = ?", (staff_id,)).fetchone()
        if row is None:
            raise StaffNotFoundError(f"no staff member {staff_id!r}")
        return row

    def _check_may_manage(self, db: sqlite3.Connection, actor: Principal | None, role: Role) -> None:
        """``actor`` may create or change an account with ``role``: staff.manage, and no escalation."""
        if actor is None:
            return
        actor.require("staff.manage")
        wanted = self._permissions(db, role)
        if not wanted <= actor.permissions:
            raise PermissionDeniedError(
                f"{actor.id} cannot hand out the {role.value} role: it has permissions they lack "
                f"({sorted(wanted - actor.permissions)})"
            )

    # -- roles and permissions -----------------------------------------------------------------
    def _permissions(self, db: sqlite3.Connection, role: Role) -> frozenset[str]:
        rows = db.execute("SELECT permission FROM role_permissions WHERE role = ?", (role.value,)).fetchall()
        return frozenset(r[0] for r in rows)

    def permissions_of(self, role: Role | str) -> frozenset[str]:
        with self._lock:
            return self._permissions(self._db(), parse_role(role))

    def role_table(self) -> dict[str, list[str]]:
        return {role.value: sorted(self.permissions_of(role)) for role in Role}

    def grant(self, role: Role | str, permission: str, *, actor: Principal | None) -> None:
        self._change_permission(parse_role(role), check_permission_name(permission), True, actor)

    def revoke(self, role: Role | str, permission: str, *, actor: Principal | None) -> None:
        self._change_permission(parse_role(role), check_permission_name(permission), False, actor)

    def _change_permission(self, role: Role, permission: str, granted: bool, actor: Principal | None) -> None:
        if actor is not None:
            actor.require("permissions.manage")
            if granted and permission not in actor.permissions:
                raise PermissionDeniedError(f"{actor.id} cannot grant {permission}, which they do not hold")
        with self.transaction() as db:
            before = sorted(self._permissions(db, role))
            if granted:
                db.execute("INSERT OR IGNORE INTO role_permissions (role, permission) VALUES (?, ?)", (role.value, permission))
            else:
                db.execute("DELETE FROM role_permissions WHERE role = ? AND permission = ?", (role.value, permission))
            after = sorted(self._permissions(db, role))
            if before != after:
                audit(
                    db, actor=self._actor_id(actor), action="permissions.grant" if granted else "permissions.revoke",
                    target=f"role:{role.value}", before=before, after=after, detail=permission, at=self._now(),
                )

    # -- accounts ------------------------------------------------------------------------------
    def create(
        self,
        *,
        name: str,
        role: Role | str,
        username: str | None = None,
        pin: str | None = None,
        password: str | None = None,
        actor: Principal | None,
    ) -> StaffMember:
        """A new account (``actor=None`` only for the operator's bootstrap, audited as system)."""
        role = parse_role(role)
        name = (name or "").strip()
        if not name:
            raise InvalidCredentialError("a staff member needs a name")
        pin_hash = self._hasher.hash(check_pin_rules(pin)) if pin is not None else None
        pw_hash = self._hasher.hash(check_password_rules(password)) if password is not None else None
        if username is not None:
            username = username.strip()
            if not username or ":" in username:
                raise InvalidCredentialError("a username is non-empty and has no ':'")
        with self.transaction() as db:
            self._check_may_manage(db, actor, role)
            number = db.execute("SELECT COUNT(*) FROM staff").fetchone()[0] + 1
            staff_id = f"S{number:04d}"
            while db.execute("SELECT 1 FROM staff WHERE id = ?", (staff_id,)).fetchone():
                number += 1
                staff_id = f"S{number:04d}"
            try:
                db.execute(
                    "INSERT INTO staff (id, username, name, role, pin_hash, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (staff_id, username, name, role.value, pin_hash, pw_hash, self._now().isoformat()),
                )
            except sqlite3.IntegrityError:
                raise DuplicateStaffError(f"username {username!r} is taken") from None
            audit(
                db, actor=self._actor_id(actor), action="staff.create", target=f"staff:{staff_id}",
                after={"name": name, "role": role.value, "username": username}, at=self._now(),
            )
            return _member(self._row(db, staff_id))

    def get(self, staff_id: str) -> StaffMember:
        with self._lock:
            return _member(self._row(self._db(), staff_id))

    def list(self, *, include_inactive: bool = False) -> list[StaffMember]:
        sql = f"SELECT {_COLUMNS} FROM staff" + ("" if include_inactive else " WHERE active = 1") + " ORDER BY id"
        return [_member(r) for r in self._read(sql)]

    def set_role(self, staff_id: str, role: Role | str, *, actor: Principal | None) -> StaffMember:
        role = parse_role(role)
        with self.transaction() as db:
            current = _member(self._row(db, staff_id))
            self._check_may_manage(db, actor, role)
            self._check_may_manage(db, actor, current.role)  # cannot demote someone above you
            if actor is not None and actor.id == staff_id:
                raise PermissionDeniedError("nobody changes their own role")
            db.execute("UPDATE staff SET role = ? WHERE id = ?", (role.value, staff_id))
            audit(
                db, actor=self._actor_id(actor), action="staff.role", target=f"staff:{staff_id}",
                before={"role": current.role.value}, after={"role": role.value}, at=self._now(),
            )
            return _member(self._row(db, staff_id))

    def _self_or_manager(self, db: sqlite3.Connection, staff_id: str, actor: Principal | None) -> StaffMember:
        current = _member(self._row(db, staff_id))
        if actor is not None and actor.id != staff_id:
            self._check_may_manage(db, actor, current.role)
        return current

    def set_pin(self, staff_id: str, pin: str, *, actor: Principal | None) -> None:
        pin_hash = self._hasher.hash(check_pin_rules(pin))
        with self.transaction() as db:
            self._self_or_manager(db, staff_id, actor)
            db.execute("UPDATE staff SET pin_hash = ?, failures = 0, locked_until = NULL WHERE id = ?", (pin_hash, staff_id))
            audit(db, actor=self._actor_id(actor), action="staff.pin.set", target=f"staff:{staff_id}", at=self._now())

    def set_password(self, staff_id: str, password: str, *, actor: Principal | None) -> None:
        pw_hash = self._hasher.hash(check_password_rules(password))
        with self.transaction() as db:
            self._self_or_manager(db, staff_id, actor)
            db.execute(
                "UPDATE staff SET password_hash = ?, failures = 0, locked_until = NULL WHERE id = ?", (pw_hash, staff_id)
            )
            db.execute(
                "UPDATE staff_sessions SET ended_at = ? WHERE staff_id = ? AND ended_at IS NULL",
                (self._now().isoformat(), staff_id),
            )
            audit(db, actor=self._actor_id(actor), action="staff.password.set", target=f"staff:{staff_id}", at=self._now())

    def deactivate(self, staff_id: str, *, actor: Principal | None) -> StaffMember:
        with self.transaction() as db:
            current = self._self_or_manager(db, staff_id, actor)
            db.execute("UPDATE staff SET active = 0 WHERE id = ?", (staff_id,))
            db.execute(
                "UPDATE staff_sessions SET ended_at = ? WHERE staff_id = ? AND ended_at IS NULL",
                (self._now().isoformat(), staff_id),
            )
            audit(
                db, actor=self._actor_id(actor), action="staff.deactivate", target=f"staff:{staff_id}",
                before={"active": current.active}, after={"active": False}, at=self._now(),
            )
            return _member(self._row(db, staff_id))

    def unlock(self, staff_id: str, *, actor: Principal | None) -> None:
        with self.transaction() as db:
            self._self_or_manager(db, staff_id, actor)
            db.execute("UPDATE staff SET failures = 0, locked_until = NULL WHERE id = ?", (staff_id,))
            audit(db, actor=self._actor_id(actor), action="staff.unlock", target=f"staff:{staff_id}", at=self._now())

    def principal(self, staff_id: str) -> Principal:
        with self._lock:
            db = self._db()
            member = _member(self._row(db, staff_id))
            if not member.active:
                raise AuthenticationError(f"staff member {staff_id} is not active")
            return Principal(member, self._permissions(db, member.role))

    # -- sign-in -------------------------------------------------------------------------------
    def _lock_state(self, row: tuple[Any, ...]) -> LockoutState:
        return LockoutState(int(row[7]), datetime.fromisoformat(row[8]) if row[8] else None)

    def _check_secret(self, staff_id: str, secret: str, column: int, what: str) -> Principal:
        """Verify a PIN (column 4) or password (column 5) with the lockout rule."""
        now = self._now()
        with self._lock:
            row = self._row(self._db(), staff_id)
            state = self._lock_state(row)
            if is_locked(state, now):
                raise AccountLockedError(f"{staff_id} is locked until {state.locked_until}", state.locked_until)
            stored = row[column]
            ok = bool(row[6]) and stored is not None and self._hasher.verify(stored, secret)
            if not ok:
                if stored is None:
                    self._hasher.burn(secret)
                new = record_failure(self.settings.lockout, state, now)
                with self.transaction() as db:
                    db.execute(
                        "UPDATE staff SET failures = ?, locked_until = ? WHERE id = ?",
                        (new.failures, new.locked_until.isoformat() if new.locked_until else None, staff_id),
                    )
                    if new.locked_until is not None and not is_locked(state, now):
                        audit(
                            db, actor=staff_id, action="staff.locked", target=f"staff:{staff_id}",
                            after={"locked_until": new.locked_until.isoformat()}, detail=what, at=now,
                        )
                log.warning("failed %s sign-in for %s (%d in a row)", what, staff_id, new.failures)
                if new.locked_until is not None:
                    raise AccountLockedError(f"{staff_id} is locked until {new.locked_until}", new.locked_until)
                raise AuthenticationError(f"wrong {what}")
            with self.transaction() as db:
                db.execute("UPDATE staff SET failures = 0, locked_until = NULL WHERE id = ?", (staff_id,))
                if self._hasher.needs_rehash(stored):
                    col = "pin_hash" if column == 4 else "password_hash"
                    db.execute(f"UPDATE staff SET {col} = ? WHERE id = ?", (self._hasher.hash(secret), staff_id))
            return self.principal(staff_id)

    def verify_pin(self, staff_id: str, pin: str) -> Principal:
        """A kiosk PIN entry: the principal, or AuthenticationError / AccountLockedError."""
        return self._check_secret(staff_id, pin, 4, "PIN")

    def login(self, username: str, password: str) -> tuple[Session, Principal]:
        """A console sign-in: a new session token (kept hashed) and the principal."""
        rows = self._read("SELECT id FROM staff WHERE username = ?", (username.strip(),))
        if not rows:
            self._hasher.burn(password)
            raise AuthenticationError("wrong username or password")
        try:
            principal = self._check_secret(rows[0][0], password, 5, "password")
        except AccountLockedError:
            raise
        except AuthenticationError:
            raise AuthenticationError("wrong username or password") from None
        token = new_session_token()
        now = self._now()
        expires = now + self.settings.session_ttl
        with self.transaction() as db:
            db.execute(
                "INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (hash_session_token(token), principal.id, now.isoformat(), expires.isoformat()),
            )
        return Session(token, principal.id, expires), principal

    def session_principal(self, token: str) -> Principal:
        rows = self._read(
            "SELECT staff_id, expires_at, ended_at FROM staff_sessions WHERE token_hash = ?", (hash_session_token(token),)
        )
        if not rows or rows[0][2] is not None:
            raise SessionError("unknown or ended session")
        if self._now() >= datetime.fromisoformat(rows[0][1]):
            raise SessionError("the session has expired; sign in again")
        return self.principal(rows[0][0])

    def logout(self, token: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE staff_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
                (self._now().isoformat(), hash_session_token(token)),
            )

    # -- badges --------------------------------------------------------------------------------
    def badge(self, staff_id: str) -> str:
        """The current QR badge payload ``TILLPI-STAFF:<staff_id>:<token>``."""
        version = self._read("SELECT badge_version FROM staff WHERE id = ?", (staff_id,))
        if not version:
            raise StaffNotFoundError(f"no staff member {staff_id!r}")
        return badge_payload(self.settings.badge_secret, staff_id, int(version[0][0]))

    def reissue_badge(self, staff_id: str, *, actor: Principal | None) -> str:
        """A new badge; every earlier badge of this account stops working."""
        with self.transaction() as db:
            self._self_or_manager(db, staff_id, actor)
            db.execute("UPDATE staff SET badge_version = badge_version + 1 WHERE id = ?", (staff_id,))
            audit(db, actor=self._actor_id(actor), action="staff.badge.reissue", target=f"staff:{staff_id}", at=self._now())
        return self.badge(staff_id)

    def verify_badge(self, payload: str) -> Principal:
        staff_id, token = parse_badge_payload(payload)
        rows = self._read("SELECT badge_version, active FROM staff WHERE id = ?", (staff_id,))
        if not rows or not badge_token_matches(self.settings.badge_secret, staff_id, int(rows[0][0]), token):
            raise BadgeError("badge not valid (forged, revoked or unknown)")
        return self.principal(staff_id)

    # -- clocking and timesheets ---------------------------------------------------------------
    def clock_in(self, staff_id: str, *, actor: Principal | None = None) -> datetime:
        now = self._now()
        with self.transaction() as db:
            self._row(db, staff_id)
            if actor is not None and actor.id != staff_id:
                actor.require("timesheet.view_all")
            if db.execute("SELECT 1 FROM staff_shifts WHERE staff_id = ? AND clock_out_at IS NULL", (staff_id,)).fetchone():
                raise ClockingError(f"{staff_id} is already clocked in")
            db.execute(
                "INSERT INTO staff_shifts (staff_id, clock_in_at, in_by) VALUES (?, ?, ?)",
                (staff_id, now.isoformat(), self._actor_id(actor) if actor else staff_id),
            )
            if actor is not None and actor.id != staff_id:
                audit(db, actor=actor.id, action="timesheet.clock_in_for", target=f"staff:{staff_id}", at=now)
        return now

    def clock_out(self, staff_id: str, *, actor: Principal | None = None) -> datetime:
        now = self._now()
        with self.transaction() as db:
            self._row(db, staff_id)
            if actor is not None and actor.id != staff_id:
                actor.require("timesheet.view_all")
            row = db.execute(
                "SELECT id FROM staff_shifts WHERE staff_id = ? AND clock_out_at IS NULL", (staff_id,)
            ).fetchone()
            if row is None:
                raise ClockingError(f"{staff_id} is not clocked in")
            db.execute(
                "UPDATE staff_shifts SET clock_out_at = ?, out_by = ? WHERE id = ?",
                (now.isoformat(), self._actor_id(actor) if actor else staff_id, row[0]),
            )
            if actor is not None and actor.id != staff_id:
                audit(db, actor=actor.id, action="timesheet.clock_out_for", target=f"staff:{staff_id}", at=now)
        return now

    def is_clocked_in(self, staff_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM staff_shifts WHERE staff_id = ? AND clock_out_at IS NULL", (staff_id,)))

    def shifts(self, staff_id: str, start: date, end: date) -> list[Shift]:
        """Shifts that touch the local days ``start`` .. ``end`` (a day of margin each side)."""
        lo = datetime.combine(start - timedelta(days=2), datetime.min.time(), tzinfo=timezone.utc).isoformat()
        hi = datetime.combine(end + timedelta(days=2), datetime.min.time(), tzinfo=timezone.utc).isoformat()
        rows = self._read(
            "SELECT clock_in_at, clock_out_at FROM staff_shifts WHERE staff_id = ? AND clock_in_at < ? "
            "AND (clock_out_at IS NULL OR clock_out_at >= ?) ORDER BY clock_in_at",
            (staff_id, hi, lo),
        )
        return [Shift(datetime.fromisoformat(a), datetime.fromisoformat(b) if b else None) for a, b in rows]

    def timesheet(self, staff_id: str, start: date, end: date) -> Timesheet:
        self.get(staff_id)
        return timesheet(self.shifts(staff_id, start, end), start, end, now=self._now(), tz=self.settings.timezone)

    # -- audit ---------------------------------------------------------------------------------
    def audit(self, *, actor: Principal | str, action: str, target: str, before: Any = None, after: Any = None, detail: str = "") -> int:
        """Record one audit entry in its own transaction (for callers without a connection)."""
        who = actor.id if isinstance(actor, Principal) else actor
        with self.transaction() as db:
            return audit(db, actor=who, action=action, target=target, before=before, after=after, detail=detail, at=self._now())

    def audit_entries(self, **filters: Any) -> list[AuditEntry]:
        with self._lock:
            return query_audit(self._db(), **filters)


def known_permissions() -> list[str]:
    return sorted(PERMISSIONS)
