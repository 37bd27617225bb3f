"""A whole shop on one machine: HQ, the store's Mosquitto, the edge and simulated kiosks with
simulated shoppers, on embedded defaults (``make demo``).

    tillpi demo [--duration S] [--kiosks N] [--data var/demo] [--fresh] [--window] [--no-faults]

It seeds a demo shop (a few hundred bilingual products, promotions, members), runs a compressed
trading day, injects faults so alarms and recovery show (a printer runs out of paper, a kiosk
is unplugged, the edge restarts), prints where the staff console and the HQ dashboard are, and
stops cleanly on Ctrl-C. With ``--duration`` it stops by itself, lets every tier drain, prints
the day as HQ computed it and, as its last line, one JSON object with the counts at each tier.
Data stays in ``--data`` (``--fresh`` wipes it first).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from broker.config import StoreBrokerConfig
from broker.launcher import LocalBroker
from retail.clock import SystemClock
from retail.money import Money
from tillpi_demo.catalogue import DemoShop, build_demo_shop

__all__ = ["main"]

log = logging.getLogger(__name__)

STORE = "demo"
OWNER, OWNER_PASSWORD = "owner", "demo-owner-pass"
HQ_ADMIN, HQ_PASSWORD = "admin", "demo-admin-pass"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


class Process:
    """One child process of the demo, with its log in the data folder."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.argv, self.env = name, argv, {**os.environ, **(env or {})}
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        handle = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child
        self.proc = subprocess.Popen(self.argv, stdout=handle, stderr=subprocess.STDOUT, env=self.env,
                                     start_new_session=True)
        handle.close()
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if not self.running:
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def kill(self) -> None:
        if self.running:
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(5)


