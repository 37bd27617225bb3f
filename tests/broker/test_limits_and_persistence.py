"""Message size limits, queue limits and persistence across a clean restart, on a real broker."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.broker

S = "tillpi/s1"
SALE = f"{S}/kiosk/kiosk-01/sale"


def test_payload_over_message_size_limit_is_not_delivered(store_broker_factory, mqtt_client):
    broker = store_broker_factory(message_size_limit=1024)
    edge = mqtt_client(broker.edge_endpoint())
    edge.connect()
    edge.subscribe(f"{S}/#")
    kiosk = mqtt_client(broker.kiosk_endpoint("kiosk-01"))
    kiosk.connect()

    kiosk.publish(SALE, b"x" * 1025, qos=0)  # one byte too many: dropped by the broker
    kiosk.publish(SALE, b"y" * 1024, qos=1)  # exactly the limit: delivered
    seen = edge.until(SALE)
    assert [len(m.payload) for m in seen] == [1024]
    assert seen[0].payload == b"y" * 1024
    assert kiosk.is_connected  # a payload over the limit is dropped, not a reason to disconnect


def test_packet_over_max_packet_size_disconnects_the_client(store_broker_factory, mqtt_client):
    broker = store_broker_factory(message_size_limit=1024)
    kiosk = mqtt_client(broker.kiosk_endpoint("kiosk-01"))
    kiosk.connect()
    kiosk.publish(SALE, b"z" * (broker.config.max_packet_size + 1), qos=0)
    kiosk.wait_disconnected()
    assert f"Client {kiosk.client_id} disconnected due to oversize packet" in broker.log_tail(lines=200)


def test_queue_limit_drops_qos1_messages_for_an_offline_session(store_broker_factory, mqtt_client):
    broker = store_broker_factory(max_queued_messages=3)
    edge_ep = broker.edge_endpoint()
    offline = mqtt_client(edge_ep, "edge-ingest", clean_start=False, session_expiry=3600)
    offline.connect()
    offline.subscribe(f"{S}/kiosk/+/sale", qos=1)
    offline.close()

    kiosk = mqtt_client(broker.kiosk_endpoint("kiosk-01"))
    kiosk.connect()
    for n in range(6):
        kiosk.publish(SALE, f"sale-{n}".encode(), qos=1)

    back = mqtt_client(edge_ep, "edge-ingest", clean_start=False, session_expiry=3600)
    back.connect()
    back.subscribe(f"{S}/kiosk/+/event")
    back.publish(SALE.replace("sale", "event"), b"marker")  # the edge may write anywhere in the store
    seen = back.until(SALE.replace("sale", "event"))
    sales = [m.payload for m in seen if m.topic == SALE]
    assert sales == [b"sale-0", b"sale-1", b"sale-2"]  # the broker kept 3 and silently dropped 3


def test_retained_and_queued_messages_survive_a_clean_restart(store_broker, mqtt_client):
    edge_ep = store_broker.edge_endpoint()
    ingest = mqtt_client(edge_ep, "edge-ingest", clean_start=False, session_expiry=86400)
    ingest.connect()
    assert not ingest.subscribe(f"{S}/kiosk/+/sale", qos=1).is_failure
    ingest.publish(f"{S}/catalogue/version", b"v7", retain=True)
    ingest.close()  # offline: the broker queues QoS 1 sales for this session

    kiosk = mqtt_client(store_broker.kiosk_endpoint("kiosk-01"))
    kiosk.connect()
    assert not kiosk.publish(SALE, b"sale-while-edge-offline", qos=1).is_failure
    kiosk.close()

    ports = (store_broker.edge_port, store_broker.kiosk_port)
    store_broker.stop()
    assert (store_broker.config.paths.persistence_dir / "mosquitto.db").stat().st_size > 0
    store_broker.restart()
    assert (store_broker.edge_port, store_broker.kiosk_port) == ports

    # Same client id, no new subscription: the session and its queue came back from disk.
    again = mqtt_client(edge_ep, "edge-ingest", clean_start=False, session_expiry=86400)
    again.connect()
    message = again.expect()
    assert (message.topic, message.payload) == (SALE, b"sale-while-edge-offline")

    reader = mqtt_client(store_broker.kiosk_endpoint("kiosk-02"))
    reader.connect()
    reader.subscribe(f"{S}/catalogue/#")
    retained = reader.expect()
    assert (retained.topic, retained.payload, retained.retain) == (f"{S}/catalogue/version", b"v7", True)


def test_kill_loses_what_was_not_saved_yet(store_broker_factory, mqtt_client):
    """The counterpart of the clean restart: SIGKILL before an autosave loses the retained message."""
    broker = store_broker_factory(autosave_interval=3600)
    edge = mqtt_client(broker.edge_endpoint())
    edge.connect()
    edge.publish(f"{S}/catalogue/version", b"v8", retain=True)
    edge.close()
    broker.kill()
    broker.restart()

    reader = mqtt_client(broker.edge_endpoint())
    reader.connect()
    reader.subscribe(f"{S}/catalogue/#")
    reader.publish(f"{S}/catalogue/marker", b"marker", retain=False)
    seen = reader.until(f"{S}/catalogue/marker")
    assert [m.payload for m in seen] == [b"marker"]
