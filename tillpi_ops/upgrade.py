"""Upgrading with data in place: new software opens the old data folder and migrates it.

Devices in the field are upgraded with data on them (a kiosk may hold unsent sales; an edge
its ledger and HQ outbox). ``upgrade_kiosk`` and ``upgrade_edge``:

1. take a backup of the data folder first (:mod:`tillpi_ops.backup`), so a failed migration
   can be undone by a restore;
2. open every store with *this* software's own classes, which run their schema steps
   (kiosk sale journal, receipt spool and device profile; edge ledger and every component in
   the edge database: members, staff, audit, notify, catalogue, stock);
3. report each schema's version before and after, and what is still waiting to be sent.

Nothing is deleted: unsent sales stay ``pending`` and drain through the bus once the kiosk
runs again. A schema newer than this software raises :class:`UpgradeError` (a downgrade is a
restore, not a migration).

The image's upgrade path runs ``python -m tillpi_ops upgrade-check`` (``ExecStartPre=`` of the
services) before the services start.
"""

from __future__ import annotations

import importlib
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from retail.clock import Clock, SystemClock
from tillpi_ops.backup import BackupManifest, backup, is_sqlite
from tillpi_ops.errors import UpgradeError

__all__ = ["EDGE_COMPONENTS", "SchemaChange", "UpgradeReport", "upgrade_edge", "upgrade_kiosk"]

log = logging.getLogger(__name__)

#: Edge components migrated through ``edge.schema.migrate_component``: name -> (module, steps name).
#: Order matters where one component's tables refer to another's (catalogue before stock).
EDGE_COMPONENTS: tuple[tuple[str, str, str], ...] = (
    ("audit", "edge.staff.audit", "AUDIT_STEPS"),
    ("notify", "edge.notify.outbox", "OUTBOX_STEPS"),
    ("staff", "edge.staff.store", "STAFF_STEPS"),
    ("members", "edge.members.store", "MEMBERS_STEPS"),
    ("catalogue", "edge.catalogue.migrations", "STEPS"),
    ("stock", "edge.stock.migrations", "STEPS"),
)


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """One schema's version before and after the upgrade."""

    file: Path
    component: str
    before: int
    after: int

    @property
    def migrated(self) -> bool:
        return self.after != self.before


@dataclass(frozen=True, slots=True)
class UpgradeReport:
    """What an upgrade did: the pre-upgrade backup, each schema's versions, what still waits."""

    backup: BackupManifest
    changes: tuple[SchemaChange, ...]
    pending: dict[str, int]  # e.g. {"kiosk-05 sales": 3} or {"hq_outbox": 12}

    def change(self, component: str) -> SchemaChange:
        for c in self.changes:
            if c.component == component:
                return c
        raise KeyError(component)


