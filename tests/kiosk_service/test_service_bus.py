"""A headless kiosk service against a real Mosquitto and a real edge: sales reach the ledger
once, the lane sells offline from its persisted replica, remote approvals and light commands
act on the lane, health reaches the staff monitor, a clean stop keeps unsent sales."""

from __future__ import annotations

from datetime import timedelta

from broker.contract import kiosk_topic
from edge.monitor.commands import encode_model, light_command
from kiosk.checkout import CheckoutState
from kiosk.checkout import model as m
from kiosk.devices.light import LightState
from kiosk.outbox import SaleOutbox
from kiosk.simulated_shopper import SimulatedShopper
from retail.clock import SystemClock

from .conftest import BEER_GTIN, STORE, Shop, journal_sale_ids, wait_for

FAST = dict(seconds_per_step=0.005, wait_s=10.0)


def _edge_version(shop: Shop) -> str:
    assert shop.edge is not None
    return str(shop.edge.catalogue.version())


def test_simulated_shoppers_sales_reach_the_edge_ledger_exactly_once_and_are_acknowledged(shop: Shop) -> None:
    kiosk = shop.kiosk("kiosk-01")
    wait_for("the edge's catalogue at the kiosk", lambda: kiosk.catalogue_version == _edge_version(shop))
    shopper = SimulatedShopper.for_service(kiosk, seed=1, **FAST)
    stats = shopper.run(sales=6)
    assert stats.sales_completed == 6 and stats.aborted == 0
    assert sum(stats.payments.values()) >= 6 and stats.items >= 6

    edge = shop.edge
    assert edge is not None
    wait_for("every sale acknowledged", lambda: kiosk.outbox.pending_count() == 0)
    recorded = journal_sale_ids(kiosk)
    assert len(recorded) == 6
    at_edge = [s.sale_id for s in edge.ledger.sales("kiosk-01")]
    assert sorted(at_edge) == sorted(recorded)  # each sale once, none missing
    assert [s.seq for s in edge.ledger.sales("kiosk-01")] == [1, 2, 3, 4, 5, 6]
    sold = edge.ledger.sale_body("kiosk-01", recorded[0])
    assert sold is not None and sold.catalogue_version == _edge_version(shop)


def test_an_offline_kiosk_sells_from_its_persisted_replica_and_every_sale_arrives_once_later(shop: Shop) -> None:
    first = shop.kiosk("kiosk-01")
    wait_for("the catalogue", lambda: first.catalogue_version == _edge_version(shop))
    first.close()
    shop.broker.stop()

    kiosk = shop.kiosk("kiosk-01", start=False)
    assert kiosk.catalogue_version == _edge_version(shop)  # from disk, before any connection
    kiosk.start()
    stats = SimulatedShopper.for_service(kiosk, seed=2, **FAST).run(sales=3)
    assert stats.sales_completed == 3
    assert kiosk.outbox.pending_count() == 3
    assert kiosk.engine.edge_online is False

    shop.broker.restart()
    wait_for("the journal drained", lambda: kiosk.outbox.pending_count() == 0)
    edge = shop.edge
    assert edge is not None
    assert sorted(s.sale_id for s in edge.ledger.sales("kiosk-01")) == sorted(journal_sale_ids(kiosk))
    assert edge.ledger.sale_count("kiosk-01") == 3
    wait_for("the edge online again at the lane", lambda: kiosk.engine.edge_online)