class DemoShopRun:
    """Builds and runs the demo shop; every step is a method so the order reads top to bottom."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data = Path(args.data).resolve()
        self.shop: DemoShop = build_demo_shop(STORE)
        self.stack = ExitStack()
        self.kiosk_ids = [f"kiosk-{i:02d}" for i in range(1, args.kiosks + 1)]
        self.kiosks: dict[str, Process] = {}
        self.python = sys.executable

    # -- set-up ---------------------------------------------------------------------------------
    def prepare(self) -> None:
        if self.args.fresh and self.data.exists():
            shutil.rmtree(self.data)
        for sub in ("hq", "broker", "edge", "kiosks", "logs"):
            (self.data / sub).mkdir(parents=True, exist_ok=True)
        secret_file = self.data / "hq" / "secret-key"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_hex(32))
            secret_file.chmod(0o600)
        self.hq_db = f"sqlite:///{self.data / 'hq' / 'hq.db'}"
        self.hq_env = {"TILLPI_HQ_SECRET_KEY": secret_file.read_text().strip(), "TILLPI_HQ_DATABASE_URL": self.hq_db}

    def _hq_cli(self, *argv: str, stdin: str | None = None) -> str:
        done = subprocess.run([self.python, "-m", "hq.cli", *argv, "--db", self.hq_db], input=stdin, text=True,
                              capture_output=True, env={**os.environ, **self.hq_env}, check=False)
        if done.returncode != 0 and "exists" not in (done.stderr + done.stdout).lower():
            raise RuntimeError(f"tillpi hq {' '.join(argv)} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def start_hq(self) -> None:
        self.hq_port = _free_port()
        self.hq_url = f"http://127.0.0.1:{self.hq_port}"
        self._hq_cli("migrate")
        code_out = self._hq_cli("create-store", STORE, "--name", self.shop.name_en, "--enrolment-code")
        self.enrolment_code = code_out.strip().split()[-1] if code_out.strip() else None
        self._hq_cli("create-user", HQ_ADMIN, "--role", "admin", "--password-stdin", stdin=HQ_PASSWORD + "\n")
        self.hq = Process("hq", [self.python, "-m", "hq.cli", "run", "--db", self.hq_db, "--host", "127.0.0.1",
                                 "--port", str(self.hq_port)], self.data / "logs", self.hq_env).start()
        self.stack.callback(self.hq.stop)
        _wait_http(f"{self.hq_url}/api/v1/stores/me")
        _say(f"HQ running at {self.hq_url}/dashboard (user {HQ_ADMIN}, password {HQ_PASSWORD})")

    def start_broker(self) -> None:
        config = StoreBrokerConfig(store_id=STORE, data_dir=self.data / "broker")
        self.broker = self.stack.enter_context(LocalBroker(config))
        self.broker.start()
        _say(f"store broker running: edge port {self.broker.edge_port}, kiosk TLS port {self.broker.kiosk_port}")

    def seed_edge(self) -> None:
        """The shop's catalogue, promotions and members, written before the edge starts."""
        from edge.catalogue.model import Category, Product
        from edge.catalogue.store import CatalogueStore
        from edge.promotions.store import PromotionStore

        edge_dir = self.data / "edge"
        clock = SystemClock()
        with CatalogueStore(edge_dir / "edge.sqlite3", clock=clock) as catalogue:
            if catalogue.count() >= len(self.shop.items):
                return
            names = {"dairy": ("Dairy", "乳制品"), "bakery": ("Bakery", "烘焙"), "drinks": ("Drinks", "饮料"),
                     "snacks": ("Snacks", "零食"), "staples": ("Staples", "粮油"), "household": ("Household", "日用品"),
                     "alcohol": ("Alcohol", "酒类"), "produce": ("Fruit & veg", "蔬果"), "deli": ("Deli", "熟食")}
            for code, (en, zh) in names.items():
                catalogue.put_category(Category(code, en, zh))
            for tax in {i.tax_class for i in self.shop.items}:
                catalogue.put_tax_class(tax)
            catalogue.bulk_upsert([
                Product(sku=i.sku, name_en=i.name_en, name_zh=i.name_zh, price=i.unit_price, category=i.category,
                        gtins=i.gtins, plu=i.plu, cost_price=i.cost_price, tax_class=i.tax_class, sold_by=i.sold_by,
                        min_age=i.min_age, unit_weight_g=i.unit_weight_g, weight_tolerance_g=i.weight_tolerance_g)
                for i in self.shop.items
            ])
            with PromotionStore(edge_dir / "edge.sqlite3", clock=clock, catalogue=catalogue) as promotions:
                for promo in self.shop.promotions:
                    promotions.put(promo, actor="demo")
        _say(f"seeded {len(self.shop.items)} products, {len(self.shop.promotions)} promotions")

    def start_edge(self) -> None:
        from edge.hqsync import enrol

        edge_dir = self.data / "edge"
        if not (edge_dir / "hq_token").exists() and self.enrolment_code:
            enrol(self.hq_url, self.enrolment_code, edge_dir)
        self.web_port = getattr(self, "web_port", None) or _free_port()
        creds = self.broker.edge_endpoint()
        self.edge = Process("edge", [
            self.python, "-m", "edge.cli", "run", "--data", str(edge_dir), "--store-id", STORE,
            "--broker-port", str(creds.port), "--username", creds.username, "--web-host", "127.0.0.1",
            "--web-port", str(self.web_port), "--hq-url", self.hq_url, "--store-name", self.shop.name_en,
            "--bootstrap-owner", OWNER, "--development", "--keepalive", "5",
        ], self.data / "logs", {"TILLPI_EDGE_PASSWORD": creds.password, "TILLPI_EDGE_OWNER_PASSWORD": OWNER_PASSWORD})
        self.edge.start()
        _wait_http(f"http://127.0.0.1:{self.web_port}/api/health")
        _say(f"staff console at http://127.0.0.1:{self.web_port}/console/ (user {OWNER}, password {OWNER_PASSWORD})")

    def start_kiosk(self, kiosk_id: str) -> None:
        from tillpi_ops.provision import provision_kiosk

        folder = self.data / "kiosks" / kiosk_id
        if not (folder / "kiosk.env").exists():
            provision_kiosk(self.data / "broker", kiosk_id, int(kiosk_id[-2:]), folder, install_dir=folder, store_id=STORE,
                            hardware="simulated", broker_host="127.0.0.1", broker_port=self.broker.kiosk_port,
                            reissue=True)
            self.broker.reload()  # the broker learns the new kiosk's password
        argv = [self.python, "-m", "kiosk.cli", "run", "--env-file", str(folder / "kiosk.env"),
                "--data-dir", str(folder), "--shopper-sim", "--shopper-pace", str(self.args.pace),
                "--shopper-seed", str(int(kiosk_id[-2:]))]
        argv.append("--fullscreen" if (self.args.window and kiosk_id == self.kiosk_ids[0]) else "--headless")
        if kiosk_id == self.kiosk_ids[min(1, len(self.kiosk_ids) - 1)] and not self.args.no_faults:
            argv += ["--simulate-paper-out", str(max(10.0, (self.args.duration or 120.0) * 0.3))]
        # health every 5 s, so the staff console follows the compressed day
        self.kiosks[kiosk_id] = Process(kiosk_id, argv, self.data / "logs",
                                        {"TILLPI_KIOSK_HEALTH_INTERVAL_S": "5"}).start()

    # -- the day --------------------------------------------------------------------------------
    def faults(self, duration: float, stop: threading.Event) -> None:
        """A kiosk is unplugged and comes back, the edge restarts (kiosk-02's printer runs out
        of paper by itself: see ``start_kiosk``)."""
        plan = [(0.25, "unplug"), (0.4, "replug"), (0.55, "edge_restart")]
        started = time.monotonic()
        for share, what in plan:
            if stop.wait(max(0.0, started + share * duration - time.monotonic())):
                return
            victim = self.kiosk_ids[-1]
            if what == "unplug" and len(self.kiosk_ids) > 1:
                _say(f"fault: {victim} unplugged (killed)")
                self.kiosks[victim].kill()
            elif what == "replug" and len(self.kiosk_ids) > 1:
                _say(f"recovery: {victim} plugged back in")
                self.start_kiosk(victim)
            elif what == "edge_restart":
                _say("fault: the edge restarts")
                self.edge.stop()
                self.start_edge()

    def run(self) -> int:
        duration = self.args.duration
        self.prepare()
        self.start_hq()
        self.start_broker()
        self.seed_edge()
        self.start_edge()
        for kiosk_id in self.kiosk_ids:
            self.start_kiosk(kiosk_id)
        self.stack.callback(self._stop_kiosks)
        self.stack.callback(lambda: self.edge.stop())
        _say(f"{len(self.kiosk_ids)} kiosks selling" + (f" for {duration:.0f} s" if duration else "; Ctrl-C stops"))
        stop = threading.Event()
        if not self.args.no_faults:
            threading.Thread(target=self.faults, args=(duration or 120.0, stop), daemon=True).start()
        try:
            if duration:
                stop.wait(duration)
            else:
                while True:
                    time.sleep(1)
        except KeyboardInterrupt:
            _say("stopping")
        finally:
            stop.set()
        self._stop_kiosks()
        if not self.edge.running:
            self.start_edge()
        counts = self.drain_and_count()
        self.print_alarms()
        self.print_day()
        print(json.dumps(counts), flush=True)
        return 0 if counts["lost"] == 0 and counts["duplicated"] == 0 else 1

    def _stop_kiosks(self) -> None:
        for proc in self.kiosks.values():
            proc.stop()

    # -- the end of the day ---------------------------------------------------------------------
    def _kiosk_sales(self) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        """(every recorded sale, those still waiting for the edge) from the kiosks' journals."""
        recorded: set[tuple[str, str]] = set()
        pending: set[tuple[str, str]] = set()
        for kiosk_id in self.kiosk_ids:
            for path in (self.data / "kiosks" / kiosk_id).glob("**/journal.sqlite"):
                with sqlite3.connect(path) as conn:
                    cols = {r[1] for r in conn.execute("PRAGMA table_info(sales)")}
                    state = "state" if "state" in cols else None
                    for row in conn.execute(f"SELECT sale_id{', ' + state if state else ''} FROM sales"):
                        recorded.add((kiosk_id, row[0]))
                        if state and row[1] == "pending":
                            pending.add((kiosk_id, row[0]))
        return recorded, pending

    def _edge_sales(self) -> list[tuple[str, str]]:
        with sqlite3.connect(self.data / "edge" / "edge.sqlite3") as conn:
            return [tuple(r) for r in conn.execute("SELECT kiosk_id, sale_id FROM sales")]  # type: ignore[misc]

    def _hq_sales(self) -> list[tuple[str, str]]:
        with sqlite3.connect(self.data / "hq" / "hq.db") as conn:
            cols = {r[1] for r in conn.execute("PRAGMA table_info(sales)")}
            store_col = "store_id" if "store_id" in cols else None
            sql = "SELECT kiosk_id, sale_id FROM sales" + (f" WHERE {store_col} = ?" if store_col else "")
            return [tuple(r) for r in conn.execute(sql, (STORE,) if store_col else ())]  # type: ignore[misc]

    def drain_and_count(self, timeout: float = 90.0) -> dict[str, int]:
        """Restart stopped kiosks without shoppers so their journals drain, then wait for HQ."""
        for kiosk_id in self.kiosk_ids:
            folder = self.data / "kiosks" / kiosk_id
            self.kiosks[kiosk_id] = Process(f"{kiosk_id}-drain", [
                self.python, "-m", "kiosk.cli", "run", "--env-file", str(folder / "kiosk.env"),
                "--data-dir", str(folder), "--headless"], self.data / "logs").start()
        deadline = time.monotonic() + timeout
        while True:
            recorded, pending = self._kiosk_sales()
            at_edge, at_hq = self._edge_sales(), self._hq_sales()
            if (not pending and len(set(at_edge)) >= len(recorded) and len(set(at_hq)) >= len(recorded)) \
                    or time.monotonic() > deadline:
                break
            time.sleep(1)
        self._stop_kiosks()
        lost = len(recorded - set(at_hq))
        duplicated = (len(at_edge) - len(set(at_edge))) + (len(at_hq) - len(set(at_hq)))
        return {"sales_at_kiosks": len(recorded), "sales_at_edge": len(set(at_edge)), "sales_at_hq": len(set(at_hq)),
                "lost": lost, "duplicated": duplicated}

    def print_alarms(self) -> None:
        """What the staff console showed during the day: the alarm history's raises by rule."""
        path = self.data / "edge" / "alarms.sqlite3"
        if not path.exists():
            return
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT key, transition FROM alarm_history WHERE transition IN ('raised', 'cleared')")
            seen: dict[str, list[str]] = {}
            for key, transition in rows:
                seen.setdefault(key.split("/", 1)[-1], []).append(transition)
        if seen:
            _say("alarms on the staff console today: " + ", ".join(
                f"{rule} (raised {t.count('raised')}, cleared {t.count('cleared')})" for rule, t in sorted(seen.items())))

    def print_day(self) -> None:
        try:
            token = httpx.post(f"{self.hq_url}/api/v1/login", json={"username": HQ_ADMIN, "password": HQ_PASSWORD},
                               timeout=10).json()["token"]
            summary: dict[str, Any] = httpx.get(f"{self.hq_url}/api/v1/summaries/stores/{STORE}",
                                                params={"period": "day"},
                                                headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            _say(f"HQ summary unavailable: {exc}")
            return
        cur = summary.get("current", {})
        currency = summary.get("currency", "CNY")

        def money(minor: int) -> str:
            return Money(int(minor), currency).format("en")

        _say(f"the day as HQ computed it ({cur.get('start')}):")
        _say(f"  revenue {money(cur.get('revenue_minor', 0))} from {cur.get('transactions', 0)} sales, "
             f"{cur.get('units', 0)} units, average basket {money(cur.get('average_basket_minor', 0))}, "
             f"savings {money(cur.get('savings_minor', 0))}, tax {money(cur.get('tax_minor', 0))}")
        mix = ", ".join(f"{p['method']} {p['share_bp'] / 100:.0f}%" for p in cur.get("payment_mix", []))
        if mix:
            _say(f"  payments: {mix}")
        top = ", ".join(f"{p.get('name') or p.get('sku')} ({p.get('units')})" for p in cur.get("top_products", [])[:5])
        if top:
            _say(f"  top products: {top}")

    def close(self) -> None:
        self.stack.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tillpi demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, help="seconds to trade, then stop by itself and report")
    parser.add_argument("--kiosks", type=int, default=4)
    parser.add_argument("--data", default="var/demo", help="where the shop keeps its data")
    parser.add_argument("--fresh", action="store_true", help="start from an empty data folder")
    parser.add_argument("--window", action="store_true", help="open kiosk-01 in a real Kivy window")
    parser.add_argument("--pace", type=float, default=0.05, help="seconds per shopper step (a compressed day)")
    parser.add_argument("--no-faults", action="store_true", help="no printer, kiosk or edge faults")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    run = DemoShopRun(args)
    try:
        return run.run()
    except KeyboardInterrupt:
        return 130
    finally:
        run.close()
