"""The cheaper paho Properties behave exactly like paho's own."""

from __future__ import annotations

import pytest
from paho.mqtt import _packet as paho_packet
from paho.mqtt import client as paho_client
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import MQTTException

from broker.paho_speedups import LeanProperties, _Original, install_lean_properties, lean_properties_installed

CASES = [
    (PacketTypes.PUBLISH, {"MessageExpiryInterval": 45, "ContentType": "application/json", "ResponseTopic": "a/b",
                           "UserProperty": [("k", "v"), ("k", "w")], "CorrelationData": b"\x00\xff",
                           "PayloadFormatIndicator": 1}),
    (PacketTypes.CONNECT, {"SessionExpiryInterval": 604800, "ReceiveMaximum": 1000, "MaximumPacketSize": 65536}),
    (PacketTypes.PUBACK, {"ReasonString": "fine"}),
    (PacketTypes.PUBLISH, {}),
]


@pytest.mark.parametrize("packet_type, settings", CASES)
def test_lean_properties_pack_and_unpack_like_paho(packet_type: int, settings: dict) -> None:
    original, lean = _Original(packet_type), LeanProperties(packet_type)
    for name, value in settings.items():
        setattr(original, name, value)
        setattr(lean, name, value)
    assert lean.pack() == original.pack()
    again = LeanProperties(packet_type)
    again.unpack(original.pack())
    assert again.json() == original.json()
    assert isinstance(again, _Original)


def test_lean_properties_keep_paho_checks_and_clear_between_packets() -> None:
    lean = LeanProperties(PacketTypes.PUBLISH)
    with pytest.raises(MQTTException):
        lean.SessionExpiryInterval = 5  # a CONNECT property on a PUBLISH
    with pytest.raises(MQTTException):
        lean.NoSuchProperty = 1
    lean.unpack(_packed(PacketTypes.PUBLISH, MessageExpiryInterval=9))
    assert lean.MessageExpiryInterval == 9
    lean.unpack(b"\x00")
    assert lean.isEmpty() and not hasattr(lean, "MessageExpiryInterval")


def test_install_makes_paho_decode_with_lean_properties_and_is_idempotent() -> None:
    assert install_lean_properties() and install_lean_properties()
    assert lean_properties_installed()
    assert paho_packet.Properties is LeanProperties and paho_client.Properties is LeanProperties
    body = b"\x00\x03a/b\x00\x07" + _packed(PacketTypes.PUBLISH, ContentType="x") + b"payload"
    packet = paho_packet.decode_publish(0x32, body, paho_client.MQTTv5)
    assert type(packet.properties) is LeanProperties
    assert (packet.topic, packet.mid, packet.payload, packet.properties.ContentType) == (b"a/b", 7, b"payload", "x")


def _packed(packet_type: int, **values: object) -> bytes:
    props = _Original(packet_type)
    for name, value in values.items():
        setattr(props, name, value)
    return props.pack()


def test_the_buffered_client_hands_paho_the_same_bytes_in_order_and_forgets_a_lost_connection() -> None:
    import socket

    from paho.mqtt.enums import CallbackAPIVersion

    from broker.paho_speedups import BulkClient

    client = BulkClient(CallbackAPIVersion.VERSION2, client_id="t", protocol=paho_client.MQTTv5)
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    client._sock = ours  # what paho's reconnect() sets
    with pytest.raises(BlockingIOError):
        client._sock_recv(1)  # nothing sent yet: paho's "try again later"
    theirs.sendall(b"\x30\x05hello\x40\x02")
    got = [client._sock_recv(1), client._sock_recv(1), client._sock_recv(5)]
    assert got == [b"\x30", b"\x05", b"hello"] and client.buffered() == 2  # one recv served all three
    assert client._sock_recv(4) == b"\x40\x02" and client.buffered() == 0
    again, theirs_again = socket.socketpair()
    theirs.sendall(b"left over")
    client._sock_recv(4)
    client._sock = again  # a new connection: what the old one left is not served
    assert client.buffered() == 0
    theirs_again.sendall(b"\x20")
    assert client._sock_recv(1) == b"\x20"
    theirs.close()
    theirs_again.close()
    ours.close()
    again.close()


def test_the_bulk_client_sends_what_was_queued_in_a_batch_together_and_in_order() -> None:
    import socket

    from paho.mqtt.enums import CallbackAPIVersion

    from broker.paho_speedups import BulkClient

    client = BulkClient(CallbackAPIVersion.VERSION2, client_id="t", protocol=paho_client.MQTTv5)
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.settimeout(5)
    client._sock = ours
    with client.batched_writes():
        for mid in (1, 2, 3):
            client._send_puback(mid)  # what ack(mid, 1) sends
        theirs.setblocking(False)
        with pytest.raises(BlockingIOError):
            theirs.recv(100)  # nothing is sent inside the block
        theirs.settimeout(5)
    assert len(client._out_packet) == 0
    assert theirs.recv(100) == b"\x40\x02\x00\x01\x40\x02\x00\x02\x40\x02\x00\x03"
    ours.close()
    theirs.close()
