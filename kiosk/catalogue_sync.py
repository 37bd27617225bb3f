"""The kiosk side of the catalogue replica: receive it from the edge, keep it, hand it over.

The edge keeps retained on the bus (see :mod:`edge.catalogue.publisher`): a manifest naming
the current snapshot ``V``, the chunks of ``V``, one cumulative delta ``V -> now`` and the
promotions. A kiosk:

1. at construction loads its persisted replica (:class:`ReplicaStore`), so it sells at once,
   before the broker is even reachable;
2. subscribes to the manifest, the delta and the promotions only (three small messages);
3. if the delta reaches its version it applies it and is done; otherwise it subscribes to
   the chunks of ``V``, assembles them, verifies count and digest against the manifest,
   then applies the delta;
4. swaps to the new replica only once it is complete and verified (a partial or corrupted
   download never replaces the replica in use), persists it, and hands a new
   :class:`~kiosk.catalogue_replica.CatalogueReplica` to ``on_replica``;
5. reports a rejected message and a replica that stays behind the edge's version for more
   than ``stale_after_s`` as device events and in its health (device ``catalogue``).

:class:`CatalogueSync` is the transport-free core (``handle(topic, payload)`` then
``flush()``); :class:`MqttCatalogueSync` runs it on the store bus. Persistence is a port,
:class:`ReplicaStore`: :class:`SqliteReplicaStore` (WAL, full sync, one transaction per
update) and :class:`SimulatedReplicaStore` (in memory).
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Collection, Iterable, Mapping, Protocol, Sequence, runtime_checkable

import paho.mqtt.client as mqtt

from broker.paho_client import build_client, connect_in_background, disconnect_and_stop
from broker.contract import (
    CatalogueManifest,
    CataloguePromotions,
    ContractError,
    DeviceEvent,
    catalogue_delta_topic,
    catalogue_manifest_topic,
    catalogue_promotions_topic,
    catalogue_snapshot_filter,
    encode,
    kiosk_topic,
    parse_topic,
)
from broker.contract import decode as decode_message
from broker.endpoint import MqttEndpoint
from edge.catalogue import replica_format as fmt
from edge.catalogue.errors import CatalogueStoreError, ReplicaChecksumError, ReplicaFormatError, ReplicaGapError
from kiosk.catalogue_replica import CatalogueReplica, CatalogueReplicaError
from kiosk.devices.health import DeviceHealth, DeviceStatus
from kiosk.errors import KioskError
from retail.catalogue import CatalogueItem
from retail.clock import Clock

__all__ = [
    "CatalogueSync",
    "CatalogueSyncError",
    "MqttCatalogueSync",
    "PromotionsBundle",
    "ReplicaStore",
    "ReplicaStoreError",
    "SimulatedReplicaStore",
    "SqliteReplicaStore",
    "StoredReplica",
]

log = logging.getLogger(__name__)

DEVICE = "catalogue"


class CatalogueSyncError(KioskError):
    """Root of the catalogue sync's errors."""


class ReplicaStoreError(CatalogueSyncError, OSError):
    """The persisted replica could not be read or written."""


@dataclass(frozen=True, slots=True)
class PromotionsBundle:
    """The promotions (and coupons) the edge published, as JSON objects, at ``version``."""

    version: int
    promotions: tuple[Mapping[str, Any], ...] = ()
    coupons: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class StoredReplica:
    """What a :class:`ReplicaStore` gives back: a complete replica and the promotions."""

    state: fmt.ReplicaState
    promotions: PromotionsBundle | None = None


# ---------------------------------------------------------------------------------------------
# persistence port


