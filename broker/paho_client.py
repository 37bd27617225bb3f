"""Small pieces every paho-mqtt adapter of the store bus shares: the client, built one way
(:func:`build_client`), connected one way (:func:`connect_in_background`), and a clean close
(:func:`disconnect_and_stop`)."""

from __future__ import annotations

import logging
import socket
import ssl
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker.endpoint import MqttEndpoint
from broker.paho_speedups import BulkClient, install_lean_properties

__all__ = ["build_client", "connect_in_background", "disconnect_and_stop"]

log = logging.getLogger(__name__)


def build_client(endpoint: MqttEndpoint, client_id: str, *, manual_ack: bool = False,
                 reconnect_max_s: float = 2.0, max_inflight: int | None = None,
                 bulk: bool = False) -> mqtt.Client:
    """A paho MQTT 5 client (callback API 2) for ``endpoint``: its credentials, its TLS (the
    store CA, and the device's client certificate where it has one), no Nagle delay, reconnect
    back-off from 0.2 s up to ``reconnect_max_s``, at most ``max_inflight`` unacknowledged
    publishes (paho's default when None), and paho's per-packet MQTT 5 properties made cheap
    (:mod:`broker.paho_speedups`); with ``bulk``, a :class:`~broker.paho_speedups.BulkClient`
    (for a client that drives its own network loop and moves many messages). Callbacks and connecting are the adapter's."""
    install_lean_properties()
    cls = BulkClient if bulk else mqtt.Client
    client = cls(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=manual_ack)
    client.username_pw_set(endpoint.username, endpoint.password)
    if endpoint.ca_file is not None:
        client.tls_set(
            ca_certs=str(endpoint.ca_file),
            certfile=str(endpoint.cert_file) if endpoint.cert_file else None,
            keyfile=str(endpoint.key_file) if endpoint.key_file else None,
            cert_reqs=ssl.CERT_REQUIRED,
        )
    client.on_socket_open = _no_delay
    client.reconnect_delay_set(min_delay=0.2, max_delay=reconnect_max_s)  # type: ignore[arg-type]
    if max_inflight is not None:
        client.max_inflight_messages_set(max_inflight)
    return client


def connect_in_background(client: mqtt.Client, endpoint: MqttEndpoint, *, keepalive_s: int,
                          session_expiry_s: int | None = None, receive_maximum: int | None = None,
                          network_thread: bool = True) -> None:
    """Start connecting to ``endpoint`` without waiting (the broker may be down; paho keeps
    trying). With ``session_expiry_s`` the session is persistent (``clean_start=False``: the
    broker keeps subscriptions and queued messages that long); without, it starts clean.
    ``receive_maximum`` caps what the broker may push unacknowledged. ``network_thread``
    starts paho's own network thread; an adapter that drives paho's loop itself says False."""
    props = None
    if session_expiry_s is not None or receive_maximum is not None:
        props = Properties(PacketTypes.CONNECT)
        if session_expiry_s is not None:
            props.SessionExpiryInterval = session_expiry_s
        if receive_maximum is not None:
            props.ReceiveMaximum = receive_maximum
    client.connect_async(endpoint.host, endpoint.port, keepalive=keepalive_s, clean_start=session_expiry_s is None,
                         properties=props)
    if network_thread:
        client.loop_start()


def _no_delay(client: mqtt.Client, userdata: object, sock: Any) -> None:
    """Send small packets at once (no Nagle): sales, acks and events are a few hundred bytes."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        log.debug("could not set TCP_NODELAY", exc_info=True)


def disconnect_and_stop(client: mqtt.Client, what: str) -> None:
    """Disconnect cleanly if the link is up, then stop paho's network thread. A link that is
    already down is no error when closing: it is logged at debug level and closing goes on."""
    try:
        client.disconnect()
    except (RuntimeError, ValueError, OSError):
        log.debug("%s: disconnect while closing failed", what, exc_info=True)
    client.loop_stop()
