"""The edge's MQTT adapter: feeds kiosk sales to :class:`IngestCore`, then acknowledges.

Order per batch: the ledger commits (``IngestCore.process``), THEN the application acks and
commands are published (QoS 1), THEN the broker's PUBACKs are released (paho
``manual_ack=True`` and ``client.ack(mid, qos)``), in arrival order. A crash anywhere before
the commit leaves the messages unacknowledged at the broker and unacknowledged at the kiosk:
they come again. The session is persistent, so the broker queues sales while the application
is down (up to its per-client limit; beyond it the kiosks' outboxes replay).

``EdgeState`` is published retained: ``online`` with a rising session on every connect, and
``offline`` as the will and on a clean close.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker.contract import EdgeState, edge_state_topic, encode, kiosk_filter
from broker.endpoint import MqttEndpoint
from edge.errors import EdgeError
from edge.ingest import Inbound, IngestCore
from broker.paho_speedups import install_lean_properties  # shared bus plumbing; see its docstring
from retail.clock import Clock

__all__ = ["EdgeBusError", "EdgeMqttIngest"]

log = logging.getLogger(__name__)


def _no_delay(client: mqtt.Client, userdata: object, sock: Any) -> None:
    """Send small packets at once (no Nagle): acks are a few hundred bytes."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        log.debug("could not set TCP_NODELAY", exc_info=True)


#: The Receive Maximum the store broker announces (Mosquitto's ``max_inflight_messages``, 20).
_BROKER_RECEIVE_MAXIMUM = 20


class EdgeBusError(EdgeError, ConnectionError):
    """The edge's bus adapter could not be set up or used."""


class EdgeMqttIngest:
    """Consumes ``tillpi/<store>/kiosk/+/sale`` into the ledger (context manager; idempotent
    ``close()``). Group commit: the worker takes every sale already received (up to
    ``batch_max``) into one ledger transaction, one fsync, then publishes their acks and
    releases their PUBACKs. ``receive_maximum`` (MQTT 5) is how many unacknowledged sales the
    broker may push to the edge at once; the edge is the one subscriber taking every kiosk's
    sales, so it is generous (at 100 the broker waited on each batch's PUBACKs and the
    measured burst throughput was about a third lower). ``batch_max`` matches it: when the disk
    is slow to sync, everything that arrived meanwhile goes into the next single commit.
    ``max_inflight`` bounds the app acks awaiting the broker's PUBACK (the broker's Receive
    Maximum)."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        core: IngestCore,
        *,
        store_id: str,
        clock: Clock,
        client_id: str | None = None,
        software_version: str = "0",
        batch_max: int = 1000,
        receive_maximum: int = 1000,
        session_expiry_s: int = 7 * 24 * 3600,
        keepalive_s: int = 15,
        reconnect_max_s: float = 2.0,
        max_inflight: int = _BROKER_RECEIVE_MAXIMUM,
    ) -> None:
        self._endpoint = endpoint
        self._core = core
        self._store = store_id
        self._clock = clock
        self._version = software_version
        self._batch_max = batch_max
        self._state_topic = edge_state_topic(store_id)
        self._sales_filter = kiosk_filter(store_id, "sale")
        self._queue: queue.SimpleQueue[mqtt.MQTTMessage | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._closed = False
        self._worker: threading.Thread | None = None
        self._session = 0
        self.processed = 0
        install_lean_properties()  # paho's per-packet MQTT 5 properties, made cheap
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"edge-{store_id}",
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        self._client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.ca_file is not None:
            self._client.tls_set(
                ca_certs=str(endpoint.ca_file),
                certfile=str(endpoint.cert_file) if endpoint.cert_file else None,
                keyfile=str(endpoint.key_file) if endpoint.key_file else None,
            )
        self._client.on_socket_open = _no_delay
        self._client.reconnect_delay_set(min_delay=0.2, max_delay=reconnect_max_s)  # type: ignore[arg-type]
        # Unacknowledged publishes (the app acks) stay within the broker's Receive Maximum (paho
        # does not apply the CONNACK's value itself, nor allow changing it once connected); a
        # small limit also keeps paho's scan of its outgoing queue on every PUBACK short.
        self._client.max_inflight_messages_set(max_inflight)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._session_expiry_s = session_expiry_s
        self._receive_maximum = receive_maximum
        self._keepalive_s = keepalive_s

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> EdgeMqttIngest:
        if self._closed:
            raise EdgeBusError("the edge bus is closed")
        if self._worker is not None:
            return self
        self._arm_will()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self._session_expiry_s
        props.ReceiveMaximum = self._receive_maximum
        self._client.connect_async(
            self._endpoint.host, self._endpoint.port, keepalive=self._keepalive_s, clean_start=False, properties=props
        )
        self._worker = threading.Thread(target=self._run, name=f"edge-ingest-{self._store}", daemon=True)
        self._worker.start()
        self._client.loop_start()
        return self

    def __enter__(self) -> EdgeMqttIngest:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop consuming: say ``offline``, disconnect (the broker keeps the session)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout=10)
        try:
            if self._connected.is_set():
                info = self._client.publish(self._state_topic, self._state_payload("offline"), qos=1, retain=True)
                info.wait_for_publish(timeout=1.0)
            self._client.disconnect()
        except (RuntimeError, ValueError, OSError):
            log.debug("disconnect while closing failed", exc_info=True)
        self._client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    # -- paho callbacks ----------------------------------------------------------------------
    def _state_payload(self, status: str) -> bytes:
        return encode(
            EdgeState(
                store_id=self._store,
                status=status,  # type: ignore[arg-type]
                session=max(self._session, 1),
                software_version=self._version,
                at=self._clock.now(),
            )
        )

    def _arm_will(self) -> None:
        self._session = self._core.ledger.next_session()
        self._client.will_set(self._state_topic, self._state_payload("offline"), qos=1, retain=True)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.error("edge: broker refused the connection: %s", reason)
            return
        client.subscribe(self._sales_filter, qos=1)
        client.publish(self._state_topic, self._state_payload("online"), qos=1, retain=True)
        self._connected.set()
        log.info("edge ingest connected (session %d)", self._session)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        if self._connected.is_set() and not self._closed:
            log.warning("edge ingest disconnected: %s", reason)
        self._connected.clear()
        if not self._closed:
            try:
                self._arm_will()
            except Exception:
                log.exception("could not prepare the next edge session")

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self._queue.put(msg)

    # -- worker -------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            first = self._queue.get()
            if first is None or self._stop.is_set():
                break
            batch = [first]
            while len(batch) < self._batch_max:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._stop.set()
                    break
                batch.append(nxt)
            self._handle(batch)

    def _handle(self, batch: list[mqtt.MQTTMessage]) -> None:
        inbound = [Inbound(m.topic, bytes(m.payload)) for m in batch]
        while True:
            try:
                outcomes = self._core.process(inbound)
                break
            except Exception:
                # The ledger failed: nothing is acknowledged; try again (the messages are ours).
                log.exception("edge ledger transaction failed; retrying %d messages", len(batch))
                if self._stop.wait(1.0):
                    return
        for outcome in outcomes:
            for topic, payload in outcome.replies:
                self._client.publish(topic, payload, qos=1)
        for m in batch:
            if m.qos > 0:
                self._client.ack(m.mid, m.qos)
        self.processed += len(batch)
