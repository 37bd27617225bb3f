"""``tillpi broker ...`` (or ``python -m broker ...``): set up and run the store's Mosquitto.

    init --data DIR --store STORE [--kiosk-port N] [--edge-port N] [--plain-kiosk] [--hostname H]
    run --data DIR [--port N]          foreground; Ctrl-C (or SIGTERM) stops it cleanly
    add-kiosk --data DIR ID            enrol a kiosk; prints its password and certificate files
    revoke-kiosk --data DIR ID         remove a kiosk's login (a running broker is told by SIGHUP)
    list --data DIR                    enrolled devices
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from broker.ca import StoreCA
from broker.config import StoreBrokerConfig
from broker.credentials import DeviceRegistry
from broker.errors import BrokerError
from broker.launcher import LocalBroker

__all__ = ["main"]

log = logging.getLogger(__name__)
PID_FILE = "broker.pid"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tillpi broker", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_data(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--data", required=True, type=Path, help="the broker's data folder")
        return p

    init = with_data(sub.add_parser("init", help="create the data folder, store CA and edge login"))
    init.add_argument("--store", required=True, help="store id, e.g. s1")
    init.add_argument("--kiosk-port", type=int, default=8883)
    init.add_argument("--edge-port", type=int, default=1884)
    init.add_argument("--kiosk-bind", default="0.0.0.0")
    init.add_argument("--hostname", action="append", default=[], help="edge hostname for the server certificate")
    init.add_argument("--plain-kiosk", action="store_true", help="no TLS on the kiosk listener (laptop demo only)")

    run = with_data(sub.add_parser("run", help="run the broker in the foreground"))
    run.add_argument("--port", type=int, default=None, help="kiosk listener port (overrides the saved one; 0 = free)")
    run.add_argument("--edge-port", type=int, default=None, help="edge listener port (overrides the saved one)")

    add = with_data(sub.add_parser("add-kiosk", help="enrol a kiosk"))
    add.add_argument("kiosk_id")
    revoke = with_data(sub.add_parser("revoke-kiosk", help="revoke a kiosk"))
    revoke.add_argument("kiosk_id")
    with_data(sub.add_parser("list", help="list enrolled devices"))
    return parser


def _init(args: argparse.Namespace) -> int:
    config = StoreBrokerConfig(
        store_id=args.store,
        data_dir=args.data,
        edge_port=args.edge_port,
        kiosk_port=args.kiosk_port,
        kiosk_bind=args.kiosk_bind,
        kiosk_tls=not args.plain_kiosk,
        edge_hostnames=tuple(args.hostname) or ("localhost",),
    )
    config.save()
    StoreCA(config.paths.ca_dir).ensure(config.store_id, config.edge_hostnames)
    DeviceRegistry(config.data_dir).add_edge()
    print(f"store {config.store_id}: broker data in {config.data_dir}")
    print(f"store CA: {config.paths.ca_dir / 'ca.crt'}")
    return 0


def _signal_running_broker(data_dir: Path) -> None:
    """SIGHUP a broker started by `run` on this data folder, if there is one."""
    pid_file = data_dir / PID_FILE
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
        print(f"told the running broker (pid {pid}) to reload")
    except (FileNotFoundError, ValueError, ProcessLookupError):
        print("no running broker found; the change applies when it starts")


def _run(args: argparse.Namespace) -> int:
    config = StoreBrokerConfig.load(args.data)
    if args.port is not None or args.edge_port is not None:
        config = config.with_ports(
            config.edge_port if args.edge_port is None else args.edge_port,
            config.kiosk_port if args.port is None else args.port,
        )
    broker = LocalBroker(config)
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        nonlocal stopping
        stopping = True
        broker.terminate()  # no waiting inside a signal handler; the main thread waits

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    pid_file = config.data_dir / PID_FILE
    try:
        with broker:
            pid_file.write_text(f"{broker.pid}\n")
            print(
                f"store {config.store_id} broker running: edge {broker.host}:{broker.edge_port}, "
                f"kiosks {config.kiosk_bind}:{broker.kiosk_port} ({'TLS' if config.kiosk_tls else 'plain'})",
                flush=True,
            )
            code = broker.wait()
        if not stopping:
            print(f"mosquitto exited by itself (code {code}); see {config.paths.log_file}", file=sys.stderr)
            return 1
        print("broker stopped", flush=True)
        return 0
    finally:
        pid_file.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _add_kiosk(args: argparse.Namespace) -> int:
    creds = DeviceRegistry(args.data).add_kiosk(args.kiosk_id)
    print(f"kiosk {creds.kiosk_id} enrolled")
    print(f"  username: {creds.username}")
    print(f"  password: {creds.password}")
    print(f"  ca:       {creds.ca_file}")
    print(f"  cert:     {creds.cert_file}")
    print(f"  key:      {creds.key_file}")
    _signal_running_broker(args.data)
    return 0


def _revoke_kiosk(args: argparse.Namespace) -> int:
    DeviceRegistry(args.data).revoke_kiosk(args.kiosk_id)
    print(f"kiosk {args.kiosk_id} revoked")
    _signal_running_broker(args.data)
    return 0


def _list(args: argparse.Namespace) -> int:
    devices = DeviceRegistry(args.data).list()
    if not devices:
        print("no devices enrolled")
    for device in devices:
        print(f"{device.username:<40} {device.role:<6} {device.enrolled_at}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    handlers = {"init": _init, "run": _run, "add-kiosk": _add_kiosk, "revoke-kiosk": _revoke_kiosk, "list": _list}
    try:
        return handlers[args.command](args)
    except BrokerError as exc:
        print(f"tillpi broker: {exc}", file=sys.stderr)
        return 2
