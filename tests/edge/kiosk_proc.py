"""A kiosk bus in its own process, for presence tests: connects with a short keepalive,
publishes one health snapshot, prints ``ready <session>`` and waits to be killed.

    python -m tests.edge.kiosk_proc --data DIR --store s1 --kiosk kiosk-01 --host H --port P \
        [--ca-file F --cert-file F --key-file F] [--keepalive 2]

The password comes from ``$TILLPI_MQTT_PASSWORD``.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from datetime import timedelta
from pathlib import Path

from broker.contract import DeviceReport, Health
from broker.endpoint import MqttEndpoint
from kiosk.bus import MqttKioskBus
from kiosk.outbox import SaleOutbox
from retail.clock import SystemClock


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--store", required=True)
    p.add_argument("--kiosk", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca-file")
    p.add_argument("--cert-file")
    p.add_argument("--key-file")
    p.add_argument("--keepalive", type=int, default=2)
    args = p.parse_args(argv)
    clock = SystemClock()
    endpoint = MqttEndpoint(args.host, args.port, args.kiosk, os.environ.get("TILLPI_MQTT_PASSWORD", ""),
                            ca_file=Path(args.ca_file) if args.ca_file else None,
                            cert_file=Path(args.cert_file) if args.cert_file else None,
                            key_file=Path(args.key_file) if args.key_file else None)
    with SaleOutbox(Path(args.data) / "journal.sqlite3", store_id=args.store, kiosk_id=args.kiosk, clock=clock) as outbox:
        with MqttKioskBus(endpoint, outbox, clock=clock, keepalive_s=args.keepalive) as bus:
            if not bus.wait_connected(20):
                print("not connected", flush=True)
                return 2
            now = clock.now()
            bus.publish_health(Health(kiosk_id=args.kiosk, at=now, interval_s=30, clock_synced=True, outbox_pending=0,
                                      devices=[DeviceReport(device="printer", status="ok", since=now - timedelta(hours=1))]))
            print(f"ready {bus.session}", flush=True)
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
