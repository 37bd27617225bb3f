"""``tillpi edge``: run the edge's sale ingest, or show what its ledger holds.

    tillpi edge run --data DIR --store-id s1 --broker-host 127.0.0.1 --broker-port 1883 \\
        [--username edge] [--password-env TILLPI_EDGE_PASSWORD | --password-file F] [--ca-file F]
    tillpi edge summary --data DIR
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from broker.endpoint import MqttEndpoint
from edge.bus import EdgeMqttIngest
from edge.ingest import IngestCore
from edge.ledger import Ledger
from retail.clock import SystemClock

LEDGER_FILE = "ledger.sqlite3"


def _password(args: argparse.Namespace) -> str:
    if args.password_file:
        return Path(args.password_file).read_text(encoding="utf-8").strip()
    value = os.environ.get(args.password_env)
    if value is None:
        raise SystemExit(f"tillpi edge: set {args.password_env} or pass --password-file")
    return value


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    endpoint = MqttEndpoint(
        args.broker_host, args.broker_port, args.username, _password(args),
        ca_file=Path(args.ca_file) if args.ca_file else None,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    clock = SystemClock()
    with Ledger(Path(args.data) / LEDGER_FILE, clock=clock) as ledger:
        core = IngestCore(ledger, store_id=args.store_id, clock=clock, resync_cooldown_s=args.resync_cooldown)
        with EdgeMqttIngest(endpoint, core, store_id=args.store_id, clock=clock):
            print(f"edge ingest for store {args.store_id} on {endpoint!r}; ledger {ledger.path}", flush=True)
            stop.wait()
    return 0


def _summary(args: argparse.Namespace) -> int:
    with Ledger(Path(args.data) / LEDGER_FILE, clock=SystemClock()) as ledger:
        print(json.dumps(ledger.summary(), indent=2, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tillpi edge", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="consume kiosk sales into the ledger")
    run.add_argument("--data", required=True, help="folder of the edge's ledger")
    run.add_argument("--store-id", required=True)
    run.add_argument("--broker-host", default="127.0.0.1")
    run.add_argument("--broker-port", type=int, required=True)
    run.add_argument("--username", default="edge")
    run.add_argument("--password-env", default="TILLPI_EDGE_PASSWORD")
    run.add_argument("--password-file")
    run.add_argument("--ca-file")
    run.add_argument("--resync-cooldown", type=float, default=30.0)
    run.add_argument("--log-level", default="info")
    summary = sub.add_parser("summary", help="print what the ledger holds")
    summary.add_argument("--data", required=True)
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    return _summary(args)


if __name__ == "__main__":
    sys.exit(main())