def test_an_age_check_is_approved_from_the_staff_console_through_the_edge(shop: Shop) -> None:
    kiosk = shop.kiosk("kiosk-01")
    edge = shop.edge
    assert edge is not None
    wait_for("the catalogue", lambda: kiosk.catalogue_version == _edge_version(shop))
    wait_for("the edge online at the lane", lambda: kiosk.engine.edge_online)
    kiosk.runtime.post(m.ChooseLanguage("en"))
    wait_for("scanning", lambda: kiosk.engine.state is CheckoutState.SCANNING)
    kiosk.devices.scanner.inner.scan(BEER_GTIN[1:])
    snap = wait_for("the age check", lambda: (s := kiosk.engine.snapshot()).state is CheckoutState.NEEDS_ATTENDANT and s)
    request_id = snap.request.request_id

    def at_edge() -> dict | None:
        return next((r for r in edge.monitor.assistance_json()
                     if r["kiosk_id"] == "kiosk-01" and r["request_id"] == request_id), None)

    request = wait_for("the request on the staff console", at_edge)
    assert request["reason"] == "age_restricted" and request["remote"] is True
    assert request["total_minor"] == 600 and request["items"] == [{"name": "Tsingtao beer", "quantity": 1}]

    edge.monitor.approve("kiosk-01", request_id, staff_id="ann-7", approve=True, why="ID seen on camera")
    wait_for("the lane past the age check", lambda: kiosk.engine.state is CheckoutState.WAITING_FOR_BAGGING)
    wait_for("the request closed at the edge", lambda: at_edge() is None)
    assert kiosk.commands_applied >= 1


def test_health_reaches_the_monitor_and_staff_light_commands_drive_the_light(shop: Shop, mqtt_client) -> None:  # noqa: ANN001
    kiosk = shop.kiosk("kiosk-01")
    edge = shop.edge
    assert edge is not None

    def healthy() -> list[dict] | None:
        devices = edge.monitor.kiosk_json("kiosk-01")["devices"]
        return devices if devices and all(d["status"] == "ok" for d in devices) else None

    devices = wait_for("an all-ok health snapshot at the edge", healthy)
    names = {d["device"] for d in devices}
    assert {"scanner", "produce", "bag", "cash_drawer", "status_light", "catalogue", "card_terminal", "qr_gateway"} <= names
    assert edge.monitor.kiosk_json("kiosk-01")["outbox_pending"] == 0
    wait_for("the edge's own light settled", lambda: edge.monitor.lights().get("kiosk-01") == "idle")
    light = kiosk.devices.light  # the simulated light behind the lane's blended one
    assert light.state is LightState.IDLE

    probe = mqtt_client(shop.broker.edge_endpoint())
    probe.connect()
    topic = kiosk_topic(STORE, "kiosk-01", "cmd")
    now = SystemClock().now()
    alarm = light_command("kiosk-01", "alarm", now=now)
    idle = light_command("kiosk-01", "idle", now=now)
    expired = light_command("kiosk-01", "alarm", now=now - timedelta(hours=1), ttl_s=60)
    assistance = light_command("kiosk-01", "assistance", now=now)
    mark = len(light.history)
    probe.publish(topic, encode_model(alarm))
    wait_for("the alarm light", lambda: light.state is LightState.ALARM)
    probe.publish(topic, encode_model(idle))
    wait_for("the light back to idle", lambda: light.state is LightState.IDLE)
    ignored = kiosk.commands_ignored
    probe.publish(topic, encode_model(alarm))  # a repeat
    probe.publish(topic, encode_model(expired))
    probe.publish(topic, encode_model(assistance))
    wait_for("the assistance light", lambda: light.state is LightState.ASSISTANCE)
    assert light.history[mark:] == [LightState.ALARM, LightState.IDLE, LightState.ASSISTANCE]
    assert kiosk.commands_ignored == ignored + 2


def test_a_clean_stop_keeps_unsent_sales_in_the_journal_and_they_drain_on_the_next_start(shop: Shop) -> None:
    kiosk = shop.kiosk("kiosk-01")
    wait_for("the catalogue", lambda: kiosk.catalogue_version == _edge_version(shop))
    shop.stop_edge()  # the broker stays; nobody acknowledges
    stats = SimulatedShopper.for_service(kiosk, seed=3, **FAST).run(sales=2)
    assert stats.sales_completed == 2
    recorded = journal_sale_ids(kiosk)
    kiosk.close()
    assert kiosk.pending_at_close == 2

    with SaleOutbox(kiosk.settings.journal_path, store_id=STORE, kiosk_id="kiosk-01", clock=SystemClock()) as journal:
        assert journal.pending_count() == 2  # kept on disk across the stop

    edge = shop.start_edge()
    again = shop.kiosk("kiosk-01")
    wait_for("the journal drained after the restart", lambda: again.outbox.pending_count() == 0)
    assert sorted(s.sale_id for s in edge.ledger.sales("kiosk-01")) == sorted(recorded)
