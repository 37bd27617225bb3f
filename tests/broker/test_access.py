"""Who may connect, publish and read on a real store broker (private Mosquitto per test)."""

from __future__ import annotations

import shutil
import socket
import ssl
from dataclasses import replace

import pytest

from broker.ca import CertPair, StoreCA
from broker.endpoint import MqttEndpoint

pytestmark = pytest.mark.broker

S = "tillpi/s1"


def sale(kiosk: str) -> str:
    return f"{S}/kiosk/{kiosk}/sale"


def test_anonymous_client_is_refused(store_broker, mqtt_client):
    anonymous = MqttEndpoint(store_broker.host, store_broker.edge_port, username="", password="")
    code = mqtt_client(anonymous).connect()
    assert code.is_failure
    assert code.getName() in ("Not authorized", "Bad user name or password")


def test_wrong_password_is_refused_on_both_listeners(store_broker, mqtt_client):
    edge = replace(store_broker.edge_endpoint(), password="not-the-password")
    kiosk = replace(store_broker.kiosk_endpoint("kiosk-01"), password="not-the-password")
    assert mqtt_client(edge).connect().is_failure
    assert mqtt_client(kiosk).connect().is_failure


def test_kiosk_password_is_refused_as_another_kiosk(store_broker, mqtt_client):
    kiosk_01 = store_broker.kiosk_endpoint("kiosk-01")
    kiosk_02 = store_broker.kiosk_endpoint("kiosk-02")
    impostor = replace(kiosk_02, password=kiosk_01.password)
    assert mqtt_client(impostor).connect().is_failure


def test_edge_and_kiosks_with_valid_credentials_connect(store_broker, mqtt_client):
    assert not mqtt_client(store_broker.edge_endpoint()).connect().is_failure
    for kiosk in ("kiosk-01", "kiosk-04"):
        assert not mqtt_client(store_broker.kiosk_endpoint(kiosk)).connect().is_failure


def test_kiosk_sale_reaches_the_edge(store_broker, mqtt_client):
    edge = mqtt_client(store_broker.edge_endpoint())
    edge.connect()
    assert not edge.subscribe(f"{S}/kiosk/+/sale").is_failure
    kiosk = mqtt_client(store_broker.kiosk_endpoint("kiosk-01"))
    kiosk.connect()
    assert not kiosk.publish(sale("kiosk-01"), b'{"sale": 1}', qos=1).is_failure
    message = edge.expect()
    assert (message.topic, message.payload) == (sale("kiosk-01"), b'{"sale": 1}')


@pytest.mark.parametrize("kind", ["state", "health", "event"])
def test_kiosk_may_publish_its_other_own_topics(store_broker, mqtt_client, kind):
    edge = mqtt_client(store_broker.edge_endpoint())
    edge.connect()
    edge.subscribe(f"{S}/#")
    kiosk = mqtt_client(store_broker.kiosk_endpoint("kiosk-02"))
    kiosk.connect()
    topic = f"{S}/kiosk/kiosk-02/{kind}"
    assert not kiosk.publish(topic, b"x", retain=kind == "state").is_failure
    assert edge.expect().topic == topic


def test_kiosk_receives_its_ack_and_cmd_and_store_wide_retained_topics(store_broker, mqtt_client):
    edge = mqtt_client(store_broker.edge_endpoint())
    edge.connect()
    edge.publish(f"{S}/edge/state", b"online", retain=True)
    edge.publish(f"{S}/catalogue/version", b"42", retain=True)
    edge.publish(f"{S}/alarm/kiosk-03/door", b"open", retain=True)

    kiosk = mqtt_client(store_broker.kiosk_endpoint("kiosk-01"))
    kiosk.connect()
    for topic in (f"{S}/kiosk/kiosk-01/ack", f"{S}/kiosk/kiosk-01/cmd", f"{S}/edge/state", f"{S}/catalogue/#", f"{S}/alarm/#"):
        assert not kiosk.subscribe(topic).is_failure, topic
    retained = {kiosk.expect().topic for _ in range(3)}
    assert retained == {f"{S}/edge/state", f"{S}/catalogue/version", f"{S}/alarm/kiosk-03/door"}

    edge.publish(f"{S}/kiosk/kiosk-01/ack", b"sale-1")
    edge.publish(f"{S}/kiosk/kiosk-01/cmd", b"open-drawer")
    got = [(m.topic, m.payload) for m in (kiosk.expect(), kiosk.expect())]
    assert got == [(f"{S}/kiosk/kiosk-01/ack", b"sale-1"), (f"{S}/kiosk/kiosk-01/cmd", b"open-drawer")]


