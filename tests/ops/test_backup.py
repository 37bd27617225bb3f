"""Online backups of the edge while it keeps selling, and a verified restore."""

from __future__ import annotations

import random
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from broker.ca import StoreCA
from broker.contract import Sale, encode, kiosk_topic
from broker.credentials import DeviceRegistry
from edge.ingest import IngestCore, in_process_edge
from edge.ledger import Ledger
from kiosk.simulated_seller import random_sale_draft
from retail.clock import FakeClock, SystemClock
from tillpi_ops import cli
from tillpi_ops.backup import backup, prune_backups, read_manifest, restore, verify_backup
from tillpi_ops.errors import BackupCorruptError, BackupError, RestoreTargetNotEmptyError

STORE = "s1"


class SellingEdge:
    """An edge whose ingest keeps recording sales from a thread until stopped."""

    def __init__(self, data: Path) -> None:
        self.clock = SystemClock()
        self.ledger = Ledger(data / "ledger.sqlite3", clock=self.clock)
        self.deliver = in_process_edge(IngestCore(self.ledger, store_id=STORE, clock=self.clock))
        self.rng = random.Random(7)
        self.seq = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sell, name="selling-edge", daemon=True)

    def sell_one(self) -> None:
        self.seq += 1
        draft = random_sale_draft(self.rng, store_id=STORE, kiosk_id="kiosk-01", clock=self.clock)
        self.deliver(kiosk_topic(STORE, "kiosk-01", "sale"), encode(Sale.from_draft(draft, self.seq)))

    def _sell(self) -> None:
        while not self.stop.is_set():
            self.sell_one()

    def __enter__(self) -> SellingEdge:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        self.ledger.close()


def _broker_data(folder: Path) -> DeviceRegistry:
    StoreCA(folder / "ca").ensure(STORE)
    registry = DeviceRegistry(folder)
    registry.add_edge()
    registry.add_kiosk("kiosk-01")
    (folder / "mosquitto.log").write_text("a log line\n")
    (folder / "broker.pid").write_text("12345\n")
    return registry


def _wait_for_sales(ledger: Ledger, n: int) -> None:
    import time

    deadline = time.monotonic() + 30
    while ledger.sale_count() < n:
        if time.monotonic() > deadline:
            raise AssertionError(f"the selling thread did not reach {n} sales")
        time.sleep(0.01)


def test_a_backup_taken_while_sales_are_written_restores_to_a_consistent_ledger(tmp_path: Path) -> None:
    edge_dir, broker_dir = tmp_path / "edge", tmp_path / "broker"
    registry = _broker_data(broker_dir)
    with SellingEdge(edge_dir) as edge:
        _wait_for_sales(edge.ledger, 30)
        before = edge.ledger.sale_count()
        manifest = backup({"edge": edge_dir, "broker": broker_dir}, tmp_path / "backups")
        _wait_for_sales(edge.ledger, edge.ledger.sale_count() + 20)  # it kept selling throughout
        after = edge.ledger.sale_count()
    entry = manifest.entry("edge", "ledger.sqlite3")
    assert entry.kind == "sqlite" and entry.integrity == "ok"
    assert before <= entry.tables["sales"] < after
    names = {e.path for e in manifest.entries}
    assert "devices/registry.json" in names and "ca/ca.key" in names
    assert not any(n.endswith(("-wal", "-shm", ".log", ".pid", ".lock")) for n in names)

    report = restore(manifest.folder, {"edge": tmp_path / "r/edge", "broker": tmp_path / "r/broker"})
    assert report.databases["edge/ledger.sqlite3"]["sales"] == entry.tables["sales"]
    restored = tmp_path / "r/edge/ledger.sqlite3"
    conn = sqlite3.connect(restored)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # one transaction per sale: no sale without its lines or its HQ outbox row, nothing half-written
        assert conn.execute("SELECT COUNT(*) FROM sales WHERE id NOT IN (SELECT sale_row FROM sale_lines)").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM hq_outbox").fetchone()[0] == entry.tables["sales"]
    finally:
        conn.close()
    with Ledger(restored, clock=FakeClock()) as ledger:
        assert ledger.sale_count() == entry.tables["sales"]
    restored_registry = DeviceRegistry(tmp_path / "r/broker")
    assert restored_registry.kiosk("kiosk-01").password == registry.kiosk("kiosk-01").password
    assert stat.S_IMODE((tmp_path / "r/broker/ca/ca.key").stat().st_mode) == 0o600


def test_a_damaged_backup_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    _broker_data(tmp_path / "broker")
    manifest = backup({"broker": tmp_path / "broker"}, tmp_path / "backups")
    registry = manifest.folder / "broker/devices/registry.json"
    registry.write_bytes(registry.read_bytes().replace(b"kiosk", b"kiosx", 1))
    with pytest.raises(BackupCorruptError, match="registry.json"):
        verify_backup(manifest.folder)
    with pytest.raises(BackupCorruptError):
        restore(manifest.folder, {"broker": tmp_path / "restored"})
    assert not (tmp_path / "restored").exists()


def test_a_restore_never_writes_over_live_data(tmp_path: Path) -> None:
    _broker_data(tmp_path / "broker")
    manifest = backup({"broker": tmp_path / "broker"}, tmp_path / "backups")
    with pytest.raises(RestoreTargetNotEmptyError):
        restore(manifest.folder, {"broker": tmp_path / "broker"})


def test_a_missing_source_fails_the_backup_and_leaves_no_partial_folder(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="not a folder"):
        backup({"edge": tmp_path / "nowhere"}, tmp_path / "backups")
    assert not (tmp_path / "backups").exists() or list((tmp_path / "backups").iterdir()) == []


def test_old_backups_are_pruned_newest_kept(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data/file.txt").write_text("x")
    clock = FakeClock()
    made = []
    for _ in range(4):
        made.append(backup({"data": tmp_path / "data"}, tmp_path / "backups", clock=clock).folder)
        clock.advance(seconds=60)
    pruned = prune_backups(tmp_path / "backups", keep=2)
    assert pruned == made[:2] and all(p.exists() for p in made[2:])
    assert read_manifest(made[-1]).entries[0].path == "file.txt"


def test_the_cli_backs_up_and_restores(tmp_path: Path) -> None:
    import io

    with SellingEdge(tmp_path / "edge") as edge:
        for _ in range(5):
            edge.sell_one()
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["backup", "--source", f"edge={tmp_path / 'edge'}", "--dest", str(tmp_path / "b")], out=out, err=err) == 0
    folder = next((tmp_path / "b").glob("tillpi-backup-*"))
    assert cli.main(["restore", "--backup", str(folder), "--target", f"edge={tmp_path / 'r'}"], out=out, err=err) == 0
    assert "edge/ledger.sqlite3" in out.getvalue()
    assert cli.main(["restore", "--backup", str(folder), "--target", f"edge={tmp_path / 'r'}"], out=out, err=err) == 1
    assert "not empty" in err.getvalue()
