"""``python -m tillpi_ops ...``: provisioning, pairing, backups, upgrades and health checks.

On the edge:
    provision-edge --hq-url U --enrolment-code C [--broker-data D] [--edge-data D] [--hostname H]
    provision-kiosk --edge-data D --kiosk kiosk-05 --lane 5 --out DIR [--install-dir D] [--reissue]
    pair-code --edge-data D --kiosk kiosk-05 --lane 5 [--png FILE]
    backup --source edge=/var/lib/tillpi/edge --source broker=/var/lib/tillpi/broker --dest D [--keep N]
    restore --backup DIR --target edge=DIR [--target broker=DIR]
    verify-backup DIR
    upgrade-check --edge-data D [--broker-data D] --backup-dest D
On the kiosk:
    install-kiosk-bundle --bundle DIR [--data-dir /var/lib/tillpi/kiosk]
    print-pairing [--data-dir /var/lib/tillpi/kiosk]      the slip, on the profile's printer
    upgrade-check --kiosk-data D --backup-dest D
Anywhere:
    health-check CHECK...        tcp:HOST:PORT  sqlite:PATH  fresh:PATH:SECONDS

``--edge-data`` of provision-kiosk/pair-code is the *broker's* data folder on the edge
(``/var/lib/tillpi/broker``: store CA, device registry, pairing key). Passwords, keys and
tokens are written to 0600 files and never printed. Exit codes: 0 done, 1 a check or
operation failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TextIO

from retail.clock import SystemClock
from tillpi_ops.errors import OpsError

__all__ = ["main"]

log = logging.getLogger(__name__)

DEFAULT_BROKER_DATA = Path("/var/lib/tillpi/broker")
DEFAULT_EDGE_DATA = Path("/var/lib/tillpi/edge")
DEFAULT_KIOSK_DATA = Path("/var/lib/tillpi/kiosk")


def _pairs(values: list[str], what: str) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not name or not folder:
            raise OpsError(f"{what} must look like NAME=FOLDER, not {value!r}")
        out[name] = Path(folder)
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tillpi_ops", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    pk = sub.add_parser("provision-kiosk", help="enrol a kiosk and write its bundle")
    pk.add_argument("--edge-data", type=Path, default=DEFAULT_BROKER_DATA, help="the store broker's data folder")
    pk.add_argument("--kiosk", required=True)
    pk.add_argument("--lane", type=int, required=True)
    pk.add_argument("--out", type=Path, required=True)
    pk.add_argument("--store")
    pk.add_argument("--broker-host")
    pk.add_argument("--broker-port", type=int)
    pk.add_argument("--install-dir", type=Path, default=DEFAULT_KIOSK_DATA)
    pk.add_argument("--hardware", choices=("real", "simulated"), default="real")
    pk.add_argument("--language", choices=("en", "zh_CN"), default="en")
    pk.add_argument("--reissue", action="store_true", help="revoke an enrolled kiosk first")

    ib = sub.add_parser("install-kiosk-bundle", help="copy a bundle into the kiosk's data folder")
    ib.add_argument("--bundle", type=Path, required=True)
    ib.add_argument("--data-dir", type=Path, default=DEFAULT_KIOSK_DATA)

    pc = sub.add_parser("pair-code", help="issue a pairing code for a kiosk")
    pc.add_argument("--edge-data", type=Path, default=DEFAULT_BROKER_DATA)
    pc.add_argument("--kiosk", required=True)
    pc.add_argument("--lane", type=int, required=True)
    pc.add_argument("--store")
    pc.add_argument("--png", type=Path, help="also write the QR as a PNG")

    pp = sub.add_parser("print-pairing", help="print the bundle's pairing slip on the kiosk's printer")
    pp.add_argument("--data-dir", type=Path, default=DEFAULT_KIOSK_DATA)

    pe = sub.add_parser("provision-edge", help="enrol this edge with HQ and set up the store broker")
    pe.add_argument("--hq-url", required=True)
    pe.add_argument("--enrolment-code", required=True, help="the one-time code, or - to read it from stdin")
    pe.add_argument("--hq-ca-file", type=Path)
    pe.add_argument("--broker-data", type=Path, default=DEFAULT_BROKER_DATA)
    pe.add_argument("--edge-data", type=Path, default=DEFAULT_EDGE_DATA)
    pe.add_argument("--kiosk-port", type=int, default=8883)
    pe.add_argument("--edge-port", type=int, default=1884)
    pe.add_argument("--hostname", action="append", default=[])

    bk = sub.add_parser("backup", help="online, consistent backup of data folders")
    bk.add_argument("--source", action="append", required=True, help="NAME=FOLDER (repeat)")
    bk.add_argument("--dest", type=Path, required=True)
    bk.add_argument("--keep", type=int, help="then keep only the newest N backups")

    rs = sub.add_parser("restore", help="restore a backup into empty folders, verified")
    rs.add_argument("--backup", type=Path, required=True)
    rs.add_argument("--target", action="append", required=True, help="NAME=FOLDER (repeat)")

    vb = sub.add_parser("verify-backup", help="check a backup against its manifest")
    vb.add_argument("backup", type=Path)

    up = sub.add_parser("upgrade-check", help="back up, then open the data with this software (migrations run)")
    group = up.add_mutually_exclusive_group(required=True)
    group.add_argument("--kiosk-data", type=Path)
    group.add_argument("--edge-data", type=Path)
    up.add_argument("--broker-data", type=Path)
    up.add_argument("--backup-dest", type=Path, required=True)
    up.add_argument("--once-per-version", type=Path, metavar="VERSION_FILE",
                    help="skip if this software version (the file's text) was already checked")

    hc = sub.add_parser("health-check", help="exit 1 if any check fails")
    hc.add_argument("checks", nargs="+", metavar="CHECK")
    return parser


def _run(args: argparse.Namespace, out: TextIO) -> int:
    clock = SystemClock()
    if args.command == "provision-kiosk":
        from tillpi_ops.provision import provision_kiosk, reload_running_broker

        bundle = provision_kiosk(
            args.edge_data, args.kiosk, args.lane, args.out, store_id=args.store, broker_host=args.broker_host,
            broker_port=args.broker_port, install_dir=args.install_dir, hardware=args.hardware,
            language=args.language, reissue=args.reissue, clock=clock,
        )
        reloaded = reload_running_broker(args.edge_data)
        out.write(f"kiosk {bundle.kiosk_id} (store {bundle.store_id}, lane {bundle.lane}) bundle: {bundle.folder}\n")
        out.write(f"pairing code: {bundle.pairing.code} (valid until {bundle.pairing.expires_at:%Y-%m-%d %H:%M} UTC)\n")
        out.write("broker reloaded\n" if reloaded else "no running broker found; the login applies when it starts\n")
        return 0
    if args.command == "install-kiosk-bundle":
        from tillpi_ops.provision import install_kiosk_bundle

        written = install_kiosk_bundle(args.bundle, args.data_dir)
        out.write(f"installed {len(written)} files into {args.data_dir}\n")
        return 0
    if args.command == "pair-code":
        from broker.config import StoreBrokerConfig
        from tillpi_ops.pairing import PairingAuthority, pairing_qr_png

        store = args.store or StoreBrokerConfig.load(args.edge_data).store_id
        code = PairingAuthority.from_broker_data(args.edge_data, store_id=store, clock=clock).issue(args.kiosk, args.lane)
        if args.png:
            args.png.write_bytes(pairing_qr_png(code))
        out.write(json.dumps({"code": code.code, "payload": code.payload, "expires_at": code.expires_at.isoformat()}) + "\n")
        return 0
    if args.command == "print-pairing":
        from kiosk.devices.printer import build_escpos
        from kiosk.profile import DeviceProfile
        from tillpi_ops.pairing import PairingCode, print_pairing_slip
        from datetime import datetime

        data = json.loads((args.data_dir / "pairing.json").read_text(encoding="utf-8"))
        code = PairingCode(data["store_id"], data["kiosk_id"], int(data["lane"]), data["code"],
                           datetime.fromisoformat(data["expires_at"]), data["payload"])
        with DeviceProfile(args.data_dir / "profile.json") as profile:
            settings = profile.printer_settings()
        connection = build_escpos(settings)
        try:
            print_pairing_slip(connection, code, width_chars=settings.width_chars)
        finally:
            connection.close()
        out.write(f"pairing slip printed for {code.kiosk_id}\n")
        return 0
    if args.command == "provision-edge":
        from tillpi_ops.hq_enrolment import HttpHqEnrolment
        from tillpi_ops.provision import provision_edge

        code = sys.stdin.readline().strip() if args.enrolment_code == "-" else args.enrolment_code
        with HttpHqEnrolment(args.hq_url, ca_file=args.hq_ca_file) as hq:
            done = provision_edge(
                hq, code, hq_url=args.hq_url, broker_data=args.broker_data, edge_data=args.edge_data,
                kiosk_port=args.kiosk_port, edge_port=args.edge_port, hostnames=tuple(args.hostname) or ("localhost",),
            )
        out.write(f"edge enrolled as store {done.store_id}; broker data {done.broker_data}, edge data {done.edge_data}\n")
        return 0
    if args.command == "backup":
        from tillpi_ops.backup import backup, prune_backups

        manifest = backup(_pairs(args.source, "--source"), args.dest, clock=clock)
        out.write(f"backup {manifest.folder}: {len(manifest.entries)} files\n")
        if args.keep:
            for folder in prune_backups(args.dest, args.keep):
                out.write(f"pruned {folder}\n")
        return 0
    if args.command == "restore":
        from tillpi_ops.backup import restore

        report = restore(args.backup, _pairs(args.target, "--target"))
        out.write(f"restored {report.files} files; databases verified: {', '.join(report.databases) or 'none'}\n")
        return 0
    if args.command == "verify-backup":
        from tillpi_ops.backup import verify_backup

        manifest = verify_backup(args.backup)
        out.write(f"backup {manifest.folder} of {manifest.created_at}: {len(manifest.entries)} files match\n")
        return 0
    if args.command == "upgrade-check":
        from broker.fsutil import atomic_write
        from tillpi_ops.upgrade import upgrade_edge, upgrade_kiosk

        stamp = args.backup_dest / "last-upgrade-check"
        version = args.once_per_version.read_text(encoding="utf-8").strip() if args.once_per_version else None
        if version is not None and stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == version:
            out.write(f"version {version} already checked\n")
            return 0
        if args.kiosk_data is not None:
            report = upgrade_kiosk(args.kiosk_data, backup_dest=args.backup_dest, clock=clock)
        else:
            report = upgrade_edge(args.edge_data, backup_dest=args.backup_dest, broker_data=args.broker_data, clock=clock)
        out.write(f"pre-upgrade backup: {report.backup.folder}\n")
        for change in report.changes:
            out.write(f"{change.component:<10} {change.file.name}: schema {change.before} -> {change.after}\n")
        for what, count in report.pending.items():
            out.write(f"pending {what}: {count}\n")
        if version is not None:
            atomic_write(stamp, version + "\n", mode=0o644)
        return 0
    if args.command == "health-check":
        from tillpi_ops.health import parse_check, run_checks

        results = run_checks([parse_check(spec) for spec in args.checks])
        for r in results:
            out.write(f"{'ok  ' if r.ok else 'FAIL'} {r.name}: {r.detail}\n")
        return 0 if all(r.ok for r in results) else 1
    raise OpsError(f"unknown command {args.command}")  # pragma: no cover - argparse refuses first


def main(argv: list[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _run(args, out)
    except OpsError as exc:
        err.write(f"tillpi_ops {args.command}: {exc}\n")
        return 2 if isinstance(exc, ValueError) else 1
    except Exception as exc:  # noqa: BLE001 - another package's typed error: say it in one line
        from broker.errors import BrokerError
        from kiosk.errors import KioskError

        if isinstance(exc, (BrokerError, KioskError, OSError)):
            err.write(f"tillpi_ops {args.command}: {exc}\n")
            return 1
        raise