def test_kiosk_cannot_publish_on_another_kiosks_topics(store_broker, mqtt_client):
    edge = mqtt_client(store_broker.edge_endpoint())
    edge.connect()
    edge.subscribe(f"{S}/#")
    intruder = mqtt_client(store_broker.kiosk_endpoint("kiosk-02"))
    intruder.connect()

    forged = [sale("kiosk-01"), f"{S}/kiosk/kiosk-01/state", f"{S}/kiosk/kiosk-01/ack", f"{S}/edge/state",
              f"{S}/catalogue/prices", f"{S}/alarm/x", "tillpi/s2/kiosk/kiosk-02/sale", f"{S}/kiosk/kiosk-02/ack"]
    for topic in forged:
        code = intruder.publish(topic, b"forged", qos=1)
        assert code.getName() == "Not authorized", topic
    intruder.publish(sale("kiosk-02"), b"marker", qos=1)  # allowed: its own sale topic

    # One client's messages stay in order, so anything forged would arrive before the marker.
    seen = edge.until(sale("kiosk-02"))
    assert [(m.topic, m.payload) for m in seen] == [(sale("kiosk-02"), b"marker")]


def test_kiosk_cannot_read_another_kiosks_acks_or_commands(store_broker, mqtt_client):
    snoop = mqtt_client(store_broker.kiosk_endpoint("kiosk-02"))
    snoop.connect()
    # Mosquitto 2.0 grants these subscriptions and checks read access per message on delivery.
    snoop.subscribe(f"{S}/kiosk/kiosk-01/ack")
    snoop.subscribe(f"{S}/kiosk/kiosk-01/cmd")
    snoop.subscribe(f"{S}/kiosk/+/ack")

    edge = mqtt_client(store_broker.edge_endpoint())
    edge.connect()
    edge.publish(f"{S}/kiosk/kiosk-01/ack", b"secret-ack")
    edge.publish(f"{S}/kiosk/kiosk-01/cmd", b"secret-cmd")
    edge.publish(f"{S}/kiosk/kiosk-02/ack", b"marker")

    seen = snoop.until(f"{S}/kiosk/kiosk-02/ack")
    assert [m.payload for m in seen] == [b"marker"]


def test_kiosk_cannot_read_other_kiosks_sales_or_the_whole_store(store_broker, mqtt_client):
    snoop = mqtt_client(store_broker.kiosk_endpoint("kiosk-03"))
    snoop.connect()
    snoop.subscribe(f"{S}/#")
    snoop.subscribe("#")
    victim = mqtt_client(store_broker.kiosk_endpoint("kiosk-01"))
    victim.connect()
    victim.publish(sale("kiosk-01"), b"private sale")
    edge = mqtt_client(store_broker.edge_endpoint())
    edge.connect()
    edge.publish(f"{S}/catalogue/marker", b"marker")  # store-wide: kiosks may read it

    seen = snoop.until(f"{S}/catalogue/marker")
    assert seen and all(m.payload == b"marker" for m in seen)


def test_tls_listener_refuses_a_client_that_does_not_trust_the_store_ca(store_broker, mqtt_client, tmp_path):
    other_ca = StoreCA(tmp_path / "other-ca")
    other_ca.create("elsewhere")
    untrusting = replace(store_broker.kiosk_endpoint("kiosk-01"), ca_file=other_ca.ca_cert_file)
    with pytest.raises(ssl.SSLError):
        mqtt_client(untrusting).connect()


