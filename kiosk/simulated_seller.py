"""A simulated kiosk that sells: random baskets recorded in a real sale journal and published
through the real MQTT adapter. A simulator for fault tests, benchmarks and demos.

    python -m kiosk.simulated_seller --data DIR --store s1 --kiosk kiosk-01 \\
        --host 127.0.0.1 --port 8883 [--ca-file ca.crt --cert-file k.crt --key-file k.key] --count 5 [--rate 0] [--drain-timeout 30]

The password comes from ``$TILLPI_MQTT_PASSWORD``. It sells ``--count`` sales (``--rate``
per second, 0 = as fast as it can), then waits until the journal has no pending sale (or
``--drain-timeout`` passes) and exits 0 when drained, 3 when not. Each recorded sale is
printed as ``recorded <seq> <sale_id>`` after its commit.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from broker.contract import LineSaving, Payment, SaleDraft, SaleLine, SaleTotals
from retail.clock import Clock, SystemClock

__all__ = ["SIM_CATALOGUE", "main", "random_sale_draft"]

# sku, gtin, name, unit price (per piece, or per kg when weighed), weighed?, tax bp
SIM_CATALOGUE: tuple[tuple[str, str | None, str, int, bool, int], ...] = (
    ("tea-500", "06901234567892", "Green tea 500 ml", 350, False, 1300),
    ("rice-5kg", "06920202888883", "Rice 5 kg", 4990, False, 900),
    ("apple", None, "Apples (kg)", 1280, True, 900),
    ("milk-1l", "04006381333931", "Milk 1 l", 1190, False, 900),
    ("noodles", "06921168509256", "Instant noodles", 450, False, 1300),
    ("banana", None, "Bananas (kg)", 698, True, 900),
    ("water", "06922255451427", "Water 550 ml", 200, False, 1300),
)


def _line(rng: random.Random, promo: bool) -> SaleLine:
    sku, gtin, name, price, weighed, tax_bp = rng.choice(SIM_CATALOGUE)
    if weighed:
        grams = rng.randint(150, 2500)
        gross = (price * grams * 2 + 1000) // 2000  # half-up of price * grams / 1000
        qty: dict[str, int] = {"weight_g": grams}
    else:
        n = rng.randint(1, 4)
        gross = price * n
        qty = {"quantity": n}
    savings = [LineSaving(promotion_id="promo-10pct", amount_minor=gross // 10)] if promo and gross >= 10 else []
    net = gross - sum(s.amount_minor for s in savings)
    tax = net * tax_bp // (10_000 + tax_bp)  # tax included in the price
    return SaleLine(sku=sku, gtin=gtin, name=name, unit_price_minor=price, gross_minor=gross, savings=savings,
                    net_minor=net, tax_rate_bp=tax_bp, tax_minor=tax, **qty)


def random_sale_draft(rng: random.Random, *, store_id: str, kiosk_id: str, clock: Clock,
                      currency: str = "CNY", max_lines: int = 6) -> SaleDraft:
    """A valid finished basket with a fresh ``sale_id`` (deterministic for a seeded ``rng``)."""
    lines = [_line(rng, rng.random() < 0.3) for _ in range(rng.randint(1, max_lines))]
    total = sum(x.net_minor for x in lines)
    payments: list[Payment] = []
    change = 0
    method = rng.choice(("card", "mobile", "cash"))
    if method == "cash":
        tendered = ((total + 9_999) // 10_000) * 10_000 or 10_000
        payments.append(Payment(method="cash", amount_minor=tendered))
        change = tendered - total
    else:
        payments.append(Payment(method=method, amount_minor=total, reference=f"ref-{rng.randrange(10**9)}"))
    now = clock.now()
    return SaleDraft(
        sale_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        store_id=store_id,
        kiosk_id=kiosk_id,
        business_date=now.date(),
        started_at=now - timedelta(seconds=rng.randint(20, 240)),
        finished_at=now,
        clock_synced=True,
        currency=currency,
        catalogue_version="sim-1",
        lines=lines,
        totals=SaleTotals(
            subtotal_minor=sum(x.gross_minor for x in lines),
            savings_minor=sum(x.savings_minor for x in lines),
            total_minor=total,
            tax_minor=sum(x.tax_minor for x in lines),
        ),
        payments=payments,
        change_minor=change,
    )


def main(argv: list[str] | None = None) -> int:
    from broker.endpoint import MqttEndpoint
    from kiosk.bus import MqttKioskBus
    from kiosk.outbox import SaleOutbox

    parser = argparse.ArgumentParser(prog="simulated_seller", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--kiosk", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--username")
    parser.add_argument("--ca-file")
    parser.add_argument("--cert-file")
    parser.add_argument("--key-file")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--resend-after", type=float, default=3.0)
    parser.add_argument("--drain-timeout", type=float, default=30.0)
    parser.add_argument("--wait-connected", type=float, default=0.0,
                        help="seconds to wait for the broker before selling (0: sell at once)")
    args = parser.parse_args(argv)

    clock = SystemClock()
    rng = random.Random(args.seed if args.seed is not None else uuid.uuid4().int)
    endpoint = MqttEndpoint(args.host, args.port, args.username or args.kiosk, os.environ.get("TILLPI_MQTT_PASSWORD", ""),
                            ca_file=Path(args.ca_file) if args.ca_file else None,
                            cert_file=Path(args.cert_file) if args.cert_file else None,
                            key_file=Path(args.key_file) if args.key_file else None)
    with SaleOutbox(Path(args.data) / "journal.sqlite3", store_id=args.store, kiosk_id=args.kiosk, clock=clock) as outbox:
        with MqttKioskBus(endpoint, outbox, clock=clock, resend_after_s=args.resend_after) as bus:
            if args.wait_connected > 0:
                bus.wait_connected(args.wait_connected)
            for _ in range(args.count):
                sale = outbox.record_sale(random_sale_draft(rng, store_id=args.store, kiosk_id=args.kiosk, clock=clock))
                print(f"recorded {sale.seq} {sale.sale_id}", flush=True)
                if args.rate > 0:
                    time.sleep(1.0 / args.rate)
            deadline = time.monotonic() + args.drain_timeout
            while outbox.has_pending() and time.monotonic() < deadline:
                time.sleep(0.05)
            drained = not outbox.has_pending()
    print("drained" if drained else "not drained", flush=True)
    return 0 if drained else 3


if __name__ == "__main__":
    sys.exit(main())
