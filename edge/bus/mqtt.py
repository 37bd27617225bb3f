"""The edge's MQTT adapter: feeds kiosk sales to :class:`IngestCore`, then acknowledges.

Order per batch: the ledger commits (``IngestCore.process``), THEN the application acks and
commands are published (QoS 1), THEN the broker's PUBACKs are released (paho
``manual_ack=True`` and ``client.ack(mid, qos)``), in arrival order. A crash anywhere before
the commit leaves the messages unacknowledged at the broker and unacknowledged at the kiosk:
they come again. The session is persistent, so the broker queues sales while the application
is down (up to its per-client limit; beyond it the kiosks' outboxes replay).

One thread does everything: it drives paho's network calls itself (``loop_read``,
``loop_write``, ``loop_misc``, ``reconnect``; paho's own thread is not started), reads what the
socket holds, decides it in one ledger transaction, sends the answers, and reads again. With
the network in a second thread the two took turns at the interpreter lock, handing it over on
every socket call and every SQLite statement, and the edge spent about half its time waiting.

``EdgeState`` is published retained: ``online`` with a rising session on every connect, and
``offline`` as the will and on a clean close.
"""

from __future__ import annotations

import logging
import select
import threading
from typing import Any

import paho.mqtt.client as mqtt

from broker.contract import EdgeState, edge_state_topic, encode, kiosk_filter
from broker.endpoint import MqttEndpoint
from edge.errors import EdgeError
from edge.ingest import Inbound, IngestCore
from broker.paho_client import build_client, connect_in_background
from retail.clock import Clock

__all__ = ["EdgeBusError", "EdgeMqttIngest"]

log = logging.getLogger(__name__)




#: The Receive Maximum the store broker announces (Mosquitto's ``max_inflight_messages``, 20).
_BROKER_RECEIVE_MAXIMUM = 20


class EdgeBusError(EdgeError, ConnectionError):
    """The edge's bus adapter could not be set up or used."""


