"""The edge publishes the catalogue replica to the kiosks on the store bus.

Everything is retained at QoS 1, so a kiosk that connects at any time finds what it needs
(topics from :mod:`broker.contract`)::

    catalogue/snapshot/<V>/<n>   the chunks of a full snapshot at version V
    catalogue/manifest           CatalogueManifest: V, chunk count, digest, count, created_at
    catalogue/delta              ONE cumulative delta V -> now (applies to any replica >= V)
    catalogue/promotions         CataloguePromotions (when a promotions source is given)

A kiosk at or after V needs the manifest and the delta only (two small messages); a new or
far-behind kiosk also fetches the chunks of V. Publishing order makes this safe: the chunks of
a new snapshot go out before its manifest, the manifest before the delta that starts at it,
and the chunks of the replaced snapshot are cleared (empty retained message) last. Mosquitto
keeps one publisher's order, so a kiosk never sees a manifest whose chunks are not there.

:class:`CataloguePublisher` polls the store's version (a one-row read) every ``poll_s``
seconds, or at once when :meth:`CataloguePublisher.poke` is called, and publishes a new
cumulative delta; when the delta grows past ``resnapshot_rows`` products or
``max_message_bytes`` it publishes a new snapshot instead. On start it reads the retained
manifest and re-uses the snapshot it names when the change log still reaches it.

The bus is a port (:class:`CatalogueBus`): :class:`MqttCatalogueBus` is the real adapter
(paho-mqtt), :class:`SimulatedCatalogueBus` an in-memory retained-topic broker.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

import paho.mqtt.client as mqtt

from broker.paho_client import build_client, connect_in_background, disconnect_and_stop
from broker.contract import (
    CatalogueManifest,
    CataloguePromotions,
    ContractError,
    catalogue_delta_topic,
    catalogue_manifest_topic,
    catalogue_promotions_topic,
    catalogue_snapshot_topic,
    catalogue_topic,
    decode,
    encode,
)
from broker.endpoint import MqttEndpoint
from edge.catalogue import replica_format as fmt
from edge.catalogue.distribution import CatalogueDistributor
from edge.catalogue.errors import CatalogueStoreError, StaleVersionError
from edge.catalogue.store import CatalogueStore
from retail.clock import Clock

__all__ = [
    "CatalogueBus",
    "CatalogueBusError",
    "CataloguePublisher",
    "MqttCatalogueBus",
    "PromotionsSource",
    "PublisherStatus",
    "SimulatedCatalogueBus",
]

log = logging.getLogger(__name__)

#: below the broker's default ``message_size_limit`` (256 KiB) with room for the packet header
DEFAULT_MAX_MESSAGE_BYTES = 200 * 1024


class CatalogueBusError(CatalogueStoreError, ConnectionError):
    """The catalogue could not be published (broker away, refused or too slow)."""


# ---------------------------------------------------------------------------------------------
# the bus port and its adapters


@runtime_checkable
class CatalogueBus(Protocol):
    """Publishes retained messages and reads one back."""

    def publish(self, messages: Sequence[tuple[str, bytes]], *, retain: bool = True) -> None:
        """Publish every ``(topic, payload)`` at QoS 1, in order; return once the broker has
        accepted all of them, else raise :class:`CatalogueBusError`."""
        ...

    def read_retained(self, topic: str) -> bytes | None:
        """The retained payload on ``topic`` (None if there is none)."""
        ...

    @property
    def connected(self) -> bool: ...

    def close(self) -> None: ...


def _matches(filter_: str, topic: str) -> bool:
    f, t = filter_.split("/"), topic.split("/")
    for i, part in enumerate(f):
        if part == "#":
            return True
        if i >= len(t) or (part != "+" and part != t[i]):
            return False
    return len(f) == len(t)


class SimulatedCatalogueBus:
    """Simulator of :class:`CatalogueBus`: an in-memory broker with retained messages.

    ``subscribe(filter, callback)`` delivers the retained messages that match, then every new
    publish (as Mosquitto does, an empty retained publish clears the topic and is delivered).
    ``go_offline()`` / ``go_online()`` make publishing fail or work. ``published`` records
    every ``(topic, payload, retain)`` in order. Thread-safe."""

    def __init__(self) -> None:
        self.retained: dict[str, bytes] = {}
        self.published: list[tuple[str, bytes, bool]] = []
        self._subs: list[tuple[str, Callable[[str, bytes], None]]] = []
        self._online = True
        self._closed = False
        self._lock = threading.RLock()

    def go_offline(self) -> None:
        self._online = False

    def go_online(self) -> None:
        self._online = True

    @property
    def connected(self) -> bool:
        return self._online and not self._closed

    def subscribe(self, filter_: str, callback: Callable[[str, bytes], None]) -> None:
        with self._lock:
            self._subs.append((filter_, callback))
            found = [(t, p) for t, p in self.retained.items() if _matches(filter_, t)]
        for topic, payload in found:
            callback(topic, payload)

    def unsubscribe(self, filter_: str) -> None:
        with self._lock:
            self._subs = [(f, c) for f, c in self._subs if f != filter_]

    def publish(self, messages: Sequence[tuple[str, bytes]], *, retain: bool = True) -> None:
        if not self.connected:
            raise CatalogueBusError("the simulated bus is offline")
        for topic, payload in messages:
            with self._lock:
                self.published.append((topic, bytes(payload), retain))
                if retain:
                    if payload:
                        self.retained[topic] = bytes(payload)
                    else:
                        self.retained.pop(topic, None)
                subs = [c for f, c in self._subs if _matches(f, topic)]
            for callback in subs:
                callback(topic, bytes(payload))

    def read_retained(self, topic: str) -> bytes | None:
        if not self.connected:
            raise CatalogueBusError("the simulated bus is offline")
        with self._lock:
            return self.retained.get(topic)

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> SimulatedCatalogueBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MqttCatalogueBus:
    """:class:`CatalogueBus` on the store's Mosquitto (paho-mqtt, MQTT 5, QoS 1).

    Connects in the background (the broker may be down); :meth:`publish` waits up to
    ``timeout_s`` for the connection and for the broker's PUBACK of every message and raises
    :class:`CatalogueBusError` when it does not come or a message is refused. A context
    manager; ``close()`` is idempotent."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        *,
        store_id: str,
        client_id: str | None = None,
        timeout_s: float = 10.0,
        keepalive_s: int = 15,
        reconnect_max_s: float = 2.0,
    ) -> None:
        self._endpoint = endpoint
        self._store = store_id
        self._timeout = timeout_s
        self._connected = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self._refused: dict[int, str] = {}
        self._received: dict[str, bytes] = {}
        self._arrived = threading.Condition()
        client = build_client(endpoint, client_id or f"edge-{store_id}-catalogue", reconnect_max_s=reconnect_max_s,
                              max_inflight=50)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        self._client = client
        connect_in_background(client, endpoint, keepalive_s=keepalive_s)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.error("catalogue publisher: broker refused the connection: %s", reason)
            return
        self._connected.set()
        log.info("catalogue publisher connected to %r", self._endpoint)

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        if self._connected.is_set() and not self._closed:
            log.warning("catalogue publisher disconnected: %s", reason)
        self._connected.clear()

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: Any, props: Any) -> None:
        if reason is not None and getattr(reason, "is_failure", False):
            with self._lock:
                self._refused[mid] = str(reason)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._arrived:
            self._received[msg.topic] = bytes(msg.payload)
            self._arrived.notify_all()

    def _require_connection(self) -> None:
        if self._closed:
            raise CatalogueBusError("the catalogue bus is closed")
        if not self._connected.wait(self._timeout):
            raise CatalogueBusError(f"not connected to the broker at {self._endpoint!r}")

    def publish(self, messages: Sequence[tuple[str, bytes]], *, retain: bool = True) -> None:
        self._require_connection()
        infos = []
        for topic, payload in messages:
            info = self._client.publish(topic, payload, qos=1, retain=retain)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS,):
                raise CatalogueBusError(f"publish on {topic} failed: {mqtt.error_string(info.rc)}")
            infos.append((topic, info))
        for topic, info in infos:
            try:
                info.wait_for_publish(self._timeout)
            except (RuntimeError, ValueError) as exc:
                raise CatalogueBusError(f"publish on {topic} failed: {exc}") from exc
            if not info.is_published():
                raise CatalogueBusError(f"no PUBACK for {topic} within {self._timeout} s")
            with self._lock:
                refused = self._refused.pop(info.mid, None)
            if refused is not None:
                raise CatalogueBusError(f"the broker refused {topic}: {refused}")

    def read_retained(self, topic: str) -> bytes | None:
        """Subscribe to ``topic`` and to a fresh marker topic, publish the marker: Mosquitto
        sends the retained message (if any) before the marker comes back."""
        self._require_connection()
        marker = catalogue_topic(self._store, "probe", secrets.token_hex(8))
        with self._arrived:
            self._received.pop(topic, None)
        result, _ = self._client.subscribe([(topic, 1), (marker, 1)])
        if result != mqtt.MQTT_ERR_SUCCESS:
            raise CatalogueBusError(f"subscribe failed: {mqtt.error_string(result)}")
        try:
            self.publish([(marker, b"probe")], retain=False)
            with self._arrived:
                if not self._arrived.wait_for(lambda: marker in self._received, self._timeout):
                    raise CatalogueBusError(f"no answer from the broker within {self._timeout} s")
                self._received.pop(marker, None)
                return self._received.pop(topic, None) or None
        finally:
            self._client.unsubscribe([topic, marker])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        disconnect_and_stop(self._client, "catalogue bus")

    def __enter__(self) -> MqttCatalogueBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# the publisher


