"""The monitor's MQTT adapter: subscribes to every kiosk's state, health and events (and the
store's retained alarm topics), runs the :class:`~edge.monitor.core.StoreMonitor` on one worker
thread, and is its :class:`~edge.monitor.ports.BusPublisher`.

Threads: paho's network thread only queues; the worker handles messages in arrival order,
ticks the monitor every ``tick_s`` seconds and flushes changes after each batch, so an alarm
reaches the console as soon as its message is handled. A staff action on a web thread wakes
the worker through :meth:`StoreMonitor.poke`.

The MQTT session is persistent (``clean_start=False``): device events published while the
edge was down are delivered when it comes back; states and health are retained anyway.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

import paho.mqtt.client as mqtt

from broker.paho_client import build_client, connect_in_background, disconnect_and_stop
from broker.contract import alarm_topic, kiosk_filter
from broker.endpoint import MqttEndpoint
from edge.errors import EdgeError
from edge.monitor.core import StoreMonitor
from retail.clock import Clock

__all__ = ["MonitorBusError", "MqttMonitor"]

log = logging.getLogger(__name__)

_POKE = ("poke", b"")


class MonitorBusError(EdgeError, ConnectionError):
    """The monitor's bus adapter could not be set up or used."""


class MqttMonitor:
    """Runs a :class:`StoreMonitor` on the store bus (context manager; idempotent ``close()``).
    Build it, then hand it to the monitor as its publisher: ``monitor.publisher = link``."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        monitor: StoreMonitor,
        *,
        clock: Clock,
        client_id: str | None = None,
        tick_s: float = 1.0,
        keepalive_s: int = 15,
        session_expiry_s: int = 24 * 3600,
        reconnect_max_s: float = 2.0,
        batch_max: int = 200,
    ) -> None:
        if tick_s <= 0:
            raise MonitorBusError("tick_s must be positive")
        self._endpoint = endpoint
        self.monitor = monitor
        self._clock = clock
        self._store = monitor.store_id
        self._tick_s = tick_s
        self._batch_max = batch_max
        self._keepalive_s = keepalive_s
        self._session_expiry_s = session_expiry_s
        self._queue: queue.SimpleQueue[tuple[str, bytes] | None] = queue.SimpleQueue()
        self._connected = threading.Event()
        self._closed = False
        self._worker: threading.Thread | None = None
        self._filters = [(kiosk_filter(self._store, k), 1) for k in ("state", "health", "event")]
        self._filters.append((alarm_topic(self._store), 1))
        self._alarm_prefix = alarm_topic(self._store)[:-1]  # "tillpi/<store>/alarm/"
        client = build_client(endpoint, client_id or f"edge-{self._store}-monitor", reconnect_max_s=reconnect_max_s,
                              max_inflight=100)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        self.errors = 0

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> MqttMonitor:
        if self._closed:
            raise MonitorBusError("the monitor bus is closed")
        if self._worker is not None:
            return self
        self.monitor.publisher = self
        self.monitor.on_dirty = self._wake
        self._worker = threading.Thread(target=self._run, name=f"edge-monitor-{self._store}", daemon=True)
        self._worker.start()
        connect_in_background(self._client, self._endpoint, keepalive_s=self._keepalive_s,
                              session_expiry_s=self._session_expiry_s)
        return self

    def __enter__(self) -> MqttMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.monitor.on_dirty = None
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout=10)
        disconnect_and_stop(self._client, "store monitor")

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    # -- BusPublisher -------------------------------------------------------------------------
    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            log.warning("monitor publish on %s failed: %s", topic, mqtt.error_string(info.rc))

    # -- paho callbacks -----------------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.error("monitor: broker refused the connection: %s", reason)
            return
        client.subscribe(self._filters)
        self._connected.set()
        log.info("edge monitor connected to %r", self._endpoint)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        if self._connected.is_set() and not self._closed:
            log.warning("edge monitor disconnected: %s", reason)
        self._connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.startswith(self._alarm_prefix) and not msg.retain:
            return  # our own alarm publishes coming back; only retained leftovers matter
        self._queue.put((msg.topic, bytes(msg.payload)))

    def _wake(self) -> None:
        self._queue.put(_POKE)

    # -- worker -------------------------------------------------------------------------------
    def _run(self) -> None:
        next_tick = self._clock.monotonic()
        while True:
            timeout = max(0.0, next_tick - self._clock.monotonic())
            try:
                item = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
            except queue.Empty:
                item = _POKE  # time to tick
            if item is None:
                break
            batch = [item]
            stop = False
            while len(batch) < self._batch_max:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            for topic, payload in batch:
                if topic != "poke":
                    self._guard(self.monitor.handle, topic, payload)
            if self._clock.monotonic() >= next_tick:
                self._guard(self.monitor.tick)
                next_tick = self._clock.monotonic() + self._tick_s
            self._guard(self.monitor.flush)
            if stop:
                break

    def _guard(self, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - the monitor must outlive one bad message or store error
            self.errors += 1
            log.exception("edge monitor step failed")