class EdgeMqttIngest:
    """Consumes ``tillpi/<store>/kiosk/+/sale`` into the ledger (context manager; idempotent
    ``close()``). Group commit: every sale the socket already holds (up to ``batch_max``) goes
    into one ledger transaction, one fsync; then their acks are published and their PUBACKs
    released. ``receive_maximum`` (MQTT 5) is how many unacknowledged sales the broker may
    push to the edge at once; the edge is the one subscriber taking every kiosk's sales, so it
    is generous: two batches, one being decided while the next arrives (at 1,000, one batch,
    the edge read nothing new while it decided, and the burst benchmark measured about a fifth
    fewer sales per second). ``max_inflight`` bounds the app acks awaiting the broker's PUBACK
    (the broker's Receive Maximum)."""

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
        receive_maximum: int = 2000,
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
        self._received: list[mqtt.MQTTMessage] = []  # filled by on_message, emptied per batch
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._closed = False
        self._worker: threading.Thread | None = None
        self._session = 0
        self.processed = 0  # messages handled, and in how many ledger transactions (diagnostics)
        self.batches = 0
        # Unacknowledged publishes (the app acks) stay within the broker's Receive Maximum (paho
        # does not apply the CONNACK's value itself, nor allow changing it once connected); a
        # small limit also keeps paho's scan of its outgoing queue on every PUBACK short.
        self._client = build_client(endpoint, client_id or f"edge-{store_id}", manual_ack=True, max_inflight=max_inflight,
                                    bulk=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._session_expiry_s = session_expiry_s
        self._receive_maximum = receive_maximum
        self._keepalive_s = keepalive_s
        self._reconnect_min_s = 0.2
        self._reconnect_max_s = reconnect_max_s

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> EdgeMqttIngest:
        if self._closed:
            raise EdgeBusError("the edge bus is closed")
        if self._worker is not None:
            return self
        self._arm_will()
        connect_in_background(self._client, self._endpoint, keepalive_s=self._keepalive_s,
                              session_expiry_s=self._session_expiry_s, receive_maximum=self._receive_maximum,
                              network_thread=False)  # this adapter drives paho itself: see _run
        self._worker = threading.Thread(target=self._run, name=f"edge-ingest-{self._store}", daemon=True)
        self._worker.start()
        return self

    def __enter__(self) -> EdgeMqttIngest:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop consuming: say ``offline``, disconnect (the broker keeps the session). The
        network thread does it on its way out: paho is only ever driven from that thread."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=10)

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
        self._received.append(msg)

    # -- the network thread ----------------------------------------------------------------------
    def _run(self) -> None:
        delay, first = self._reconnect_min_s, True
        while not self._stop.is_set():
            if self._client.socket() is None:
                # Back off before every attempt but the first: a broker that is down, or one
                # that refuses the connection, is asked again at most every ``delay`` seconds.
                if not first and self._stop.wait(delay):
                    break
                first = False
                delay = min(delay * 2, self._reconnect_max_s)
                try:
                    self._client.reconnect()
                except OSError as exc:
                    log.debug("edge ingest: broker not reachable (%s); again in %.1f s", exc, delay)
                    continue
            if self._connected.is_set():
                delay = self._reconnect_min_s
            try:
                self._serve()
            except Exception:  # keep consuming: the broker and the ledger are the truth
                log.exception("edge ingest network step failed")
                self._stop.wait(0.5)
        self._goodbye()

    def _serve(self) -> None:
        """Wait for the socket, read all it holds (up to ``batch_max`` sales), decide them."""
        client = self._client
        sock = client.socket()
        if sock is None:
            return
        wanted_write = [sock] if client.want_write() else []
        readable, writable, _ = select.select([sock], wanted_write, [], 0.0 if self._waiting(sock) else 0.2)
        if readable or self._waiting(sock):
            client.loop_read()
            while len(self._received) < self._batch_max and client.socket() is sock and (
                    self._waiting(sock) or select.select([sock], [], [], 0.0)[0]):
                client.loop_read()
        if client.socket() is not None and (writable or client.want_write()):
            client.loop_write()
        if client.socket() is not None:
            client.loop_misc()  # keepalive
        if self._received:
            batch, self._received = self._received, []
            self._handle(batch)

    def _waiting(self, sock: Any) -> bool:
        """Bytes already read that select() cannot see: the client's read buffer, and what a TLS
        socket has decrypted."""
        pending = getattr(sock, "pending", None)
        return bool(self._client.buffered() or (pending is not None and pending()))

    def _goodbye(self) -> None:
        client = self._client
        try:
            if self._connected.is_set():
                info = client.publish(self._state_topic, self._state_payload("offline"), qos=1, retain=True)
                deadline = self._clock.monotonic() + 1.0
                while not info.is_published() and client.socket() is not None and self._clock.monotonic() < deadline:
                    self._serve()
            client.disconnect()
        except (RuntimeError, ValueError, OSError):
            log.debug("disconnect while closing failed", exc_info=True)

    def _handle(self, batch: list[mqtt.MQTTMessage]) -> None:
        """Decide ``batch``, then answer: acks, commands, PUBACKs. Should the ledger fail, nothing
        is acknowledged and the connection is dropped: the broker sends the sales again."""
        inbound = [Inbound(m.topic, bytes(m.payload)) for m in batch]
        try:
            outcomes = self._core.process(inbound)
        except Exception:
            log.exception("edge ledger transaction failed; %d messages left unacknowledged", len(batch))
            self._client.disconnect()  # the broker keeps them in the session and resends them
            self._stop.wait(1.0)
            return
        with self._client.batched_writes():  # acks, commands and PUBACKs in one send
            for topic, payload in self._core.replies(outcomes):
                self._client.publish(topic, payload, qos=1)
            for m in batch:
                if m.qos > 0:
                    self._client.ack(m.mid, m.qos)
        self.processed += len(batch)
        self.batches += 1
