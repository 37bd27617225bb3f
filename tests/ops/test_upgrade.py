"""Upgrading with data in place: an old kiosk journal with unsent sales is migrated and drains."""

from __future__ import annotations

import io
import random
import sqlite3
import time
from pathlib import Path

import pytest

from broker.contract import Sale, encode
from edge.ingest import IngestCore, in_process_edge
from edge.ledger import Ledger
from kiosk.bus import SimulatedKioskBus
from kiosk.outbox import SaleOutbox
from kiosk.outbox.migrations import STEPS, migrate
from kiosk.simulated_seller import random_sale_draft
from retail.clock import FakeClock, SystemClock
from tillpi_ops import cli
from tillpi_ops.backup import restore
from tillpi_ops.errors import UpgradeError
from tillpi_ops.upgrade import upgrade_edge, upgrade_kiosk

STORE, KIOSK = "s1", "kiosk-05"


def _old_journal(path: Path, pending: int, done: int = 1) -> list[Sale]:
    """A journal as version 1 of the software left it: only the first schema step, sales in that shape."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, STEPS[:1])
    rng, clock = random.Random(3), FakeClock()
    sales = [Sale.from_draft(random_sale_draft(rng, store_id=STORE, kiosk_id=KIOSK, clock=clock), seq)
             for seq in range(1, pending + done + 1)]
    conn.execute("BEGIN")
    for key, value in (("store_id", STORE), ("kiosk_id", KIOSK), ("last_seq", str(len(sales)))):
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
    for sale in sales:
        conn.execute(
            "INSERT INTO sales (seq, sale_id, body, body_hash, business_date, total_minor, currency, recorded_at, state)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sale.seq, sale.sale_id, encode(sale), sale.body_hash, sale.business_date.isoformat(),
             sale.totals.total_minor, sale.currency, clock.now().isoformat(), "done" if sale.seq <= done else "pending"),
        )
    conn.execute("COMMIT")
    conn.close()
    return sales[done:]


def _columns(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[1] for row in conn.execute("PRAGMA table_info(sales)")}
    finally:
        conn.close()


def test_an_old_journal_is_backed_up_migrated_and_its_unsent_sales_drain(tmp_path: Path) -> None:
    data = tmp_path / "kiosk"
    unsent = _old_journal(data / "journal.sqlite", pending=4)
    assert "ack_count" not in _columns(data / "journal.sqlite")

    report = upgrade_kiosk(data, backup_dest=tmp_path / "backups", clock=FakeClock())
    change = report.change("journal")
    assert (change.before, change.after) == (1, len(STEPS)) and change.migrated
    assert report.pending == {f"{KIOSK} sales": 4}
    assert "ack_count" in _columns(data / "journal.sqlite")

    # the pre-upgrade backup holds the journal as it was, and restores to it
    restore(report.backup.folder, {"kiosk": tmp_path / "before"})
    assert "ack_count" not in _columns(tmp_path / "before/journal.sqlite")

    clock = SystemClock()
    with SaleOutbox(data / "journal.sqlite", store_id=STORE, kiosk_id=KIOSK, clock=clock) as outbox, \
            Ledger(tmp_path / "edge/ledger.sqlite3", clock=clock) as ledger:
        assert [e.sale_id for e in outbox.pending()] == [s.sale_id for s in unsent]
        core = IngestCore(ledger, store_id=STORE, clock=clock)
        with SimulatedKioskBus(outbox, in_process_edge(core), clock=clock):
            deadline = time.monotonic() + 30
            # this edge is new: it asks (resync) for seq 1 too, which the kiosk had already sent elsewhere
            while outbox.pending_count() or ledger.sale_count(KIOSK) < len(unsent) + 1:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{outbox.pending_count()} sales still pending after the upgrade")
                time.sleep(0.02)
        conn = sqlite3.connect(tmp_path / "edge/ledger.sqlite3")
        stored = {row[0] for row in conn.execute("SELECT sale_id FROM sales")}
        conn.close()
        assert {s.sale_id for s in unsent} <= stored and len(stored) == len(unsent) + 1
        new = outbox.record_sale(random_sale_draft(random.Random(9), store_id=STORE, kiosk_id=KIOSK, clock=clock))
        assert new.seq == len(unsent) + 2  # numbering goes on gapless from the old journal


def test_a_second_upgrade_changes_nothing(tmp_path: Path) -> None:
    _old_journal(tmp_path / "kiosk/journal.sqlite", pending=1)
    upgrade_kiosk(tmp_path / "kiosk", backup_dest=tmp_path / "b", clock=FakeClock())
    again = upgrade_kiosk(tmp_path / "kiosk", backup_dest=tmp_path / "b", clock=FakeClock(start=None))
    assert not again.change("journal").migrated and again.pending == {f"{KIOSK} sales": 1}


def test_a_journal_from_newer_software_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kiosk/journal.sqlite"
    _old_journal(path, pending=1)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(STEPS) + 1}")
    conn.close()
    with pytest.raises(UpgradeError, match="newer than this software"):
        upgrade_kiosk(tmp_path / "kiosk", backup_dest=tmp_path / "b")


def test_an_edge_upgrade_keeps_the_unsent_hq_outbox(tmp_path: Path) -> None:
    clock = SystemClock()
    with Ledger(tmp_path / "edge/ledger.sqlite3", clock=clock) as ledger:
        deliver = in_process_edge(IngestCore(ledger, store_id=STORE, clock=clock))
        rng = random.Random(1)
        for seq in range(1, 4):
            sale = Sale.from_draft(random_sale_draft(rng, store_id=STORE, kiosk_id=KIOSK, clock=clock), seq)
            deliver(f"tillpi/{STORE}/kiosk/{KIOSK}/sale", encode(sale))
    report = upgrade_edge(tmp_path / "edge", backup_dest=tmp_path / "b", clock=FakeClock())
    assert report.change("ledger").after == report.change("ledger").before == 1
    assert report.pending == {"hq_outbox": 3}
    assert report.backup.entry("edge", "ledger.sqlite3").tables["hq_outbox"] == 3


def test_the_upgrade_check_runs_once_per_installed_version(tmp_path: Path) -> None:
    _old_journal(tmp_path / "kiosk/journal.sqlite", pending=2)
    version = tmp_path / "VERSION"
    version.write_text("1.4.0\n")
    args = ["upgrade-check", "--kiosk-data", str(tmp_path / "kiosk"), "--backup-dest", str(tmp_path / "b"),
            "--once-per-version", str(version)]
    out = io.StringIO()
    assert cli.main(args, out=out) == 0
    assert "journal" in out.getvalue() and "schema 1 -> 2" in out.getvalue() and f"pending {KIOSK} sales: 2" in out.getvalue()
    out = io.StringIO()
    assert cli.main(args, out=out) == 0 and "already checked" in out.getvalue()
    assert len(list((tmp_path / "b").glob("tillpi-backup-*"))) == 1
    version.write_text("1.5.0\n")
    out = io.StringIO()
    assert cli.main(args, out=out) == 0 and "schema 2 -> 2" in out.getvalue()
