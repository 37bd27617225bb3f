"""The kiosk's MQTT adapter: publishes the sale journal to the edge and applies its answers.

Selling never waits on the network: :meth:`SaleOutbox.record_sale` returns after the local
commit and wakes this adapter's worker thread, which publishes at QoS 1 from the journal. A
sale leaves the journal's pending set only when the edge *application* acknowledges it on the
kiosk's ack topic; the broker's PUBACK proves nothing (it drops QoS 1 messages when a
subscriber's queue overflows and loses queued ones when it crashes).

Threads: paho's network thread only queues what arrives; the worker owns the delivery plan
and all journal writes.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker.contract import (
    Command,
    ContractError,
    DeviceEvent,
    EdgeState,
    Health,
    KioskState,
    SaleAck,
    decode,
    decode_acks,
    edge_state_topic,
    encode,
    health_expiry_s,
    kiosk_topic,
)
from broker.endpoint import MqttEndpoint
from broker.paho_client import build_client, connect_in_background
from kiosk.bus.planner import DeliveryPlanner
from kiosk.errors import KioskError
from kiosk.outbox import JournalEntry, SaleOutbox
from retail.clock import Clock

__all__ = ["BusError", "MqttKioskBus"]

log = logging.getLogger(__name__)


#: On news that the edge application (re)started, unacknowledged sales sent at least this long
#: ago are sent again at once (younger ones wait for ``resend_after_s``).
_EDGE_BACK_MIN_AGE_S = 1.0


class BusError(KioskError, ConnectionError):
    """The kiosk bus could not be set up or used."""


class MqttKioskBus:
    """Connects one kiosk to the store broker (a context manager; ``close()`` is idempotent).

    ``window`` sales may be unacknowledged at once (a deep window keeps a backlog flowing while
    the edge commits the previous batch: the burst benchmark drained about a fifth faster at
    100 than at 50); each is re-sent after ``resend_after_s``
    without an application ack, at once when the edge application comes back online, and on
    a ``resync`` command. The MQTT session is persistent (``clean_start=False``, session
    expiry ``session_expiry_s``) and the will is a retained ``lost`` state carrying the
    connection's session number. After a wake-up the worker waits ``coalesce_s`` so that acks
    arriving together are applied in one journal transaction.
    """

    def __init__(
        self,
        endpoint: MqttEndpoint,
        outbox: SaleOutbox,
        *,
        clock: Clock,
        software_version: str = "0",
        window: int = 100,
        resend_after_s: float = 10.0,
        session_expiry_s: int = 7 * 24 * 3600,
        keepalive_s: int = 15,
        reconnect_max_s: float = 2.0,
        coalesce_s: float = 0.002,
    ) -> None:
        self._endpoint = endpoint
        self._outbox = outbox
        self._coalesce_s = coalesce_s
        self._clock = clock
        self._store = outbox.store_id
        self._kiosk = outbox.kiosk_id
        self._version = software_version
        self._planner = DeliveryPlanner(window=window, resend_after_s=resend_after_s)
        self._session_expiry_s = session_expiry_s
        self._keepalive_s = keepalive_s
        self._topics = {k: kiosk_topic(self._store, self._kiosk, k) for k in ("state", "sale", "health", "event", "ack", "cmd")}
        self._edge_topic = edge_state_topic(self._store)
        self._inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._session = 0
        self._edge_session: int | None = None
        self.sent = 0  # sale publishes issued, re-sends included (for tests and diagnostics)
        # MQTT in-flight (unPUBACKed) publishes stay within the broker's default receive maximum
        # (20); paho queues the rest of the window and sends each as a PUBACK returns.
        self._client = build_client(endpoint, self._kiosk, reconnect_max_s=reconnect_max_s, max_inflight=min(window, 20))
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> MqttKioskBus:
        """Start connecting (in the background: the broker may be down) and publishing."""
        if self._closed:
            raise BusError("the kiosk bus is closed")
        if self._worker is not None:
            return self
        self._outbox.add_listener(self._on_recorded)
        self._arm_will()
        connect_in_background(self._client, self._endpoint, keepalive_s=self._keepalive_s,
                              session_expiry_s=self._session_expiry_s)
        self._worker = threading.Thread(target=self._run, name=f"kiosk-bus-{self._kiosk}", daemon=True)
        self._worker.start()
        return self

    def __enter__(self) -> MqttKioskBus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._outbox.remove_listener(self._on_recorded)
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=10)
        try:
            if self._connected.is_set():
                info = self._client.publish(self._topics["state"], self._state_payload("lost"), qos=1, retain=True)
                info.wait_for_publish(timeout=1.0)
            self._client.disconnect()
        except (RuntimeError, ValueError, OSError):
            log.debug("disconnect while closing failed", exc_info=True)
        self._client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def session(self) -> int:
        return self._session

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    # -- other kiosk messages -----------------------------------------------------------------
    def publish_health(self, health: Health) -> None:
        """Retained, expiring after three intervals so a dead kiosk's snapshot disappears."""
        props = Properties(PacketTypes.PUBLISH)
        props.MessageExpiryInterval = health_expiry_s(health.interval_s)
        self._client.publish(self._topics["health"], encode(health), qos=1, retain=True, properties=props)

    def publish_event(self, event: DeviceEvent) -> None:
        self._client.publish(self._topics["event"], encode(event), qos=1)

    # -- paho callbacks (network thread): queue and wake -------------------------------------
    def _on_recorded(self, seq: int) -> None:
        self._inbox.put(("live", seq))
        self._wake.set()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.error("kiosk %s: broker refused the connection: %s", self._kiosk, reason)
            return
        client.subscribe([(self._topics["ack"], 1), (self._topics["cmd"], 1), (self._edge_topic, 1)])
        client.publish(self._topics["state"], self._state_payload("online"), qos=1, retain=True)
        log.info("kiosk %s connected (session %d)", self._kiosk, self._session)
        self._connected.set()
        self._inbox.put(("connected", None))
        self._wake.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was and not self._closed:
            log.warning("kiosk %s disconnected: %s", self._kiosk, reason)
        self._inbox.put(("disconnected", None))
        self._wake.set()
        if not self._closed:
            try:
                self._arm_will()  # the next connection carries a higher session
            except Exception:
                log.exception("could not prepare the next session")

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self._inbox.put(("message", (msg.topic, bytes(msg.payload))))
        self._wake.set()

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: Any, props: Any) -> None:
        if reason is not None and getattr(reason, "is_failure", False):
            log.warning("kiosk %s: broker refused publish %d: %s", self._kiosk, mid, reason)

    # -- helpers ----------------------------------------------------------------------------
    def _state_payload(self, status: str) -> bytes:
        return encode(
            KioskState(
                kiosk_id=self._kiosk,
                status=status,  # type: ignore[arg-type]
                session=max(self._session, 1),
                software_version=self._version,
                at=self._clock.now(),
            )
        )

    def _arm_will(self) -> None:
        self._session = self._outbox.next_session()
        self._client.will_set(self._topics["state"], self._state_payload("lost"), qos=1, retain=True)

    # -- worker --------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            deadline = self._planner.next_deadline()
            timeout = 0.5 if deadline is None else max(0.01, min(0.5, deadline - self._clock.monotonic()))
            if self._wake.wait(timeout) and self._coalesce_s > 0 and self._connected.is_set():
                # Acks come one by one: a moment's wait lets a few more join the same journal
                # transaction and the same delivery plan.
                self._stop.wait(self._coalesce_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self._step()
            except Exception:  # keep delivering; the journal is the truth
                log.exception("kiosk bus worker step failed")
                self._stop.wait(0.5)

    def _step(self) -> None:
        acks: list[SaleAck] = []
        while True:
            try:
                what, value = self._inbox.get_nowait()
            except queue.Empty:
                break
            if what == "live":
                self._planner.note_live(value)
            elif what == "disconnected":
                self._planner.reset()
            elif what == "connected":
                self._planner.reset()
            elif what == "message":
                topic, payload = value
                self._handle_message(topic, payload, acks)
        if acks:
            for outcome in self._outbox.apply_acks(acks):
                self._planner.acked(outcome.seq)
        if self._connected.is_set():
            self._send()

    def _handle_message(self, topic: str, payload: bytes, acks: list[SaleAck]) -> None:
        try:
            if topic == self._topics["ack"]:
                acks.extend(decode_acks(payload))
            elif topic == self._topics["cmd"]:
                self._handle_command(decode("cmd", payload))
            elif topic == self._edge_topic:
                if not payload:
                    return
                state: EdgeState = decode("edge_state", payload)
                if state.status == "online" and state.session != self._edge_session:
                    self._edge_session = state.session
                    # What was sent in the last moment is on its way to the new session; what
                    # was sent before may have been dropped while the edge was away.
                    n = self._planner.expedite(self._clock.monotonic(), min_age_s=_EDGE_BACK_MIN_AGE_S)
                    log.info("edge online (session %d): re-sending %d unacknowledged sales", state.session, n)
        except ContractError as exc:
            log.warning("kiosk %s: ignored invalid message on %s: %s", self._kiosk, topic, exc)

    def _handle_command(self, cmd: Command) -> None:
        if cmd.kiosk_id != self._kiosk:
            log.warning("command for %s ignored on %s", cmd.kiosk_id, self._kiosk)
            return
        if cmd.kind != "resync" or cmd.from_seq is None:
            # staff commands (approve, set_light) belong to the kiosk service's control link:
            # leave them unclaimed, so its own repeat check still sees them as new
            log.debug("command %s left to the kiosk service", cmd.kind)
            return
        if cmd.expired(self._clock.now()):
            log.info("expired command %s (%s) ignored", cmd.command_id, cmd.kind)
            return
        if not self._outbox.command_is_new(cmd.command_id, cmd.kind):
            log.debug("repeated command %s ignored", cmd.command_id)
            return
        reopened = self._outbox.reopen_from(cmd.from_seq)
        n = self._planner.expedite(self._clock.monotonic(), cmd.from_seq, min_age_s=1.0)
        log.info("resync from seq %d: %d reopened, %d re-sent now", cmd.from_seq, reopened, n)

    def _send(self) -> None:
        def backlog(limit: int, exclude: set[int]) -> list[int]:
            return self._outbox.pending_seqs(limit, exclude=exclude)  # the index only, no bodies

        plan = self._planner.plan(self._clock.monotonic(), backlog)
        if not plan:
            return
        read: dict[int, JournalEntry] = self._outbox.entries(plan)  # one query for all of them
        for seq in plan:
            entry = read.get(seq)
            if entry is None or entry.state != "pending":
                self._planner.acked(seq)
                continue
            info = self._client.publish(self._topics["sale"], entry.body, qos=1)
            self.sent += 1
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                log.debug("publish of seq %d deferred: %s", seq, mqtt.error_string(info.rc))
