"""``tillpi edge``: run the edge service, or show what its ledger holds.

    tillpi edge run --data DIR --store-id s1 --broker-host 127.0.0.1 --broker-port 1883 \\
        [--username edge] [--password-env TILLPI_EDGE_PASSWORD | --password-file F] [--ca-file F] \\
        [--web-host 0.0.0.0] [--web-port 8080] [--webhook-url URL] [--alarm-settings FILE.json] \\
        [--store-name NAME] [--currency CNY] [--bootstrap-owner USER] [--development]
    tillpi edge summary --data DIR

``run`` starts the whole edge (sale ingest, alarms, presence, the staff console on
``http://<web-host>:<web-port>/console/``). The badge and member-card secrets come from
``$TILLPI_EDGE_BADGE_SECRET`` / ``$TILLPI_EDGE_CARD_SECRET`` or, if unset, from files in
``--data`` created with random bytes on the first run (mode 0600). ``--bootstrap-owner`` creates
an owner account with the password in ``$TILLPI_EDGE_OWNER_PASSWORD`` when there is no staff yet.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

from edge.alarms.settings import AlarmSettings
from edge.errors import EdgeError
from edge.ledger import Ledger
from edge.settings import EdgeSettings
from retail.clock import SystemClock

LEDGER_FILE = "ledger.sqlite3"


def _password(args: argparse.Namespace) -> str:
    if args.password_file:
        return Path(args.password_file).read_text(encoding="utf-8").strip()
    value = os.environ.get(args.password_env)
    if value is None:
        raise SystemExit(f"tillpi edge: set {args.password_env} or pass --password-file")
    return value


def _secret(env: str, path: Path) -> bytes:
    """A secret from ``$env``, else from ``path`` (created with 32 random bytes, mode 0600)."""
    value = os.environ.get(env)
    if value:
        return value.encode("utf-8")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="ascii").strip().encode("ascii")


def _settings(args: argparse.Namespace) -> EdgeSettings:
    data = Path(args.data)
    return EdgeSettings(
        store_id=args.store_id, data_dir=data, broker_host=args.broker_host, broker_port=args.broker_port,
        broker_username=args.username, broker_password=_password(args),
        ca_file=Path(args.ca_file) if args.ca_file else None,
        badge_secret=_secret("TILLPI_EDGE_BADGE_SECRET", data / "badge-secret"),
        card_secret=_secret("TILLPI_EDGE_CARD_SECRET", data / "card-secret"),
        web_host=args.web_host, web_port=args.web_port, webhook_url=args.webhook_url, store_name=args.store_name,
        currency=args.currency, resync_cooldown_s=args.resync_cooldown, keepalive_s=args.keepalive,
        alarms=EdgeSettings.alarm_settings_from_file(args.alarm_settings) if args.alarm_settings else AlarmSettings(),
        software_version=args.software_version, development=args.development,
        hq_url=args.hq_url, hq_ca_file=Path(args.hq_ca_file) if args.hq_ca_file else None, hq_region=args.hq_region,
    )


def _run(args: argparse.Namespace) -> int:
    from edge.runtime import tune_gc
    from edge.service import EdgeService  # the web stack is loaded only to run

    logging.basicConfig(level=getattr(logging, args.log_level.upper()), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = _settings(args)
    except (EdgeError, ValueError) as exc:
        raise SystemExit(f"tillpi edge: {exc}") from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with EdgeService(settings, clock=SystemClock()) as edge:
        tune_gc()  # once the service is built: see edge.runtime
        if args.bootstrap_owner and not edge.staff_store.list(include_inactive=True):
            password = os.environ.get("TILLPI_EDGE_OWNER_PASSWORD")
            if not password:
                raise SystemExit("tillpi edge: set TILLPI_EDGE_OWNER_PASSWORD for --bootstrap-owner")
            edge.staff_store.create(name=args.bootstrap_owner, role="owner", username=args.bootstrap_owner,
                                    password=password, actor=None)
            print(f"created the owner account {args.bootstrap_owner}", flush=True)
        print(f"edge of store {settings.store_id} on {edge.endpoint!r}; ledger {edge.ledger.path}; "
              f"console {edge.url}/console/", flush=True)
        stop.wait()
    return 0


def _summary(args: argparse.Namespace) -> int:
    with Ledger(Path(args.data) / LEDGER_FILE, clock=SystemClock()) as ledger:
        print(json.dumps(ledger.summary(), indent=2, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tillpi edge", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the edge: sale ingest, alarms, presence and the staff console")
    run.add_argument("--data", required=True, help="folder of the edge's ledger")
    run.add_argument("--store-id", required=True)
    run.add_argument("--broker-host", default="127.0.0.1")
    run.add_argument("--broker-port", type=int, required=True)
    run.add_argument("--username", default="edge")
    run.add_argument("--password-env", default="TILLPI_EDGE_PASSWORD")
    run.add_argument("--password-file")
    run.add_argument("--ca-file")
    run.add_argument("--resync-cooldown", type=float, default=30.0)
    run.add_argument("--keepalive", type=int, default=15, help="MQTT keepalive of the edge's connections (s)")
    run.add_argument("--web-host", default="0.0.0.0", help="address of the staff console and API")
    run.add_argument("--web-port", type=int, default=8080)
    run.add_argument("--webhook-url", help="POST grouped alarm messages here (JSON)")
    run.add_argument("--alarm-settings", help="JSON file overriding the alarm rules")
    run.add_argument("--hq-url", help="head office base URL; its token is read from DATA/hq_token (see tillpi_ops provision-edge)")
    run.add_argument("--hq-ca-file", help="CA bundle that signs HQ's certificate")
    run.add_argument("--hq-region", help="price region of this shop at HQ")
    run.add_argument("--store-name", default="tillpi")
    run.add_argument("--currency", default="CNY")
    run.add_argument("--software-version", default="0")
    run.add_argument("--bootstrap-owner", metavar="USER", help="create this owner account if there is no staff yet")
    run.add_argument("--development", action="store_true", help="allow placeholder secrets, show /api/docs")
    run.add_argument("--log-level", default="info")
    summary = sub.add_parser("summary", help="print what the ledger holds")
    summary.add_argument("--data", required=True)
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    return _summary(args)


if __name__ == "__main__":
    sys.exit(main())
