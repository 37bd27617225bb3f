"""Fault tests of the sale path against real Mosquitto processes: never lose, never double.

Every wait polls a condition with a generous deadline; no sleep is an assertion.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from broker.contract import Sale, SaleAck, decode_acks, encode, kiosk_topic
from kiosk.bus import MqttKioskBus
from kiosk.outbox import SaleOutbox
from kiosk.simulated_seller import random_sale_draft
from retail.clock import SystemClock
from tests.bus.helpers import STORE, EdgeApp, make_sale, tampered, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.fault, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
KIOSKS = ("kiosk-01", "kiosk-02", "kiosk-03", "kiosk-04")


class Kiosk:
    """A kiosk in-process: its own journal and the real MQTT adapter."""

    def __init__(self, broker, kiosk_id: str, data: Path, *, resend_after_s: float = 2.0) -> None:
        self.clock = SystemClock()
        self.kiosk_id = kiosk_id
        self.rng = random.Random(kiosk_id)
        self.outbox = SaleOutbox(data / f"{kiosk_id}.sqlite3", store_id=STORE, kiosk_id=kiosk_id, clock=self.clock)
        self.bus = MqttKioskBus(broker.kiosk_endpoint(kiosk_id), self.outbox, clock=self.clock,
                                resend_after_s=resend_after_s, reconnect_max_s=0.5).start()

    def sell(self, n: int) -> list[Sale]:
        return [self.outbox.record_sale(random_sale_draft(self.rng, store_id=STORE, kiosk_id=self.kiosk_id, clock=self.clock))
                for _ in range(n)]

    def close(self) -> None:
        self.bus.close()
        self.outbox.close()


@pytest.fixture
def rigs(tmp_path: Path):
    made: list = []

    def add(obj):
        made.append(obj)
        return obj

    yield add
    for obj in reversed(made):
        obj.close()


def assert_exactly_once(edge: EdgeApp, kiosks: list[Kiosk]) -> None:
    for k in kiosks:
        journal = k.outbox.states()
        stored = edge.ledger.sales(k.kiosk_id)
        assert Counter(s.sale_id for s in stored) == Counter(set(journal)), f"{k.kiosk_id}: ledger differs from journal"
        assert sorted(s.seq for s in stored) == list(range(1, len(journal) + 1))
        assert set(journal.values()) == {"done"}


def test_a_kiosk_killed_50_times_between_payment_and_ack_loses_and_doubles_nothing(store_broker, tmp_path: Path, rigs) -> None:
    edge = rigs(EdgeApp(store_broker, tmp_path / "edge").start())
    endpoint = store_broker.kiosk_endpoint("kiosk-01")
    data = tmp_path / "kiosk-01"
    env = {**os.environ, "TILLPI_MQTT_PASSWORD": endpoint.password, "PYTHONPATH": str(ROOT)}
    base = [sys.executable, "-m", "kiosk.simulated_seller", "--data", str(data), "--store", STORE, "--kiosk", "kiosk-01",
            "--host", endpoint.host, "--port", str(endpoint.port), "--ca-file", str(endpoint.ca_file), "--cert-file", str(endpoint.cert_file), "--key-file", str(endpoint.key_file), "--resend-after", "1"]
    rng = random.Random(2024)
    printed: set[str] = set()
    kills = 0
    while kills < 50:
        proc = subprocess.Popen([*base, "--count", "4", "--rate", "40", "--wait-connected", "20", "--seed", str(kills)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the first sale is committed: now kill at a random point
        assert first.startswith("recorded"), first
        printed.add(first.split()[2])
        timer = threading.Timer(rng.uniform(0.0, 0.08), proc.send_signal, (signal.SIGKILL,))
        timer.start()
        out, _ = proc.communicate(timeout=60)
        timer.join()
        printed.update(line.split()[2] for line in out.splitlines() if line.startswith("recorded"))
        kills += proc.returncode == -signal.SIGKILL
    assert edge.ledger.sale_count() > 0, "the kills should land while sales flow, not before the kiosk connects"
    final = subprocess.run([*base, "--count", "0", "--drain-timeout", "60"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stdout + final.stderr
    with SaleOutbox(data / "journal.sqlite3", store_id=STORE, kiosk_id="kiosk-01", clock=SystemClock()) as journal:
        states = journal.states()
    assert printed <= set(states), "a sale reported as recorded is missing from the journal"
    stored = edge.ledger.sales("kiosk-01")
    assert Counter(s.sale_id for s in stored) == Counter(set(states))
    assert sorted(s.seq for s in stored) == list(range(1, len(states) + 1))
    assert len(states) >= 50


def test_broker_stopped_while_four_kiosks_sell_300_each_all_arrive_once(store_broker, tmp_path: Path, rigs) -> None:
    edge = rigs(EdgeApp(store_broker, tmp_path / "edge").start())
    kiosks = [rigs(Kiosk(store_broker, k, tmp_path)) for k in KIOSKS]
    for k in kiosks:
        assert k.bus.wait_connected(20)
    store_broker.stop()
    threads = [threading.Thread(target=k.sell, args=(300,)) for k in kiosks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    # record_sale returned for all 1,200 sales while the broker was still down
    assert not store_broker.running
    assert sum(k.outbox.last_seq for k in kiosks) == 1200
    store_broker.start()
    wait_until(lambda: edge.ledger.sale_count() >= 1200 and all(k.outbox.pending_count() == 0 for k in kiosks), 120,
               "1,200 sales in the ledger and every journal drained")
    assert edge.ledger.sale_count() == 1200
    assert_exactly_once(edge, kiosks)


def test_edge_down_with_a_small_broker_queue_loses_none_of_5000_sales(store_broker_factory, tmp_path: Path, rigs) -> None:
    broker = store_broker_factory(max_queued_messages=100)
    edge = rigs(EdgeApp(broker, tmp_path / "edge"))
    edge.start()  # creates the persistent session the broker queues for
    kiosks = [rigs(Kiosk(broker, k, tmp_path)) for k in KIOSKS]
    for k in kiosks:
        assert k.bus.wait_connected(20)
    edge.stop()
    threads = [threading.Thread(target=k.sell, args=(1250,)) for k in kiosks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    wait_until(lambda: sum(k.bus.sent for k in kiosks) > 200, 60, "kiosks publishing into the broker while the edge is down")
    assert edge.ledger.sale_count() == 0
    edge.start()
    wait_until(lambda: edge.ledger.sale_count() >= 5000 and all(k.outbox.pending_count() == 0 for k in kiosks), 180,
               "5,000 sales in the ledger and every journal drained")
    assert edge.ledger.sale_count() == 5000
    assert_exactly_once(edge, kiosks)


def test_broker_killed_with_sales_queued_for_an_offline_edge_recovers_every_sale(store_broker, tmp_path: Path, rigs) -> None:
    edge = rigs(EdgeApp(store_broker, tmp_path / "edge"))
    edge.start()
    kiosks = [rigs(Kiosk(store_broker, k, tmp_path)) for k in KIOSKS[:2]]
    for k in kiosks:
        assert k.bus.wait_connected(20)
    edge.stop()
    for k in kiosks:
        k.sell(150)
    wait_until(lambda: all(k.bus.sent >= 20 for k in kiosks), 60, "sales queued in the broker for the edge")
    store_broker.kill()
    store_broker.start()
    edge.start()
    wait_until(lambda: edge.ledger.sale_count() >= 300 and all(k.outbox.pending_count() == 0 for k in kiosks), 120,
               "300 sales in the ledger and every journal drained")
    assert edge.ledger.sale_count() == 300
    assert_exactly_once(edge, kiosks)


def test_a_failing_ledger_acknowledges_nothing_and_every_sale_arrives_once_it_recovers(
        store_broker, tmp_path: Path, rigs, monkeypatch: pytest.MonkeyPatch) -> None:
    edge = rigs(EdgeApp(store_broker, tmp_path / "edge").start())
    real = edge.core.process
    failures: list[int] = []

    def failing(batch):  # noqa: ANN001 - IngestCore.process's own signature
        if len(failures) < 3:  # the disk fails for the first three transactions
            failures.append(len(batch))
            raise sqlite3.OperationalError("disk I/O error")
        return real(batch)

    monkeypatch.setattr(edge.core, "process", failing)
    kiosks = [rigs(Kiosk(store_broker, k, tmp_path)) for k in KIOSKS[:2]]
    for k in kiosks:
        k.sell(40)
    wait_until(lambda: edge.ledger.sale_count() >= 80 and all(k.outbox.pending_count() == 0 for k in kiosks), 60,
               "80 sales in the ledger and both journals drained")
    assert len(failures) == 3 and sum(failures) > 0
    assert edge.ledger.sale_count() == 80
    assert_exactly_once(edge, kiosks)


def test_sales_delivered_three_times_shuffled_count_once_and_copies_are_acked_duplicate(store_broker, tmp_path: Path, rigs, mqtt_client) -> None:
    edge = rigs(EdgeApp(store_broker, tmp_path / "edge").start())
    endpoint = store_broker.kiosk_endpoint("kiosk-01")
    listener = mqtt_client(endpoint, "kiosk-01-acks")
    listener.connect()
    listener.subscribe(kiosk_topic(STORE, "kiosk-01", "ack"))
    sender = mqtt_client(endpoint, "kiosk-01-sender")
    sender.connect()
    rng = random.Random(3)
    sales = [make_sale(rng, seq) for seq in range(1, 31)]
    copies = sales * 3
    rng.shuffle(copies)
    for sale in copies:
        assert not sender.publish(kiosk_topic(STORE, "kiosk-01", "sale"), encode(sale)).is_failure
    acks: list[SaleAck] = []
    while len(acks) < 90:  # one SaleAcks message per committed batch
        acks.extend(decode_acks(bytes(listener.expect(30).payload)))
    assert len(acks) == 90
    assert Counter(a.status for a in acks) == {"accepted": 30, "duplicate": 60}
    first = {}
    for a in acks:
        first.setdefault(a.sale_id, a.status)
    assert set(first.values()) == {"accepted"}
    assert edge.ledger.sale_count() == 30
    units = Counter()
    for s in sales:
        for line in s.lines:
            units[line.sku] -= line.quantity or line.weight_g or 0
    levels = edge.ledger.moves_totals()
    assert {sku: lvl.units + lvl.grams for sku, lvl in levels.items()} == dict(units)


def test_sale_id_reused_with_another_body_is_rejected_end_to_end(store_broker, tmp_path: Path, rigs, mqtt_client) -> None:
    edge = rigs(EdgeApp(store_broker, tmp_path / "edge").start())
    kiosk = rigs(Kiosk(store_broker, "kiosk-01", tmp_path))
    original = kiosk.sell(1)[0]
    wait_until(lambda: kiosk.outbox.pending_count() == 0, 30, "the original sale acknowledged")
    impostor = Sale.from_draft(make_sale(random.Random(4), 2).draft().model_copy(update={"sale_id": original.sale_id}), 2)
    probe = mqtt_client(store_broker.kiosk_endpoint("kiosk-01"), "kiosk-01-probe")
    probe.connect()
    probe.subscribe(kiosk_topic(STORE, "kiosk-01", "ack"))
    probe.publish(kiosk_topic(STORE, "kiosk-01", "sale"), encode(impostor))
    [ack] = decode_acks(bytes(probe.expect(30).payload))
    assert (ack.sale_id, ack.status) == (original.sale_id, "rejected")
    assert edge.ledger.sale_body("kiosk-01", original.sale_id) == original
    assert [e.kind for e in edge.ledger.alarm_events()] == ["sale_id_reused"]


def test_a_sequence_gap_is_detected_resynced_and_cleared_end_to_end(store_broker, tmp_path: Path, rigs) -> None:
    edge = rigs(EdgeApp(store_broker, tmp_path / "edge", resync_cooldown_s=1.0).start())
    kiosk = rigs(Kiosk(store_broker, "kiosk-01", tmp_path))
    kiosk.sell(5)
    wait_until(lambda: edge.ledger.sale_count() == 5 and kiosk.outbox.pending_count() == 0, 30, "first five sales")
    # seq 6 and 7 look acknowledged on the kiosk but never reached the edge (e.g. a restored edge)
    kiosk.bus.close()
    lost = kiosk.sell(2)
    kiosk.outbox.apply_acks([SaleAck(kiosk_id="kiosk-01", sale_id=s.sale_id, seq=s.seq, status="accepted") for s in lost])
    kiosk.bus = MqttKioskBus(store_broker.kiosk_endpoint("kiosk-01"), kiosk.outbox, clock=kiosk.clock, resend_after_s=2.0).start()
    kiosk.sell(1)
    wait_until(lambda: edge.ledger.sequence_gaps("kiosk-01") != [], 30, "the gap detected")
    assert [(g.first_seq, g.last_seq) for g in edge.ledger.sequence_gaps("kiosk-01")] == [(6, 7)]
    wait_until(lambda: edge.ledger.sale_count() == 8, 60, "the resync filled the gap")
    assert edge.ledger.sequence_gaps("kiosk-01", open_only=True) == []
    kinds = [e.kind for e in edge.ledger.alarm_events()]
    assert kinds == ["sequence_gap", "sequence_gap_cleared"]
    assert edge.ledger.kiosk_sequence("kiosk-01") == (8, 8)


def test_hostile_input_is_refused_or_dead_lettered_while_valid_sales_flow(store_broker, tmp_path: Path, rigs, mqtt_client) -> None:
    edge = rigs(EdgeApp(store_broker, tmp_path / "edge").start())
    endpoint = store_broker.kiosk_endpoint("kiosk-01")
    probe = mqtt_client(endpoint, "kiosk-01-hostile")
    probe.connect()
    topic = kiosk_topic(STORE, "kiosk-01", "sale")
    rng = random.Random(8)
    valid = [make_sale(rng, seq) for seq in range(1, 9)]
    base = make_sale(rng, 20)
    hostile = [
        b"{\"schema\": \"tillpi.sale/1\", \"sale_id\": ",
        tampered(base, **{"lines.0.unit_price_minor": 199.99}),
        tampered(base, **{"lines.0.quantity": -3}),
        tampered(base, **{"totals.total_minor": base.totals.total_minor + 1}),
        encode(make_sale(rng, 1, kiosk_id="kiosk-02")),
        tampered(base, **{"lines.0.gtin": "0'; DROP TABLE sales; --"}),
        tampered(base, **{"lines.0.gtin": "069\u200b01234567892"}),
    ]
    for good, bad in zip(valid, hostile + [None]):
        assert not probe.publish(topic, encode(good)).is_failure
        if bad is not None:
            assert not probe.publish(topic, bad).is_failure
    # A publish on another kiosk's topic with this kiosk's valid login: refused by the ACL.
    refused = probe.publish(kiosk_topic(STORE, "kiosk-02", "sale"), encode(make_sale(rng, 2, kiosk_id="kiosk-02")))
    # A 10 MB payload: far beyond the broker's packet limit, so the broker drops the client.
    big = mqtt_client(endpoint, "kiosk-01-big")
    big.connect()
    big.client.publish(topic, b"{" + b" " * (10 * 1024 * 1024) + b"}", qos=1)
    wait_until(lambda: not big.is_connected, 30, "the broker refusing the 10 MB publish")
    marker = make_sale(rng, 9)
    assert not probe.publish(topic, encode(marker)).is_failure
    wait_until(lambda: edge.ledger.sale_body("kiosk-01", marker.sale_id) is not None, 30, "the marker sale")
    assert edge.ledger.sale_count("kiosk-01") == 9
    assert edge.ledger.sale_count() == 9, "nothing from the ACL-refused publish reached the ledger"
    letters = edge.ledger.dead_letters()
    assert [d.payload for d in letters] == hostile
    assert all(len(d.payload) < 1024 * 1024 for d in letters)
    assert len(edge.ledger.alarm_events("dead_letter")) == len(hostile)
    assert refused is not None and refused.is_failure


def test_an_edge_the_broker_refuses_backs_off_instead_of_asking_again_at_once(store_broker, tmp_path: Path) -> None:
    """Wrong credentials: the broker answers every CONNECT with a refusal. The edge keeps
    asking (the password may be fixed) but with a growing pause, never in a tight loop."""
    import dataclasses
    import time

    from edge.bus import EdgeMqttIngest
    from edge.ingest import IngestCore
    from edge.ledger import Ledger

    clock = SystemClock()
    endpoint = dataclasses.replace(store_broker.edge_endpoint(), password="not-the-password")
    with Ledger(tmp_path / "ledger.sqlite3", clock=clock) as ledger:
        ingest = EdgeMqttIngest(endpoint, IngestCore(ledger, store_id=STORE, clock=clock), store_id=STORE, clock=clock,
                                reconnect_max_s=0.4)
        attempts: list[float] = []
        real = ingest._client.reconnect

        def counted():  # noqa: ANN202 - paho's own signature
            attempts.append(time.monotonic())
            return real()

        ingest._client.reconnect = counted  # type: ignore[method-assign]
        with ingest:
            wait_until(lambda: len(attempts) >= 4, 30, "four connection attempts")
            assert not ingest.connected
        gaps = [b - a for a, b in zip(attempts, attempts[1:])]
        assert all(gap >= 0.15 for gap in gaps[:3]), f"attempts without a pause: {gaps}"
