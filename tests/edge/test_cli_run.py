"""``tillpi edge run`` starts the whole edge: console reachable, owner bootstrapped, secrets
created in the data folder (mode 0600), clean exit on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from broker.launcher import LocalBroker

ROOT = Path(__file__).resolve().parents[2]


def test_edge_run_serves_the_console_and_stops_on_sigterm(store_broker: LocalBroker, tmp_path: Path) -> None:
    ep = store_broker.edge_endpoint()
    data = tmp_path / "edge"
    env = dict(os.environ, TILLPI_EDGE_PASSWORD=ep.password, TILLPI_EDGE_OWNER_PASSWORD="owner-pass-123",
               PYTHONPATH=str(ROOT))
    env.pop("TILLPI_EDGE_BADGE_SECRET", None)
    env.pop("TILLPI_EDGE_CARD_SECRET", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "run", "--data", str(data), "--store-id", "s1", "--broker-host", ep.host,
         "--broker-port", str(ep.port), "--web-host", "127.0.0.1", "--web-port", "0", "--bootstrap-owner", "olga",
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            m = re.search(r"console (http://\S+)/console/", line)
            if m:
                url.append(m.group(1))
                found.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert found.wait(30), "".join(lines[-30:])
        base = url[0]
        assert httpx.get(base + "/api/health", timeout=10).json()["store_id"] == "s1"
        login = httpx.post(base + "/api/auth/login", json={"username": "olga", "password": "owner-pass-123"}, timeout=10)
        assert login.status_code == 200, login.text
        assert "created the owner account olga" in "".join(lines)
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        for path in ("/api/catalogue/products", "/api/stock/levels", "/api/members?phone=138", "/api/alarms"):
            r = httpx.get(base + path, headers=auth, timeout=10)
            assert r.status_code in (200, 422), (path, r.status_code, r.text[:200])
            assert httpx.get(base + path, timeout=10).status_code == 401, path
        for name in ("badge-secret", "card-secret"):
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    assert code == 0, "".join(lines[-30:])