def _user_version(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


# -- kiosk -----------------------------------------------------------------------------------


def upgrade_kiosk(
    data_dir: Path | str,
    *,
    backup_dest: Path | str,
    journal_name: str = "journal.sqlite",
    spool_name: str = "receipts.sqlite",
    profile_name: str = "profile.json",
    clock: Clock | None = None,
) -> UpgradeReport:
    """Back up the kiosk's data folder, then migrate its journal and spool and check its profile."""
    from kiosk.devices.printer.spool import ReceiptSpool
    from kiosk.errors import KioskError
    from kiosk.outbox import SaleOutbox
    from kiosk.profile import DeviceProfile

    clock = clock or SystemClock()
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UpgradeError(f"kiosk data folder {data_dir} does not exist")
    manifest = backup({"kiosk": data_dir}, backup_dest, clock=clock)
    changes: list[SchemaChange] = []
    pending: dict[str, int] = {}
    journal = data_dir / journal_name
    try:
        if journal.exists():
            before = _user_version(journal)
            conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
            try:
                ids = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('store_id', 'kiosk_id')").fetchall())
            except sqlite3.Error as exc:
                raise UpgradeError(f"{journal} is not a sale journal: {exc}") from None
            finally:
                conn.close()
            if set(ids) != {"store_id", "kiosk_id"}:
                raise UpgradeError(f"{journal} does not record which store and kiosk it belongs to")
            with SaleOutbox(journal, store_id=ids["store_id"], kiosk_id=ids["kiosk_id"], clock=clock) as outbox:
                changes.append(SchemaChange(journal, "journal", before, outbox.schema_version))
                pending[f"{ids['kiosk_id']} sales"] = outbox.pending_count()
        spool = data_dir / spool_name
        if spool.exists():
            with ReceiptSpool(spool, clock=clock) as receipts:
                pending["receipts to print"] = len(receipts.pending())
        profile = data_dir / profile_name
        if profile.exists():
            with DeviceProfile(profile) as opened:
                opened.validate()
    except KioskError as exc:
        raise UpgradeError(f"kiosk data in {data_dir} cannot be opened by this software: {exc}") from exc
    for change in changes:
        log.info("kiosk %s schema %d -> %d", change.component, change.before, change.after)
    return UpgradeReport(manifest, tuple(changes), pending)


# -- edge ------------------------------------------------------------------------------------


def upgrade_edge(
    edge_data: Path | str,
    *,
    backup_dest: Path | str,
    broker_data: Path | str | None = None,
    clock: Clock | None = None,
) -> UpgradeReport:
    """Back up the edge (and broker) data, then migrate every SQLite database in ``edge_data``.

    A database with the ledger's tables is opened as :class:`edge.ledger.Ledger`; one with a
    ``schema_versions`` table has each component it lists migrated with that component's steps.
    """
    from edge.errors import EdgeError
    from edge.ledger import Ledger
    from edge.schema import SchemaTooNewError, component_version, migrate_component

    clock = clock or SystemClock()
    edge_data = Path(edge_data)
    if not edge_data.is_dir():
        raise UpgradeError(f"edge data folder {edge_data} does not exist")
    sources: dict[str, Path | str] = {"edge": edge_data}
    if broker_data is not None:
        sources["broker"] = broker_data
    manifest = backup(sources, backup_dest, clock=clock)
    changes: list[SchemaChange] = []
    pending: dict[str, int] = {}
    for path in sorted(p for p in edge_data.rglob("*") if p.is_file() and is_sqlite(p)):
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            tables = _tables(conn)
            if {"sales", "stock_moves", "hq_outbox", "kiosk_sequences"} <= tables:
                before = int(conn.execute("PRAGMA user_version").fetchone()[0])
                conn.close()
                try:
                    with Ledger(path, clock=clock) as ledger:
                        changes.append(SchemaChange(path, "ledger", before, ledger.schema_version))
                except EdgeError as exc:
                    raise UpgradeError(f"ledger {path} cannot be opened by this software: {exc}") from exc
                conn = sqlite3.connect(str(path), isolation_level=None, timeout=30)
                tables = _tables(conn)
                pending["hq_outbox"] = pending.get("hq_outbox", 0) + int(
                    conn.execute("SELECT COUNT(*) FROM hq_outbox WHERE sent_at IS NULL").fetchone()[0]
                )
            if "schema_versions" in tables:
                present = {r[0] for r in conn.execute("SELECT component FROM schema_versions")}
                for component, module, steps_name in EDGE_COMPONENTS:
                    if component not in present:
                        continue
                    steps = getattr(importlib.import_module(module), steps_name)
                    before = component_version(conn, component)
                    try:
                        after = migrate_component(conn, component, steps)
                    except SchemaTooNewError as exc:
                        raise UpgradeError(f"{path}: {exc}") from exc
                    changes.append(SchemaChange(path, component, before, after))
                unknown = present - {c for c, _, _ in EDGE_COMPONENTS}
                for component in sorted(unknown):
                    log.warning("%s holds component %s that this upgrade check does not know", path, component)
        finally:
            conn.close()
    for change in changes:
        log.info("edge %s in %s: schema %d -> %d", change.component, change.file.name, change.before, change.after)
    return UpgradeReport(manifest, tuple(changes), pending)
