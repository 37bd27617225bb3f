"""Promotions and coupons authored on the edge.

Promotions are stored as the JSON of :func:`retail.promotions.promotion_to_dict`, so what the
owner saves is exactly what the kiosks price with. Every change (a promotion saved, activated
or deactivated; a coupon issued or withdrawn) bumps one version number and is logged in
``promotion_changes``: the distribution to the kiosks sends :meth:`PromotionStore.snapshot`
when the version moved, like the catalogue replica.

A promotion is validated before it is stored: the whole active set it would make is compiled
with :meth:`retail.promotions.PromotionSet.compile` against the catalogue's items, so an
unknown SKU or category, a duplicate id or a wrong currency is refused with the message.

Coupons are codes a shopper presents. Each names a promotion that has a ``coupon_code``;
presenting a valid coupon makes that promotion run (one promotion can have many coupons, e.g.
single-use codes handed out one by one). A coupon has optional valid dates (shop-local,
inclusive), a redemption limit (1 = single use, none = unlimited) and an active flag;
:meth:`PromotionStore.redeem` counts redemptions, idempotent by the sale's reference. A
promotion's own code, presented directly, works while the promotion runs.

Writes are audited (:func:`edge.staff.audit.audit`) in the same transaction.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from edge.db import SqliteComponent
from edge.promotions.errors import (
    CouponError,
    CouponRejectedError,
    InvalidPromotionDefinitionError,
    PromotionsClosedError,
    UnknownCouponError,
    UnknownPromotionError,
)
from edge.promotions.migrations import STEPS
from edge.promotions.preview import SampleLine, preview
from edge.schema import migrate_component
from edge.staff.audit import audit, ensure_audit_schema
from retail.catalogue import CatalogueItem
from retail.clock import Clock
from retail.errors import RetailError
from retail.pricing import PricedBasket
from retail.promotions import Promotion, PromotionSet, promotion_from_dict, promotion_to_dict

__all__ = ["Coupon", "PromotionStore", "StoredPromotion"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredPromotion:
    promotion: Promotion
    active: bool
    version: int
    updated_at: datetime
    updated_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "promotion": promotion_to_dict(self.promotion), "active": self.active, "version": self.version,
            "updated_at": self.updated_at.isoformat(), "updated_by": self.updated_by,
        }


@dataclass(frozen=True, slots=True)
class Coupon:
    code: str
    promotion_id: str
    max_redemptions: int | None
    valid_from: date | None
    valid_until: date | None
    active: bool
    redemptions: int

    @property
    def single_use(self) -> bool:
        return self.max_redemptions == 1

    def rejection(self, today: date) -> str | None:
        """Why the coupon cannot be used on ``today`` (shop-local), or None."""
        if not self.active:
            return "withdrawn"
        if self.valid_from is not None and today < self.valid_from:
            return f"valid from {self.valid_from.isoformat()}"
        if self.valid_until is not None and today > self.valid_until:
            return f"expired on {self.valid_until.isoformat()}"
        if self.max_redemptions is not None and self.redemptions >= self.max_redemptions:
            return "already used" if self.single_use else f"used up ({self.max_redemptions} redemptions)"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "promotion_id": self.promotion_id, "max_redemptions": self.max_redemptions,
            "single_use": self.single_use,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "active": self.active, "redemptions": self.redemptions,
        }


def _code(code: str) -> str:
    text = str(code or "").strip().upper()
    if not text or len(text) > 64:
        raise CouponError("a coupon code is 1-64 characters")
    return text


def _migrate(conn: sqlite3.Connection) -> None:
    ensure_audit_schema(conn)
    migrate_component(conn, "promotions", STEPS)


class PromotionStore(SqliteComponent):
    """The shop's promotions and coupons over the edge database at ``path`` (context manager;
    idempotent ``close()``; thread-safe). ``catalogue`` is a
    :class:`~edge.catalogue.store.CatalogueStore` (anything with ``all_products()``,
    ``version()`` and ``currency``) to validate against; ``shop_timezone`` reads coupon
    dates and the preview's time."""

    _closed_error = PromotionsClosedError
    _closed_message = "the promotion store is closed"

    def __init__(self, path: str | Path, *, clock: Clock, catalogue: Any, shop_timezone: tzinfo = timezone.utc) -> None:
        self._clock = clock
        self._catalogue = catalogue
        self._tz = shop_timezone
        self._index_cache: tuple[int, dict[str, CatalogueItem]] | None = None
        super().__init__(path, migrations=_migrate)

    def _bump(self, db: sqlite3.Connection, entity: str, key: str, what: str, actor: str, at: datetime) -> int:
        version = int(db.execute("SELECT value FROM promotions_meta WHERE key = 'version'").fetchone()[0]) + 1
        db.execute("UPDATE promotions_meta SET value = ? WHERE key = 'version'", (version,))
        db.execute("INSERT INTO promotion_changes (version, entity, key, what, actor, at) VALUES (?, ?, ?, ?, ?, ?)",
                   (version, entity, key, what, actor, at.isoformat()))
        return version

    def local_now(self) -> datetime:
        return self._clock.now().astimezone(self._tz)

    # -- catalogue ------------------------------------------------------------------------------
    @property
    def currency(self) -> str:
        return str(self._catalogue.currency)

    def catalogue_index(self) -> dict[str, CatalogueItem]:
        """SKU → item of the whole catalogue (cached per catalogue version)."""
        version = int(self._catalogue.version())
        cache = self._index_cache
        if cache is None or cache[0] != version:
            cache = (version, {p.sku: p.to_item() for p in self._catalogue.all_products()})
            self._index_cache = cache
        return cache[1]

    def compile(self, promotions: Sequence[Promotion]) -> PromotionSet:
        """Validate and index ``promotions`` against the catalogue."""
        try:
            return PromotionSet.compile(promotions, self.catalogue_index(), currency=self.currency)
        except RetailError as exc:
            raise InvalidPromotionDefinitionError(str(exc)) from None

    @staticmethod
    def parse(data: Mapping[str, Any]) -> Promotion:
        """A promotion from its JSON dict (:func:`retail.promotions.promotion_from_dict`)."""
        try:
            return promotion_from_dict(data)
        except RetailError as exc:
            raise InvalidPromotionDefinitionError(str(exc)) from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise InvalidPromotionDefinitionError(f"not a promotion: {exc}") from None

    # -- promotions -----------------------------------------------------------------------------
    def _stored(self, row: tuple[Any, ...]) -> StoredPromotion:
        return StoredPromotion(promotion_from_dict(json.loads(row[0])), bool(row[1]), int(row[2]),
                               datetime.fromisoformat(row[3]), str(row[4]))

    def _active(self, db: sqlite3.Connection, *, except_id: str | None = None) -> list[Promotion]:
        rows = db.execute("SELECT body FROM promotions WHERE active = 1 ORDER BY promotion_id").fetchall()
        out = [promotion_from_dict(json.loads(r[0])) for r in rows]
        return [p for p in out if p.promotion_id != except_id]

    def version(self) -> int:
        with self._reading() as db:
            return int(db.execute("SELECT value FROM promotions_meta WHERE key = 'version'").fetchone()[0])

    def get(self, promotion_id: str) -> StoredPromotion:
        with self._reading() as db:
            row = db.execute("SELECT body, active, version, updated_at, updated_by FROM promotions WHERE promotion_id = ?",
                             (promotion_id,)).fetchone()
        if row is None:
            raise UnknownPromotionError(f"no promotion {promotion_id!r}")
        return self._stored(row)

    def list(self, *, active: bool | None = None) -> list[StoredPromotion]:
        where = "" if active is None else f" WHERE active = {1 if active else 0}"
        with self._reading() as db:
            rows = db.execute(f"SELECT body, active, version, updated_at, updated_by FROM promotions{where}"
                              " ORDER BY promotion_id").fetchall()
        return [self._stored(r) for r in rows]

    def put(self, promotion: Promotion | Mapping[str, Any], *, actor: str, active: bool = True) -> StoredPromotion:
        """Create or replace a promotion (validated with the active set); bumps the version."""
        promo = promotion if isinstance(promotion, Promotion) else self.parse(promotion)
        body = json.dumps(promotion_to_dict(promo), sort_keys=True, ensure_ascii=False)
        now = self._clock.now()
        pid = promo.promotion_id
        with self._write() as db:
            self.compile([*self._active(db, except_id=pid), promo] if active else [promo])
            before = db.execute("SELECT body, active FROM promotions WHERE promotion_id = ?", (pid,)).fetchone()
            if before is not None and before[0] == body and bool(before[1]) == active:
                return self._stored(db.execute("SELECT body, active, version, updated_at, updated_by FROM promotions"
                                               " WHERE promotion_id = ?", (pid,)).fetchone())
            version = self._bump(db, "promotion", pid, "created" if before is None else "changed", actor, now)
            db.execute(
                "INSERT INTO promotions (promotion_id, body, active, version, created_at, updated_at, updated_by)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (promotion_id) DO UPDATE SET body = excluded.body,"
                " active = excluded.active, version = excluded.version, updated_at = excluded.updated_at,"
                " updated_by = excluded.updated_by",
                (pid, body, int(active), version, now.isoformat(), now.isoformat(), actor),
            )
            audit(db, actor=actor, action="promotion.put", target=f"promotion:{pid}",
                  before=None if before is None else {"body": json.loads(before[0]), "active": bool(before[1])},
                  after={"body": json.loads(body), "active": active, "version": version}, at=now)
        log.info("promotion %s saved by %s (version %d)", pid, actor, version)
        return self.get(pid)

    def set_active(self, promotion_id: str, active: bool, *, actor: str) -> StoredPromotion:
        """Activate (validated again with the active set) or deactivate a promotion."""
        now = self._clock.now()
        with self._write() as db:
            row = db.execute("SELECT body, active FROM promotions WHERE promotion_id = ?", (promotion_id,)).fetchone()
            if row is None:
                raise UnknownPromotionError(f"no promotion {promotion_id!r}")
            if bool(row[1]) != active:
                if active:
                    self.compile([*self._active(db), promotion_from_dict(json.loads(row[0]))])
                version = self._bump(db, "promotion", promotion_id, "activated" if active else "deactivated", actor, now)
                db.execute("UPDATE promotions SET active = ?, version = ?, updated_at = ?, updated_by = ?"
                           " WHERE promotion_id = ?", (int(active), version, now.isoformat(), actor, promotion_id))
                audit(db, actor=actor, action="promotion.activate" if active else "promotion.deactivate",
                      target=f"promotion:{promotion_id}", before={"active": bool(row[1])}, after={"active": active},
                      at=now)
        return self.get(promotion_id)

    def promotion_set(self) -> PromotionSet:
        """The active promotions, compiled against the current catalogue."""
        with self._reading() as db:
            active = self._active(db)
        return self.compile(active)

    def changes_since(self, version: int) -> list[tuple[int, str, str, str]]:
        with self._reading() as db:
            return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in db.execute(
                "SELECT version, entity, key, what FROM promotion_changes WHERE version > ? ORDER BY id", (version,))]

    def snapshot(self) -> dict[str, Any]:
        """What the kiosks need, with the version it was read at: active promotions (as
        ``promotion_to_dict``) and the coupons usable today or later."""
        with self._reading() as db:
            version = int(db.execute("SELECT value FROM promotions_meta WHERE key = 'version'").fetchone()[0])
            promos = [json.loads(r[0]) for r in db.execute(
                "SELECT body FROM promotions WHERE active = 1 ORDER BY promotion_id")]
            coupons = [c.to_dict() for c in self._coupons(db) if c.active]
        return {"version": version, "promotions": promos, "coupons": coupons}

    # -- coupons --------------------------------------------------------------------------------
    def _coupons(self, db: sqlite3.Connection, code: str | None = None) -> list[Coupon]:
        sql = ("SELECT c.code, c.promotion_id, c.max_redemptions, c.valid_from, c.valid_until, c.active,"
               " (SELECT COUNT(*) FROM coupon_redemptions r WHERE r.code = c.code) FROM coupons c")
        args: tuple[Any, ...] = ()
        if code is not None:
            sql += " WHERE c.code = ?"
            args = (code,)
        return [
            Coupon(r[0], r[1], r[2], date.fromisoformat(r[3]) if r[3] else None,
                   date.fromisoformat(r[4]) if r[4] else None, bool(r[5]), int(r[6]))
            for r in db.execute(sql + " ORDER BY c.code", args)
        ]

    def coupon(self, code: str) -> Coupon:
        with self._reading() as db:
            found = self._coupons(db, _code(code))
        if not found:
            raise UnknownCouponError(f"no coupon {code!r}")
        return found[0]

    def coupons(self, *, promotion_id: str | None = None) -> list[Coupon]:
        with self._reading() as db:
            every = self._coupons(db)
        return [c for c in every if promotion_id is None or c.promotion_id == promotion_id]

    def create_coupon(self, code: str, promotion_id: str, *, actor: str, max_redemptions: int | None = 1,
                      valid_from: date | None = None, valid_until: date | None = None) -> Coupon:
        """Issue a coupon for a promotion that has a coupon code (1 = single use, None = unlimited)."""
        code = _code(code)
        if max_redemptions is not None and (isinstance(max_redemptions, bool) or not isinstance(max_redemptions, int)
                                            or max_redemptions < 1):
            raise CouponError("max_redemptions is a whole number ≥ 1, or none for unlimited")
        if valid_from and valid_until and valid_from > valid_until:
            raise CouponError("a coupon's validity ends before it starts")
        now = self._clock.now()
        with self._write() as db:
            row = db.execute("SELECT body FROM promotions WHERE promotion_id = ?", (promotion_id,)).fetchone()
            if row is None:
                raise UnknownPromotionError(f"no promotion {promotion_id!r}")
            if not promotion_from_dict(json.loads(row[0])).coupon_code:
                raise CouponError(f"promotion {promotion_id} has no coupon_code; it runs without coupons")
            if db.execute("SELECT 1 FROM coupons WHERE code = ?", (code,)).fetchone():
                raise CouponError(f"coupon {code} exists already")
            db.execute(
                "INSERT INTO coupons (code, promotion_id, max_redemptions, valid_from, valid_until, active, created_at,"
                " created_by) VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
                (code, promotion_id, max_redemptions, valid_from.isoformat() if valid_from else None,
                 valid_until.isoformat() if valid_until else None, now.isoformat(), actor),
            )
            self._bump(db, "coupon", code, "created", actor, now)
            audit(db, actor=actor, action="coupon.create", target=f"coupon:{code}",
                  after={"promotion_id": promotion_id, "max_redemptions": max_redemptions,
                         "valid_from": valid_from, "valid_until": valid_until}, at=now)
        return self.coupon(code)

    def set_coupon_active(self, code: str, active: bool, *, actor: str) -> Coupon:
        code = _code(code)
        now = self._clock.now()
        with self._write() as db:
            row = db.execute("SELECT active FROM coupons WHERE code = ?", (code,)).fetchone()
            if row is None:
                raise UnknownCouponError(f"no coupon {code!r}")
            if bool(row[0]) != active:
                db.execute("UPDATE coupons SET active = ? WHERE code = ?", (int(active), code))
                self._bump(db, "coupon", code, "activated" if active else "withdrawn", actor, now)
                audit(db, actor=actor, action="coupon.activate" if active else "coupon.withdraw",
                      target=f"coupon:{code}", before={"active": bool(row[0])}, after={"active": active}, at=now)
        return self.coupon(code)

    def _resolve(self, db: sqlite3.Connection, code: str, today: date) -> str:
        """The promotion coupon code a presented code unlocks, or :class:`CouponRejectedError`."""
        found = self._coupons(db, code)
        if found:
            coupon = found[0]
            why = coupon.rejection(today)
            row = db.execute("SELECT body, active FROM promotions WHERE promotion_id = ?",
                             (coupon.promotion_id,)).fetchone()
            if why is None and (row is None or not row[1]):
                why = "its promotion is not running"
            if why is not None:
                raise CouponRejectedError(code, why)
            return str(promotion_from_dict(json.loads(row[0])).coupon_code)
        for promo in self._active(db):
            if promo.coupon_code == code:
                return code
        raise CouponRejectedError(code, "unknown code")

    def resolve_coupons(self, codes: Iterable[str], *, at: datetime | None = None) -> tuple[frozenset[str], dict[str, str]]:
        """Presented codes → (the promotion codes to price with, rejected code → reason)."""
        today = (at or self.local_now()).date()
        accepted: set[str] = set()
        rejected: dict[str, str] = {}
        with self._reading() as db:
            for raw in codes:
                try:
                    code = _code(raw)
                    accepted.add(self._resolve(db, code, today))
                except CouponRejectedError as exc:
                    rejected[exc.code] = exc.reason
                except CouponError as exc:
                    rejected[str(raw)] = str(exc)
        return frozenset(accepted), rejected

    def redeem(self, code: str, *, ref: str, at: datetime | None = None) -> Coupon:
        """Count one use of a coupon by a sale (idempotent by ``ref``); refuses a coupon that
        cannot be used (:class:`CouponRejectedError`)."""
        code = _code(code)
        if not ref:
            raise CouponError("a redemption needs the sale's reference")
        now = at or self._clock.now()
        with self._write() as db:
            if not self._coupons(db, code):
                raise UnknownCouponError(f"no coupon {code!r}")
            if db.execute("SELECT 1 FROM coupon_redemptions WHERE code = ? AND ref = ?", (code, ref)).fetchone() is None:
                self._resolve(db, code, now.astimezone(self._tz).date())
                db.execute("INSERT INTO coupon_redemptions (code, ref, at) VALUES (?, ?, ?)", (code, ref, now.isoformat()))
        return self.coupon(code)

    # -- preview --------------------------------------------------------------------------------
    def preview(
        self,
        lines: Sequence[SampleLine],
        *,
        at: datetime | None = None,
        member_level: str | None = None,
        coupons: Iterable[str] = (),
        drafts: Sequence[Promotion] = (),
    ) -> tuple[PricedBasket, dict[str, str]]:
        """Price a sample basket with the active promotions (plus ``drafts``, unsaved
        promotions that replace any active one of the same id) at shop-local time ``at``
        (default now). Returns the priced basket and the coupons that were rejected."""
        when = (at or self._clock.now())
        if when.tzinfo is not None:
            when = when.astimezone(self._tz)
        with self._reading() as db:
            draft_ids = {d.promotion_id for d in drafts}
            active = [p for p in self._active(db) if p.promotion_id not in draft_ids]
        pset = self.compile([*active, *drafts])
        accepted, rejected = self.resolve_coupons(coupons, at=when)
        for draft in drafts:  # a draft's own code works in a preview
            if draft.coupon_code and draft.coupon_code in {str(c).strip().upper() for c in coupons}:
                accepted |= {draft.coupon_code}
                rejected.pop(draft.coupon_code, None)
        priced = preview(lines, self.catalogue_index(), pset, at=when, currency=self.currency,
                         member_level=member_level, coupon_codes=accepted)
        return priced, rejected