def _mqtt311_connect(client_id: str, username: str, password: str) -> bytes:
    def field(text: str) -> bytes:
        data = text.encode()
        return len(data).to_bytes(2, "big") + data

    body = field("MQTT") + bytes([4, 0xC2]) + (60).to_bytes(2, "big")
    body += field(client_id) + field(username) + field(password)
    length, encoded = len(body), b""
    while True:
        digit, length = length % 128, length // 128
        encoded += bytes([digit | (0x80 if length else 0)])
        if not length:
            break
    return b"\x10" + encoded + body


def _tls_connack(endpoint: MqttEndpoint, maximum: ssl.TLSVersion) -> bytes | None:
    """The broker's CONNACK to a hand-made MQTT CONNECT over TLS, or None if TLS refused us.

    Under TLS 1.2 a refused client certificate fails the handshake; under TLS 1.3 the server's
    alert arrives on the first read after it."""
    context = ssl.create_default_context(cafile=str(endpoint.ca_file))
    context.maximum_version = maximum
    if endpoint.cert_file:
        context.load_cert_chain(str(endpoint.cert_file), str(endpoint.key_file))
    with socket.create_connection((endpoint.host, endpoint.port), timeout=10) as raw:
        try:
            with context.wrap_socket(raw, server_hostname=endpoint.host) as tls:
                tls.sendall(_mqtt311_connect("raw-tls-probe", endpoint.username, endpoint.password))
                return tls.recv(4) or None
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return None


@pytest.mark.parametrize("maximum", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_listener_accepts_the_kiosks_own_certificate(store_broker, maximum):
    """The control for the two refusals below: same probe, right certificate, CONNACK 0."""
    assert _tls_connack(store_broker.kiosk_endpoint("kiosk-01"), maximum) == bytes([0x20, 0x02, 0x00, 0x00])


@pytest.mark.parametrize("maximum", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_listener_refuses_a_kiosk_without_a_client_certificate(store_broker, maximum):
    no_cert = replace(store_broker.kiosk_endpoint("kiosk-01"), cert_file=None, key_file=None)
    assert _tls_connack(no_cert, maximum) is None


@pytest.mark.parametrize("maximum", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_client_certificate_from_another_ca_is_refused(store_broker, tmp_path, maximum):
    other_ca = StoreCA(tmp_path / "other-ca")
    other_ca.create("elsewhere")
    foreign = other_ca.issue_client_cert("kiosk-01", CertPair(tmp_path / "f.crt", tmp_path / "f.key"))
    forged = replace(store_broker.kiosk_endpoint("kiosk-01"), cert_file=foreign.cert_file, key_file=foreign.key_file)
    assert _tls_connack(forged, maximum) is None


def test_plain_edge_listener_is_not_a_tls_listener(store_broker, mqtt_client):
    tls_to_plain = replace(store_broker.kiosk_endpoint("kiosk-01"), port=store_broker.edge_port)
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        mqtt_client(tls_to_plain).connect(timeout=5)


def test_revoked_kiosk_cannot_connect_after_reload_and_is_dropped(store_broker, mqtt_client, tmp_path):
    issued = store_broker.kiosk_endpoint("kiosk-03")
    # The kiosk keeps its own copy of its still-valid certificate: only the password is revoked.
    shutil.copy(issued.cert_file, tmp_path / "k3.crt")
    shutil.copy(issued.key_file, tmp_path / "k3.key")
    endpoint = replace(issued, cert_file=tmp_path / "k3.crt", key_file=tmp_path / "k3.key")
    connected = mqtt_client(endpoint)
    assert not connected.connect().is_failure

    store_broker.registry.revoke_kiosk("kiosk-03")
    store_broker.reload()

    assert mqtt_client(endpoint).connect().is_failure
    connected.wait_disconnected()
    # Other kiosks are unaffected.
    assert not mqtt_client(store_broker.kiosk_endpoint("kiosk-04")).connect().is_failure


def test_kiosk_enrolled_while_running_can_connect(store_broker, mqtt_client):
    endpoint = store_broker.kiosk_endpoint("kiosk-new-9")  # enrols and reloads
    assert not mqtt_client(endpoint).connect().is_failure
    assert [d.username for d in store_broker.registry.list()].count("kiosk-new-9") == 1