@runtime_checkable
class ReplicaStore(Protocol):
    """Keeps the kiosk's last complete replica across restarts. ``save`` is atomic: after a
    crash ``load`` returns the replica before or after it, never a mix."""

    def load(self) -> StoredReplica | None:
        """The persisted replica (None if there is none or it fails its digest)."""
        ...

    def save(
        self,
        state: fmt.ReplicaState,
        *,
        changed_skus: Collection[str] | None = None,
        changed_categories: Collection[str] | None = None,
        chunks: Sequence[bytes] | None = None,
    ) -> None:
        """Persist ``state``; with ``changed_*`` only those rows changed since the last save
        (``None`` rewrites everything). ``chunks``, with a full save, are the snapshot chunks
        ``state`` was assembled from: a store may keep those instead of the rows."""
        ...

    def save_promotions(self, bundle: PromotionsBundle) -> None: ...

    def close(self) -> None: ...


def _check_state(state: fmt.ReplicaState) -> None:
    if not state.complete:
        raise ReplicaStoreError("only a complete replica is persisted")


class SimulatedReplicaStore:
    """Simulator of :class:`ReplicaStore`: keeps the replica in memory (one per kiosk run).
    ``fail_writes = True`` makes every save raise, as a full or broken disk would."""

    def __init__(self) -> None:
        self._stored: StoredReplica | None = None
        self._promotions: PromotionsBundle | None = None
        self.saves = 0
        self.fail_writes = False
        self._closed = False

    def load(self) -> StoredReplica | None:
        if self._closed:
            raise ReplicaStoreError("the replica store is closed")
        if self._stored is None:
            return None
        return StoredReplica(self._stored.state, self._promotions)

    def save(
        self,
        state: fmt.ReplicaState,
        *,
        changed_skus: Collection[str] | None = None,
        changed_categories: Collection[str] | None = None,
        chunks: Sequence[bytes] | None = None,
    ) -> None:
        if self._closed:
            raise ReplicaStoreError("the replica store is closed")
        if self.fail_writes:
            raise ReplicaStoreError("simulated write failure")
        _check_state(state)
        self._stored = StoredReplica(fmt.ReplicaState(state.version, state.products, state.categories, state.digest))
        self.saves += 1

    def save_promotions(self, bundle: PromotionsBundle) -> None:
        if self._closed:
            raise ReplicaStoreError("the replica store is closed")
        if self.fail_writes:
            raise ReplicaStoreError("simulated write failure")
        self._promotions = bundle

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> SimulatedReplicaStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS replica_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS replica_chunks (n INTEGER PRIMARY KEY, blob BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS replica_products (sku TEXT PRIMARY KEY, row TEXT)",
    "CREATE TABLE IF NOT EXISTS replica_categories (code TEXT PRIMARY KEY, row TEXT)",
)


def _dump(row: Any) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