@runtime_checkable
class PromotionsSource(Protocol):
    """What the publisher reads promotions from (``edge.promotions.store.PromotionStore``):
    a cheap ``version()`` and a ``snapshot()`` ``{"version", "promotions", "coupons"}``."""

    def version(self) -> int: ...

    def snapshot(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class PublisherStatus:
    """What the publisher has put on the bus (for the console and tests)."""

    connected: bool
    snapshot_version: int | None
    published_version: int | None
    promotions_version: int | None
    snapshots: int
    deltas: int
    last_error: str | None


class CataloguePublisher:
    """Keeps the retained catalogue replica on the bus equal to the store (see the module
    docstring). ``start()`` runs it on a thread; :meth:`sync` does one step (tests call it
    directly). A context manager; ``close()`` is idempotent and does not close the bus."""

    def __init__(
        self,
        store: CatalogueStore,
        bus: CatalogueBus,
        *,
        store_id: str,
        clock: Clock,
        promotions: PromotionsSource | None = None,
        poll_s: float = 0.05,
        retry_s: float = 1.0,
        resnapshot_rows: int = 5000,
        chunk_rows: int = fmt.DEFAULT_CHUNK_ROWS,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        if poll_s <= 0 or retry_s <= 0 or resnapshot_rows < 1 or chunk_rows < 1 or max_message_bytes < 1024:
            raise ValueError("poll_s, retry_s, resnapshot_rows, chunk_rows and max_message_bytes must be positive")
        self._store = store
        self._bus = bus
        self._store_id = store_id
        self._clock = clock
        self._promotions = promotions
        self._poll_s = poll_s
        self._retry_s = retry_s
        self._resnapshot_rows = resnapshot_rows
        self._chunk_rows = chunk_rows
        self._max_bytes = max_message_bytes
        self._dist = CatalogueDistributor(store, chunk_rows=chunk_rows)
        self._topics = {
            "manifest": catalogue_manifest_topic(store_id),
            "delta": catalogue_delta_topic(store_id),
            "promotions": catalogue_promotions_topic(store_id),
        }
        self._lock = threading.Lock()  # one sync at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._initialised = False
        self._snapshot: tuple[int, int] | None = None  # (version, chunks) named by the manifest
        self._base_ok = False  # the snapshot above is this catalogue's and deltas may start at it
        self._published: int | None = None  # version the retained delta brings a kiosk to
        self._promotions_published: int | None = None
        self.snapshots = 0
        self.deltas = 0
        self.last_error: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> CataloguePublisher:
        """Publish in the background from now on (never blocks on the broker)."""
        if self._closed:
            raise CatalogueBusError("the catalogue publisher is closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"catalogue-publisher-{self._store_id}",
                                            daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> CataloguePublisher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def poke(self) -> None:
        """Look at the store now (call after a change to skip the rest of the poll interval)."""
        self._wake.set()

    def status(self) -> PublisherStatus:
        return PublisherStatus(
            connected=self._bus.connected,
            snapshot_version=self._snapshot[0] if self._snapshot else None,
            published_version=self._published,
            promotions_version=self._promotions_published,
            snapshots=self.snapshots,
            deltas=self.deltas,
            last_error=self.last_error,
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
                self.last_error = None
                wait = self._poll_s
            except Exception as exc:  # noqa: BLE001 - keep publishing once the broker is back
                if self.last_error != str(exc):
                    log.warning("catalogue publisher: %s (retrying every %.1f s)", exc, self._retry_s)
                self.last_error = str(exc)
                wait = self._retry_s
            self._wake.wait(wait)
            self._wake.clear()

    # -- one step -------------------------------------------------------------------------------
    def sync(self) -> bool:
        """Bring the retained replica up to the store; True if anything was published."""
        with self._lock:
            if not self._initialised:
                self._adopt_retained()
                self._initialised = True
            did = False
            current = self._store.version()
            # an empty catalogue (version 0) has nothing to send: kiosks keep what they have
            if current > 0 and (self._published is None or current != self._published):
                did = self._publish_catalogue()
            if self._promotions is not None and self._promotions.version() != self._promotions_published:
                self._publish_promotions()
                did = True
            return did

    def _adopt_retained(self) -> None:
        """Re-use the snapshot the retained manifest names if the change log still reaches it."""
        raw = self._bus.read_retained(self._topics["manifest"])
        if not raw:
            return
        try:
            manifest: CatalogueManifest = decode("catalogue_manifest", raw)
        except ContractError as exc:
            log.warning("catalogue publisher: retained manifest unreadable (%s); publishing a snapshot", exc)
            return
        current = self._store.version()
        if manifest.store_id != self._store_id or manifest.version > current:
            log.warning("retained manifest v%d does not belong to this catalogue (v%d); re-snapshotting",
                        manifest.version, current)
            self._snapshot = (manifest.version, manifest.chunks)  # its chunks are cleared after the new one
            return
        if manifest.version < self._store.oldest_delta_base():
            self._snapshot = (manifest.version, manifest.chunks)
            return
        self._snapshot = (manifest.version, manifest.chunks)
        self._base_ok = True
        log.info("catalogue publisher: retained snapshot v%d (%d chunks) re-used", manifest.version, manifest.chunks)

    def _publish_catalogue(self) -> bool:
        if self._snapshot is None or not self._base_ok:
            return self._publish_snapshot()
        base = self._snapshot[0]
        try:
            changes = self._store.changes_since(base)
            touched = {(entity, key) for _, entity, key, _ in changes}
            if len(touched) > self._resnapshot_rows:
                return self._publish_snapshot()
            blob = self._dist.delta(base)
        except StaleVersionError:
            return self._publish_snapshot()
        if len(blob) > self._max_bytes:
            return self._publish_snapshot()
        version = int(fmt.decode(blob)["version"])
        self._bus.publish([(self._topics["delta"], blob)])
        self._published = version
        self.deltas += 1
        log.debug("catalogue delta v%d -> v%d published (%d bytes, %d changes)", base, version, len(blob), len(touched))
        return True

    def _snapshot_chunks(self) -> list[bytes]:
        rows = self._chunk_rows
        dist = self._dist
        while True:
            chunks = dist.snapshot()
            if max(len(c) for c in chunks) <= self._max_bytes or rows == 1:
                return chunks
            rows = max(1, rows // 2)
            log.info("catalogue chunk over %d bytes; re-chunking at %d rows", self._max_bytes, rows)
            dist = CatalogueDistributor(self._store, chunk_rows=rows)

    def _publish_snapshot(self) -> bool:
        chunks = self._snapshot_chunks()
        head = fmt.decode(chunks[0])
        version, count, digest = int(head["version"]), int(head["count"]), int(head["digest"])
        if max(len(c) for c in chunks) > self._max_bytes:
            raise CatalogueBusError(f"a snapshot chunk is over {self._max_bytes} bytes even with one row")
        manifest = CatalogueManifest(store_id=self._store_id, version=version, chunks=len(chunks), count=count,
                                     digest=format(digest, "032x"), created_at=self._clock.now())
        empty_delta = fmt.encode_delta(version, version, digest=digest, count=count)
        messages = [(catalogue_snapshot_topic(self._store_id, version, n), c) for n, c in enumerate(chunks)]
        messages += [(self._topics["manifest"], encode(manifest)), (self._topics["delta"], empty_delta)]
        old = self._snapshot
        if old is not None and old[0] != version:
            messages += [(catalogue_snapshot_topic(self._store_id, old[0], n), b"") for n in range(old[1])]
        elif old is not None and old[1] > len(chunks):  # same version re-published with fewer chunks
            messages += [(catalogue_snapshot_topic(self._store_id, version, n), b"") for n in range(len(chunks), old[1])]
        self._bus.publish(messages)
        self._snapshot = (version, len(chunks))
        self._base_ok = True
        self._published = version
        self.snapshots += 1
        log.info("catalogue snapshot v%d published: %d products in %d chunks (%d bytes)", version, count,
                 len(chunks), sum(len(c) for c in chunks))
        return True

    def _publish_promotions(self) -> None:
        source = self._promotions
        if source is None:  # pragma: no cover - sync() checks
            return
        snap = source.snapshot()
        message = CataloguePromotions(store_id=self._store_id, version=int(snap["version"]),
                                      promotions=list(snap.get("promotions", [])),
                                      coupons=list(snap.get("coupons", [])), at=self._clock.now())
        self._bus.publish([(self._topics["promotions"], encode(message))])
        self._promotions_published = message.version
        log.info("promotions v%d published: %d promotions", message.version, len(message.promotions))
