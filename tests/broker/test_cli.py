"""`tillpi broker ...` / `python -m broker ...`: init, enrol, revoke, list, run in the foreground."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broker.cli import main
from broker.config import StoreBrokerConfig
from broker.credentials import DeviceRegistry
from broker.endpoint import MqttEndpoint

REPO = Path(__file__).resolve().parents[2]


def test_init_writes_settings_ca_and_edge_login(tmp_path, capsys):
    data = tmp_path / "d"
    assert main(["init", "--data", str(data), "--store", "s7", "--hostname", "edge-s7.lan", "--kiosk-port", "9883"]) == 0
    config = StoreBrokerConfig.load(data)
    assert (config.store_id, config.kiosk_port, config.kiosk_tls) == ("s7", 9883, True)
    assert (data / "ca" / "ca.crt").is_file() and (data / "ca" / "server.crt").is_file()
    assert [d.username for d in DeviceRegistry(data).list()] == ["edge"]
    assert "store s7" in capsys.readouterr().out


def test_add_list_and_revoke_kiosks(tmp_path, capsys):
    data = str(tmp_path / "d")
    main(["init", "--data", data, "--store", "s1"])
    assert main(["add-kiosk", "--data", data, "kiosk-01"]) == 0
    out = capsys.readouterr().out
    password = re.search(r"password: (\S+)", out).group(1)
    assert DeviceRegistry(data).kiosk("kiosk-01").password == password

    main(["add-kiosk", "--data", data, "kiosk-02"])
    main(["revoke-kiosk", "--data", data, "kiosk-01"])
    capsys.readouterr()
    assert main(["list", "--data", data]) == 0
    listed = capsys.readouterr().out
    assert "kiosk-02" in listed and "kiosk-01" not in listed and "edge" in listed


def test_errors_are_reported_with_exit_code_2(tmp_path, capsys):
    data = str(tmp_path / "d")
    main(["init", "--data", data, "--store", "s1"])
    assert main(["add-kiosk", "--data", data, "kiosk-01/#"]) == 2
    assert main(["revoke-kiosk", "--data", data, "kiosk-99"]) == 2
    assert main(["run", "--data", str(tmp_path / "never-initialised")]) == 2
    err = capsys.readouterr().err
    assert "kiosk-01/#" in err and "kiosk-99" in err and "init" in err


def _wait_for(predicate, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.mark.broker
def test_run_serves_in_the_foreground_picks_up_new_kiosks_and_stops_on_ctrl_c(tmp_path, mqtt_client, mosquitto_bin):
    data = tmp_path / "d"
    main(["init", "--data", str(data), "--store", "s1", "--kiosk-bind", "127.0.0.1"])
    env = {**os.environ, "TILLPI_MOSQUITTO": mosquitto_bin, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker", "run", "--data", str(data), "--port", "0", "--edge-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"edge 127\.0\.0\.1:(\d+), kiosks 127\.0\.0\.1:(\d+) \(TLS\)", line)
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        edge_port, kiosk_port = int(match.group(1)), int(match.group(2))
        mosquitto_pid = int((data / "broker.pid").read_text())

        edge = DeviceRegistry(data).edge()
        assert not mqtt_client(edge.endpoint("127.0.0.1", edge_port, tls=False)).connect().is_failure

        log_file = data / "mosquitto.log"
        reloads = log_file.read_text().count("Reloading config.")
        assert main(["add-kiosk", "--data", str(data), "kiosk-05"]) == 0  # SIGHUPs the running broker
        _wait_for(lambda: log_file.read_text().count("Reloading config.") > reloads, "the broker to reload")
        kiosk: MqttEndpoint = DeviceRegistry(data).kiosk("kiosk-05").endpoint("127.0.0.1", kiosk_port, tls=True)
        assert not mqtt_client(kiosk).connect().is_failure

        proc.send_signal(signal.SIGINT)  # Ctrl-C
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0
        assert "broker stopped" in out
        assert not (data / "broker.pid").exists()
        with pytest.raises(ProcessLookupError):
            os.kill(mosquitto_pid, 0)
        assert "Saving in-memory database" in log_file.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