class SqliteReplicaStore:
    """:class:`ReplicaStore` in a SQLite file of the kiosk's data folder (WAL, full sync).

    A snapshot is kept as the compressed chunks it arrived in (cheap to write); rows changed
    since then are kept beside them (a NULL row: removed). A delta rewrites only the rows it
    touched, in one transaction with the new version and digest; :meth:`load` rebuilds the
    replica, re-computes the digest and refuses a file that does not match."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise ReplicaStoreError(f"cannot open {self.path}: {exc}") from exc
        self._conn: sqlite3.Connection | None = conn
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            for sql in _SCHEMA:
                conn.execute(sql)
        except sqlite3.Error as exc:
            conn.close()
            self._conn = None
            raise ReplicaStoreError(f"cannot prepare {self.path}: {exc}") from exc

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ReplicaStoreError("the replica store is closed")
        return self._conn

    def load(self) -> StoredReplica | None:
        with self._lock:
            db = self._db()
            try:
                meta = dict(db.execute("SELECT key, value FROM replica_meta").fetchall())
                if "version" not in meta:
                    return None
                base = fmt.empty_state()
                for (blob,) in db.execute("SELECT blob FROM replica_chunks ORDER BY n"):
                    base = fmt.apply(base, bytes(blob))
                products, cats = dict(base.products), dict(base.categories)
                for table, rows in (("replica_products", products), ("replica_categories", cats)):
                    for key, row in db.execute(f"SELECT * FROM {table}"):
                        if row is None:
                            rows.pop(key, None)
                        else:
                            rows[key] = json.loads(row)
            except (sqlite3.Error, ValueError, CatalogueStoreError) as exc:
                log.error("persisted catalogue replica unreadable (%s); waiting for the edge", exc)
                return None
        digest = fmt.digest_of(products.values(), cats.values())
        if format(digest, "032x") != meta.get("digest"):
            log.error("persisted catalogue replica v%s fails its digest; waiting for the edge", meta["version"])
            return None
        state = fmt.ReplicaState(int(meta["version"]), MappingProxyType(products), MappingProxyType(cats), digest)
        promotions = None
        if "promotions" in meta:
            data = json.loads(meta["promotions"])
            promotions = PromotionsBundle(int(data["version"]), tuple(data["promotions"]), tuple(data["coupons"]))
        return StoredReplica(state, promotions)

    def save(
        self,
        state: fmt.ReplicaState,
        *,
        changed_skus: Collection[str] | None = None,
        changed_categories: Collection[str] | None = None,
        chunks: Sequence[bytes] | None = None,
    ) -> None:
        _check_state(state)
        with self._lock:
            db = self._db()
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    if changed_skus is None:
                        for table in ("replica_chunks", "replica_products", "replica_categories"):
                            db.execute(f"DELETE FROM {table}")
                        if chunks is not None:
                            db.executemany("INSERT INTO replica_chunks (n, blob) VALUES (?, ?)", enumerate(chunks))
                        else:
                            db.executemany("INSERT INTO replica_products (sku, row) VALUES (?, ?)",
                                           [(sku, _dump(row)) for sku, row in state.products.items()])
                    else:
                        self._patch(db, "replica_products", "sku", state.products, changed_skus)
                    if changed_categories is None:
                        if chunks is None:
                            db.executemany("INSERT INTO replica_categories (code, row) VALUES (?, ?)",
                                           [(code, _dump(row)) for code, row in state.categories.items()])
                    else:
                        self._patch(db, "replica_categories", "code", state.categories, changed_categories)
                    db.executemany(
                        "INSERT INTO replica_meta (key, value) VALUES (?, ?)"
                        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [("version", str(state.version)), ("digest", format(state.digest, "032x"))],
                    )
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise ReplicaStoreError(f"cannot save the replica to {self.path}: {exc}") from exc

    @staticmethod
    def _patch(db: sqlite3.Connection, table: str, key: str, rows: Mapping[str, Any], changed: Collection[str]) -> None:
        # a removal is a NULL row: the snapshot chunks kept underneath may still hold the key
        db.executemany(f"INSERT INTO {table} ({key}, row) VALUES (?, ?)"
                       f" ON CONFLICT ({key}) DO UPDATE SET row = excluded.row",
                       [(k, _dump(rows[k]) if k in rows else None) for k in changed])

    def save_promotions(self, bundle: PromotionsBundle) -> None:
        body = _dump({"version": bundle.version, "promotions": list(bundle.promotions), "coupons": list(bundle.coupons)})
        with self._lock:
            try:
                self._db().execute("INSERT INTO replica_meta (key, value) VALUES ('promotions', ?)"
                                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (body,))
            except sqlite3.Error as exc:
                raise ReplicaStoreError(f"cannot save promotions to {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SqliteReplicaStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# the core

ReplicaFactory = Callable[[Iterable[CatalogueItem], str], CatalogueReplica]
ReplicaCallback = Callable[[CatalogueReplica, "PromotionsBundle | None"], None]


def default_replica_factory(items: Iterable[CatalogueItem], version: str) -> CatalogueReplica:
    return CatalogueReplica(items, version=version)


@dataclass
class _Pending:
    """What changed since the last flush."""

    full: bool = False
    chunks: list[bytes] | None = None
    skus: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    promotions: bool = False

    @property
    def replica(self) -> bool:
        return self.full or bool(self.skus) or bool(self.categories)


class CatalogueSync:
    """The kiosk's catalogue replica kept in step with the edge (transport-free; see the
    module docstring). Feed it bus messages with :meth:`handle`, then call :meth:`flush` to
    persist and hand over what changed; :meth:`tick` checks staleness.

    It is the ``catalogue`` device for health reporting (``name``, ``health()``,
    ``self_test()``). Device events to publish are collected for :meth:`take_events`.
    ``on_replica(replica, promotions)`` and ``on_state(state)`` are called on the thread that
    flushes; a UI hands the replica over to its own thread itself.
    """

    name = DEVICE

    def __init__(
        self,
        store: ReplicaStore,
        *,
        store_id: str,
        kiosk_id: str,
        clock: Clock,
        on_replica: ReplicaCallback | None = None,
        on_state: Callable[[fmt.ReplicaState], None] | None = None,
        replica_factory: ReplicaFactory = default_replica_factory,
        stale_after_s: float = 120.0,
    ) -> None:
        if stale_after_s <= 0:
            raise CatalogueSyncError("stale_after_s must be positive")
        self._store = store
        self.store_id = store_id
        self.kiosk_id = kiosk_id
        self._clock = clock
        self.on_replica = on_replica
        self.on_state = on_state
        self._factory = replica_factory
        self._stale_after_s = stale_after_s
        self.topics = {
            "manifest": catalogue_manifest_topic(store_id),
            "delta": catalogue_delta_topic(store_id),
            "promotions": catalogue_promotions_topic(store_id),
        }
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._state = fmt.empty_state()
        self._promotions: PromotionsBundle | None = None
        self._manifest: CatalogueManifest | None = None
        self._chunks: dict[int, bytes] = {}
        self._delta: bytes | None = None
        self._delta_span: tuple[int, int] | None = None
        self._resync = False
        self._failed_snapshot: int | None = None
        self._suspect_delta: bytes | None = None  # failed once: retried on a fresh snapshot
        self._bad_delta: bytes | None = None  # failed on a fresh snapshot too: never applied
        self._pending = _Pending()
        self._items: dict[str, CatalogueItem] | None = None  # built for the first replica, then patched
        self._replica: CatalogueReplica | None = None
        self._events: list[DeviceEvent] = []
        self._behind_since: float | None = None
        self._stale = False
        self._error: str | None = None
        self._status: tuple[DeviceStatus, str] | None = None
        self._since = clock.now()
        self.rejected = 0
        self.snapshots_applied = 0
        self.deltas_applied = 0
        self._load()

    # -- persisted replica ----------------------------------------------------------------------
    def _load(self) -> None:
        try:
            stored = self._store.load()
        except ReplicaStoreError as exc:
            log.error("kiosk %s: persisted catalogue unavailable: %s", self.kiosk_id, exc)
            stored = None
        if stored is None:
            return
        self._state = stored.state
        self._promotions = stored.promotions
        log.info("kiosk %s: catalogue v%d loaded from disk (%d products)", self.kiosk_id, self._state.version,
                 len(self._state.products))

    # -- what others read -----------------------------------------------------------------------
    @property
    def state(self) -> fmt.ReplicaState:
        return self._state

    @property
    def version(self) -> int:
        """The version of the complete replica in use (0: none yet)."""
        return self._state.version

    @property
    def promotions(self) -> PromotionsBundle | None:
        return self._promotions

    @property
    def edge_version(self) -> int:
        """The newest catalogue version the edge has announced (0: not heard yet)."""
        known = self._manifest.version if self._manifest else 0
        return max(known, self._delta_span[1] if self._delta_span else 0)

    @property
    def last_error(self) -> str | None:
        return self._error

    def item(self, sku: str) -> CatalogueItem | None:
        """The product with this SKU in the replica in use (None if absent)."""
        row = self._state.products.get(sku)
        return None if row is None else fmt.row_to_item(row)

    def replica(self) -> CatalogueReplica | None:
        """The :class:`CatalogueReplica` of the replica in use (built on first use)."""
        with self._lock:
            if self._replica is None and self._state.complete:
                self._replica = self._build_replica()
            return self._replica

    def subscriptions(self) -> list[str]:
        """The topic filters to subscribe to now: the three small topics, and the chunks of
        the current snapshot while one is needed."""
        with self._lock:
            wanted = self.wanted_snapshot
        base = [self.topics["manifest"], self.topics["delta"], self.topics["promotions"]]
        return base + ([catalogue_snapshot_filter(self.store_id, wanted)] if wanted is not None else [])

    @property
    def wanted_snapshot(self) -> int | None:
        """The snapshot version whose chunks are needed (None: the replica is up to date or a
        delta brings it there)."""
        m = self._manifest
        if m is None or m.version == self._failed_snapshot:
            return None
        if self._resync:
            return m.version
        if self._state.version >= m.version:
            return None
        return None if self._delta_reaches() else m.version

    def _delta_reaches(self) -> bool:
        span = self._delta_span
        return (span is not None and self._state.complete and span[0] <= self._state.version
                and self._manifest is not None and span[1] >= self._manifest.version)

    def wait_for_version(self, version: int, timeout: float) -> bool:
        """Block until the replica in use is at ``version`` or later (True) or ``timeout``
        seconds pass (False). For tests and tools; the kiosk itself never waits."""
        with self._changed:
            return self._changed.wait_for(lambda: self._state.version >= version, timeout)

    # -- messages -------------------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes) -> None:
        """Take one bus message (any order; repeats and stale ones are harmless)."""
        try:
            ref = parse_topic(topic)
        except ContractError:
            log.debug("not a contract topic: %s", topic)
            return
        if ref.kind != "catalogue" or ref.store_id != self.store_id or not payload:
            return  # an empty payload is a cleared retained message
        parts = ref.rest.split("/")
        with self._lock:
            if parts == ["manifest"]:
                self._on_manifest(payload)
            elif parts == ["delta"]:
                self._on_delta(payload)
            elif parts == ["promotions"]:
                self._on_promotions(payload)
            elif len(parts) == 3 and parts[0] == "snapshot" and parts[1].isdigit() and parts[2].isdigit():
                self._on_chunk(int(parts[1]), int(parts[2]), payload)
            else:
                return
            self._advance()

    def _on_manifest(self, payload: bytes) -> None:
        try:
            manifest: CatalogueManifest = decode_message("catalogue_manifest", payload)
        except ContractError as exc:
            self._reject(f"catalogue manifest refused: {exc}")
            return
        if manifest.store_id != self.store_id:
            return
        if self._manifest is None or manifest.version != self._manifest.version:
            self._chunks.clear()
            log.info("kiosk %s: edge catalogue snapshot v%d (%d products, %d chunks)", self.kiosk_id,
                     manifest.version, manifest.count, manifest.chunks)
        self._manifest = manifest

    def _on_delta(self, payload: bytes) -> None:
        try:
            msg = fmt.decode(payload)
        except ReplicaFormatError as exc:
            self._reject(f"catalogue delta refused: {exc}")
            return
        if msg["kind"] != "delta":
            self._reject("a snapshot chunk arrived on the delta topic")
            return
        self._delta = payload
        self._delta_span = (int(msg["from"]), int(msg["version"]))

    def _on_chunk(self, version: int, index: int, payload: bytes) -> None:
        m = self._manifest
        if m is None or version != m.version or index >= m.chunks or self.wanted_snapshot != version:
            return
        self._chunks[index] = payload

    def _on_promotions(self, payload: bytes) -> None:
        try:
            msg: CataloguePromotions = decode_message("catalogue_promotions", payload)
        except ContractError as exc:
            self._reject(f"promotions refused: {exc}")
            return
        if msg.store_id != self.store_id:
            return
        if self._promotions is None or msg.version != self._promotions.version:
            self._promotions = PromotionsBundle(msg.version, tuple(msg.promotions), tuple(msg.coupons))
            self._pending.promotions = True

    def _advance(self) -> None:
        m = self._manifest
        if m is not None and self.wanted_snapshot == m.version and len(self._chunks) == m.chunks:
            self._assemble(m)
        span = self._delta_span
        if (span is not None and self._delta is not None and self._delta != self._bad_delta
                and self._state.complete and not self._resync):
            if span[0] <= self._state.version < span[1]:
                self._apply_delta(self._delta)
        self._note_lag()

    def _assemble(self, m: CatalogueManifest) -> None:
        chunks, self._chunks = self._chunks, {}
        state = fmt.empty_state()
        try:
            for index in range(m.chunks):
                state = fmt.apply(state, chunks[index])
            if not state.complete or state.version != m.version:
                raise ReplicaChecksumError(f"the chunks are not snapshot v{m.version}")
            if len(state.products) != m.count or format(state.digest, "032x") != m.digest:
                raise ReplicaChecksumError(f"snapshot v{m.version} does not match its manifest")
        except (ReplicaFormatError, ReplicaChecksumError, ReplicaGapError) as exc:
            self._failed_snapshot = m.version
            self._reject(f"catalogue snapshot v{m.version} rejected, replica v{self._state.version} kept: {exc}")
            return
        self._state = state
        self._resync = False
        self._failed_snapshot = None
        self._pending = _Pending(full=True, chunks=[chunks[i] for i in range(m.chunks)],
                                 promotions=self._pending.promotions)
        self.snapshots_applied += 1
        self._error = None
        log.info("kiosk %s: catalogue snapshot v%d applied (%d products)", self.kiosk_id, m.version, len(state.products))

    def _apply_delta(self, blob: bytes) -> None:
        try:
            msg = fmt.decode(blob)
            state = fmt.apply(self._state, blob)
        except (ReplicaFormatError, ReplicaChecksumError, ReplicaGapError) as exc:
            if blob == self._suspect_delta:  # wrong on a fresh snapshot too: the delta is bad
                self._bad_delta, self._suspect_delta = blob, None
            else:  # the replica or the delta is wrong: fetch the snapshot and try once more
                self._suspect_delta, self._resync = blob, True
            self._reject(f"catalogue delta rejected, replica v{self._state.version} kept: {exc}")
            return
        self._state = state
        self._suspect_delta = None
        self._pending.skus.update(str(r[0]) for r in msg["upserts"])
        self._pending.skus.update(str(s) for s in msg["removals"])
        self._pending.categories.update(str(c[0]) for c in msg["category_upserts"])
        self._pending.categories.update(str(c) for c in msg["category_removals"])
        self.deltas_applied += 1
        self._error = None

    def _reject(self, why: str) -> None:
        self.rejected += 1
        self._error = why
        log.error("kiosk %s: %s", self.kiosk_id, why)
        self._event("replica_rejected", why)

    def _event(self, kind: str, detail: str) -> None:
        self._events.append(DeviceEvent(event_id=str(uuid.uuid4()), kiosk_id=self.kiosk_id, device=DEVICE,
                                        kind=kind, detail=detail[:500], at=self._clock.now()))

    def _note_lag(self) -> None:
        behind = self.edge_version > self._state.version
        if behind and self._behind_since is None:
            self._behind_since = self._clock.monotonic()
        elif not behind:
            self._behind_since = None
            if self._stale:
                self._stale = False
                log.info("kiosk %s: catalogue up to date again (v%d)", self.kiosk_id, self._state.version)

    def reconnected(self) -> None:
        """A new connection: the retained messages come again, so a snapshot that failed may
        be tried again (the edge may have re-published it)."""
        with self._lock:
            self._failed_snapshot = None
            self._chunks.clear()

    def tick(self) -> None:
        """Check staleness: behind the edge's version for ``stale_after_s`` raises one
        ``replica_stale`` event (and degrades health) until the replica catches up."""
        with self._lock:
            self._note_lag()
            if (self._behind_since is not None and not self._stale
                    and self._clock.monotonic() - self._behind_since >= self._stale_after_s):
                self._stale = True
                why = (f"catalogue v{self._state.version} behind the edge's v{self.edge_version}"
                       f" for {self._stale_after_s:.0f} s")
                log.warning("kiosk %s: %s", self.kiosk_id, why)
                self._event("replica_stale", why)

    def take_events(self) -> list[DeviceEvent]:
        """The device events raised since the last call (to publish on the kiosk's event topic)."""
        with self._lock:
            events, self._events = self._events, []
            return events

    # -- handing over ---------------------------------------------------------------------------
    def flush(self) -> bool:
        """Persist what changed and hand it over; True if the replica or promotions changed."""
        with self._lock:
            pending, self._pending = self._pending, _Pending()
            if not pending.replica and not pending.promotions:
                return False
            state = self._state
            try:
                if pending.replica:
                    if pending.full and (pending.skus or pending.categories):
                        # a snapshot and a delta in one batch: the chunks no longer describe the
                        # state, so the rows are written instead
                        self._store.save(state)
                    elif pending.full:
                        self._store.save(state, chunks=pending.chunks)
                    else:
                        self._store.save(state, changed_skus=pending.skus, changed_categories=pending.categories)
                if pending.promotions and self._promotions is not None:
                    self._store.save_promotions(self._promotions)
            except ReplicaStoreError as exc:
                # keep selling from memory; the next full snapshot will try the disk again
                self._error = f"catalogue not persisted: {exc}"
                log.error("kiosk %s: %s", self.kiosk_id, self._error)
                self._event("replica_not_saved", self._error)
            if pending.replica:
                if pending.full:
                    self._items = None
                elif self._items is not None:
                    self._patch_items(pending.skus)
                self._replica = None
            self._changed.notify_all()
        if pending.replica and self.on_state is not None:
            self.on_state(state)
        self.announce()
        return True

    def announce(self) -> None:
        """Hand the replica in use (and promotions) to ``on_replica``, if there is one."""
        if self.on_replica is None:
            return
        replica = self.replica()
        if replica is not None:
            self.on_replica(replica, self._promotions)

    def _patch_items(self, skus: Collection[str]) -> None:
        products = self._state.products
        items = self._items
        if items is None:  # pragma: no cover - callers check
            return
        for sku in skus:
            row = products.get(sku)
            if row is None:
                items.pop(sku, None)
            else:
                items[sku] = fmt.row_to_item(row)

    def _build_replica(self) -> CatalogueReplica | None:
        if self._items is None:
            self._items = {sku: fmt.row_to_item(row) for sku, row in self._state.products.items()}
        try:
            return self._factory(list(self._items.values()), str(self._state.version))
        except CatalogueReplicaError as exc:
            self._reject(f"catalogue v{self._state.version} cannot be sold from: {exc}")
            return None

    # -- health ---------------------------------------------------------------------------------
    def health(self) -> DeviceHealth:
        with self._lock:
            if not self._state.complete:
                status, code, detail = DeviceStatus.FAULT, "catalogue_missing", "no catalogue received yet"
            elif self._stale:
                status, code = DeviceStatus.DEGRADED, "catalogue_stale"
                detail = f"catalogue v{self._state.version}, edge at v{self.edge_version}"
            elif self._error is not None:
                status, code, detail = DeviceStatus.DEGRADED, "catalogue_rejected", self._error
            else:
                status, code, detail = DeviceStatus.OK, "", f"catalogue v{self._state.version}"
            if self._status != (status, code):
                self._status = (status, code)
                self._since = self._clock.now()
            return DeviceHealth(DEVICE, status, self._since, code, detail[:500])

    def self_test(self) -> DeviceHealth:
        """Re-verify the digest of the replica in use, then report health."""
        with self._lock:
            state = self._state
            if state.complete and fmt.digest_of(state.products.values(), state.categories.values()) != state.digest:
                self._error = "the replica in memory fails its digest"
        return self.health()


# ---------------------------------------------------------------------------------------------
# the MQTT transport


class MqttCatalogueSync:
    """Runs a :class:`CatalogueSync` on the store bus with its own MQTT connection
    (client id ``<kiosk>-catalogue``, the kiosk's login). A context manager; ``close()`` is
    idempotent and closes neither the sync nor its store.

    Threads: paho's network thread only queues; one worker applies messages in arrival
    order, flushes after each batch, follows :meth:`CatalogueSync.subscriptions`, ticks the
    staleness check every ``tick_s`` and publishes the sync's device events."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        sync: CatalogueSync,
        *,
        client_id: str | None = None,
        keepalive_s: int = 15,
        reconnect_max_s: float = 2.0,
        tick_s: float = 1.0,
    ) -> None:
        self._endpoint = endpoint
        self.sync = sync
        self._tick_s = tick_s
        self._keepalive_s = keepalive_s
        self._queue: queue.SimpleQueue[tuple[str, str, bytes] | None] = queue.SimpleQueue()
        self._connected = threading.Event()
        self._closed = False
        self._worker: threading.Thread | None = None
        self._subscribed: set[str] = set()
        self._sub_lock = threading.Lock()
        self._event_topic = kiosk_topic(sync.store_id, sync.kiosk_id, "event")
        self._client = build_client(endpoint, client_id or f"{sync.kiosk_id}-catalogue", reconnect_max_s=reconnect_max_s)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def start(self) -> MqttCatalogueSync:
        """Hand the persisted replica over at once, then connect in the background."""
        if self._closed:
            raise CatalogueSyncError("the catalogue sync is closed")
        if self._worker is not None:
            return self
        self.sync.announce()
        connect_in_background(self._client, self._endpoint, keepalive_s=self._keepalive_s)
        self._worker = threading.Thread(target=self._run, name=f"catalogue-sync-{self.sync.kiosk_id}", daemon=True)
        self._worker.start()
        return self

    def __enter__(self) -> MqttCatalogueSync:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout=10)
        disconnect_and_stop(self._client, "catalogue sync")

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    # -- paho callbacks -------------------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.error("kiosk %s: broker refused the catalogue connection: %s", self.sync.kiosk_id, reason)
            return
        self._queue.put(("connected", "", b""))
        with self._sub_lock:
            self._subscribed = set(self.sync.subscriptions())
            client.subscribe([(f, 1) for f in sorted(self._subscribed)])
        self._connected.set()
        log.info("kiosk %s: catalogue sync connected", self.sync.kiosk_id)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        if self._connected.is_set() and not self._closed:
            log.warning("kiosk %s: catalogue sync disconnected: %s", self.sync.kiosk_id, reason)
        self._connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self._queue.put(("message", msg.topic, bytes(msg.payload)))

    # -- worker ---------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self._tick_s)
            except queue.Empty:
                item = ("tick", "", b"")
            if item is None:
                return
            batch = [item]
            stop = False
            while True:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                for kind, topic, payload in batch:
                    if kind == "message":
                        self.sync.handle(topic, payload)
                    elif kind == "connected":
                        self.sync.reconnected()
                self.sync.flush()
                self.sync.tick()
                self._follow_subscriptions()
                self._publish_events()
            except Exception:  # noqa: BLE001 - the kiosk keeps selling from the replica it has
                log.exception("kiosk %s: catalogue sync step failed", self.sync.kiosk_id)
            if stop:
                return

    def _follow_subscriptions(self) -> None:
        if not self._connected.is_set():
            return
        wanted = set(self.sync.subscriptions())
        with self._sub_lock:
            gone, new = self._subscribed - wanted, wanted - self._subscribed
            if gone:
                self._client.unsubscribe(sorted(gone))
            if new:
                self._client.subscribe([(f, 1) for f in sorted(new)])
            self._subscribed = wanted

    def _publish_events(self) -> None:
        for event in self.sync.take_events():
            self._client.publish(self._event_topic, encode(event), qos=1)
