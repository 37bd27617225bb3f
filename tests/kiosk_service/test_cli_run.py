"""``tillpi kiosk run`` as the demo and systemd start it: a headless kiosk with simulated
shoppers in its own process sells to the edge and stops cleanly on SIGTERM."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from kiosk.cli import main
from kiosk.outbox import SaleOutbox
from retail.clock import SystemClock

from .conftest import STORE, Shop, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _env_file(shop: Shop, kiosk_id: str, folder: Path) -> Path:
    ep = shop.broker.kiosk_endpoint(kiosk_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broker-password").write_text(ep.password + "\n", encoding="utf-8")
    lines = [
        "# written by the test, as provisioning writes kiosk.env",
        f"TILLPI_KIOSK_DATA_DIR={folder}",
        f"TILLPI_KIOSK_STORE_ID={STORE}",
        f"TILLPI_KIOSK_KIOSK_ID={kiosk_id}",
        f"TILLPI_KIOSK_BROKER_HOST={ep.host}",
        f"TILLPI_KIOSK_BROKER_PORT={ep.port}",
        f"TILLPI_KIOSK_BROKER_USERNAME={ep.username}",
        f"TILLPI_KIOSK_BROKER_PASSWORD_FILE={folder / 'broker-password'}",
        "TILLPI_KIOSK_HEALTH_INTERVAL_S=2",
    ]
    for name, value in (("CA_FILE", ep.ca_file), ("CERT_FILE", ep.cert_file), ("KEY_FILE", ep.key_file)):
        if value is not None:
            lines.append(f"TILLPI_KIOSK_BROKER_{name}={value}")
    path = folder / "kiosk.env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_kiosk_run_headless_with_shoppers_sells_to_the_edge_and_exits_0_on_sigterm(shop: Shop, tmp_path: Path) -> None:
    folder = tmp_path / "kiosk-02"
    env_file = _env_file(shop, "kiosk-02", folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILLPI_KIOSK_")}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "run", "--headless", "--shopper-sim", "--shopper-pace", "0.01",
         "--shopper-seed", "5", "--env-file", str(env_file), "--data-dir", str(folder)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip() for line in proc.stdout), daemon=True)  # type: ignore[union-attr]
    reader.start()
    edge = shop.edge
    assert edge is not None
    try:
        wait_for("two sales at the edge from the kiosk process", lambda: edge.ledger.sale_count("kiosk-02") >= 2, 60)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    reader.join(10)
    assert code == 0, "\n".join(lines[-30:])
    assert any("simulated shoppers:" in line for line in lines)
    assert any(line.startswith("kiosk kiosk-02 stopped") for line in lines)

    with SaleOutbox(folder / "journal.sqlite", store_id=STORE, kiosk_id="kiosk-02", clock=SystemClock()) as journal:
        recorded = {journal.entry(seq).sale_id: journal.entry(seq).state for seq in range(1, journal.last_seq + 1)}
    at_edge = [s.sale_id for s in edge.ledger.sales("kiosk-02")]
    assert len(at_edge) == len(set(at_edge)) >= 2
    assert set(at_edge) <= set(recorded)  # nothing at the edge the kiosk did not sell
    assert {sid for sid, state in recorded.items() if state == "done"} <= set(at_edge)


def test_run_refuses_simulated_shoppers_on_real_hardware(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["profile", "init", "--data-dir", str(tmp_path), "--hardware", "real"], out=out, err=err) == 0
    code = main(["run", "--headless", "--shopper-sim", "--data-dir", str(tmp_path)], out=out, err=err)
    assert code == 2
    assert "simulated devices only" in err.getvalue()


def test_run_reports_an_unreadable_env_file_as_a_settings_error(tmp_path: Path) -> None:
    err = io.StringIO()
    code = main(["run", "--headless", "--env-file", str(tmp_path / "missing.env"), "--data-dir", str(tmp_path)],
                out=io.StringIO(), err=err)
    assert code == 2 and "cannot be read" in err.getvalue()


def test_kiosk_run_with_a_window_sells_through_the_kivy_ui_thread_and_stops_on_sigterm(
        shop: Shop, tmp_path: Path, xvfb_display) -> None:  # noqa: ANN001
    folder = tmp_path / "kiosk-03"
    env_file = _env_file(shop, "kiosk-03", folder)
    env = {k: v for k, v in xvfb_display.env(LP_NUM_THREADS="1").items() if not k.startswith("TILLPI_KIOSK_")}
    env.update(PYTHONPATH=str(ROOT), KIVY_HOME=str(tmp_path / "kivy"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "run", "--shopper-sim", "--shopper-pace", "0.01", "--shopper-seed", "6",
         "--env-file", str(env_file)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip() for line in proc.stdout), daemon=True)  # type: ignore[union-attr]
    reader.start()
    edge = shop.edge
    assert edge is not None
    try:
        wait_for("a sale at the edge from the windowed kiosk", lambda: edge.ledger.sale_count("kiosk-03") >= 1, 90)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    reader.join(10)
    assert code == 0, "\n".join(lines[-40:])
    assert any("running (window, simulated shoppers)" in line for line in lines)
