"""The kiosk as a running service: the runtime composition root behind ``tillpi kiosk run``.

:class:`KioskService` builds one lane from :class:`~kiosk.settings.KioskSettings` and the
device profile, and connects it to the store bus:

* the devices (:func:`kiosk.composition.build_devices`: real adapters or simulators);
* the catalogue replica: loaded from disk at once (:class:`~kiosk.catalogue_sync.SqliteReplicaStore`,
  so the lane sells offline from its first second), then kept live from the edge
  (:class:`~kiosk.catalogue_sync.MqttCatalogueSync`). A new replica or new promotions go into
  the engine while it shows the welcome screen, else on its next return there;
* the checkout engine, the view-models and the payment providers (**simulated** card terminal
  and QR gateway unless real ones are passed in: real providers plug into the same ports);
* the sale journal (:class:`~kiosk.outbox.SaleOutbox`) behind :class:`~kiosk.sale_record.OutboxSaleSink`,
  published by :class:`~kiosk.bus.mqtt.MqttKioskBus` (sales, state, health every
  ``health_interval_s`` with the outbox backlog);
* :class:`~kiosk.app_wiring.KioskRuntime`, which joins devices, engine, screens and sink;
* a control link (:class:`MqttKioskControl`): the edge's retained ``EdgeState`` becomes the
  engine's ``EdgeStatus`` (the staff-only offline indicator) and the edge's staff commands
  act on the lane — ``approve`` becomes an ``ApproveRemote`` event on the UI thread,
  ``set_light`` sets the status light (blended with the lane's own wish: the more urgent one
  shows). ``resync`` is the sale bus's. Repeated and expired commands are ignored.

Help requests and attendant interventions go to the edge as ``DeviceEvent`` (device
``assist``) whose ``detail`` is the compact JSON the edge's assistance board reads (request id,
reason, role, note, basket lines, total, a few items; see :func:`help_event_detail`).

:meth:`KioskService.run` either opens the Kivy window (optionally fullscreen) or runs
**headless**: no Kivy import at all; a plain loop thread plays the UI thread's role. SIGTERM
or SIGINT stop it cleanly: the event in hand finishes, then the runtime, bus and devices
close; sales the edge has not acknowledged stay in the journal and go out on the next start.

**Contract shim.** ``broker.contract.Command`` does not know ``approve`` and ``set_light`` yet;
:class:`StaffCommand` here accepts the wire shape the edge already sends
(``edge.monitor.commands.StaffCommand``, copied: the kiosk imports no edge code).

Nothing runs at import.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import signal
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from broker.paho_client import disconnect_and_stop
from broker.contract import (
    Command,
    ContractError,
    DeviceEvent,
    DeviceReport,
    EdgeState,
    Health,
    decode,
    edge_state_topic,
    help_event_detail,
    kiosk_topic,
)
from broker.endpoint import MqttEndpoint
from kiosk.app_wiring import KioskRuntime, LaneDevices, demo_members, demo_staff
from broker.paho_client import build_client, connect_in_background
from kiosk.bus.mqtt import MqttKioskBus
from kiosk.catalogue_replica import CatalogueReplica
from kiosk.catalogue_sync import CatalogueSync, MqttCatalogueSync, PromotionsBundle, SqliteReplicaStore
from kiosk.checkout import (
    AttendantReason,
    CheckoutEngine,
    CheckoutError,
    CheckoutSettings,
    CheckoutState,
    MemberDirectory,
    Role,
    StaffDirectory,
    StaffMember,
    WeightLearner,
)
from kiosk.checkout import model as m
from kiosk.composition import KioskDevices, build_devices
from kiosk.devices.health import DeviceHealth, DeviceStatus
from kiosk.devices.light import LightState, StatusLight
from kiosk.errors import KioskError
from kiosk.health import HealthSources
from kiosk.health.collector import HealthSnapshot
from kiosk.health.readings import ClockSync
from kiosk.outbox import SaleOutbox
from kiosk.payments import (
    PaymentGateway,
    PaymentTerminal,
    SimulatedPaymentGateway,
    SimulatedPaymentTerminal,
)
from kiosk.profile import DeviceProfile
from kiosk.receipt import ShopHeader
from kiosk.sale_record import OutboxSaleSink
from kiosk.settings import KioskSettings, KioskSettingsError
from kiosk.viewmodels.kiosk import KioskViewModel
from retail.clock import Clock, SystemClock
from retail.errors import RetailError
from retail.loyalty import LoyaltyProgram
from retail.promotions import PromotionSet, promotion_from_dict

__all__ = [
    "BlendedStatusLight",
    "EdgeVouchedStaffDirectory",
    "HandOffScheduler",
    "KioskService",
    "KioskServiceError",
    "LoopScheduler",
    "MqttKioskControl",
    "StaffCommand",
    "compile_promotions",
    "decode_staff_command",
    "health_message",
    "help_event_detail",
]

log = logging.getLogger(__name__)

SOFTWARE_VERSION = "0.1"
ASSIST_DEVICE = "assist"


class KioskServiceError(KioskError, RuntimeError):
    """The kiosk service could not start, or was used after ``close()``."""


# ============================================================================================
# Staff commands (contract shim; see the module docstring)
# ============================================================================================

StaffCommand = Command  # the contract's command: resync, approve, set_light, ...


def decode_staff_command(payload: bytes) -> StaffCommand:
    """Parse a command; :class:`~broker.contract.ContractError` on anything invalid."""
    return decode("cmd", payload)


# ============================================================================================
# Help events
# ============================================================================================


_OPEN_KIND = {AttendantReason.HELP: "help_requested", AttendantReason.AGE_RESTRICTED: "age_check_requested"}


# ============================================================================================
# Small parts: light, staff trust, schedulers, promotions, health
# ============================================================================================

_LIGHT_RANK = {LightState.IDLE: 0, LightState.OFFLINE: 1, LightState.ASSISTANCE: 2, LightState.ALARM: 3}


class BlendedStatusLight:
    """A :class:`~kiosk.devices.light.StatusLight` shared by the lane and the edge.

    ``show(state)`` is the lane's wish (the engine's ``SetLight``), :meth:`edge_says` the
    edge's (a ``set_light`` command); the wrapped light shows the more urgent of the two
    (idle < offline < assistance < alarm). Everything else goes to the wrapped light."""

    def __init__(self, inner: StatusLight) -> None:
        self.inner = inner
        self.name = inner.name
        self._lock = threading.Lock()
        self._lane = LightState.IDLE
        self._edge = LightState.IDLE

    @property
    def state(self) -> LightState:
        return self.inner.state

    @property
    def lane_wish(self) -> LightState:
        return self._lane

    @property
    def edge_wish(self) -> LightState:
        return self._edge

    def show(self, state: LightState) -> None:
        with self._lock:
            self._lane = LightState(state)
            self._apply()

    def edge_says(self, state: LightState | str) -> None:
        with self._lock:
            self._edge = LightState(state)
            self._apply()

    def _apply(self) -> None:
        want = max(self._lane, self._edge, key=_LIGHT_RANK.__getitem__)
        if self.inner.state is not want:
            self.inner.show(want)

    def flash_scan(self) -> None:
        self.inner.flash_scan()

    def beep(self, duration_s: float = 0.1, count: int = 1, gap_s: float = 0.1) -> None:
        self.inner.beep(duration_s, count, gap_s)

    def health(self) -> DeviceHealth:
        return self.inner.health()

    def self_test(self) -> DeviceHealth:
        return self.inner.self_test()

    def close(self) -> None:
        self.inner.close()


class EdgeVouchedStaffDirectory:
    """The kiosk's staff directory plus the staff the edge vouches for.

    A remote approval arrives from the edge, which signed the staff member in and checked
    their permission before sending it; :meth:`vouch` records that person with the role the
    request needs, so :meth:`get` knows them. PINs and badges are checked by the wrapped
    directory only."""

    def __init__(self, local: StaffDirectory) -> None:
        self.local = local
        self._lock = threading.Lock()
        self._vouched: dict[str, StaffMember] = {}

    def vouch(self, staff_id: str, role: Role) -> None:
        with self._lock:
            self._vouched[staff_id] = StaffMember(staff_id, f"{staff_id} (edge)", Role(role))
            while len(self._vouched) > 256:
                self._vouched.pop(next(iter(self._vouched)))

    def verify_pin(self, pin: str) -> StaffMember | None:
        return self.local.verify_pin(pin)

    def verify_badge(self, staff_id: str, token: str) -> StaffMember | None:
        return self.local.verify_badge(staff_id, token)

    def get(self, staff_id: str) -> StaffMember | None:
        with self._lock:
            vouched = self._vouched.get(staff_id)
        known = self.local.get(staff_id)
        if known is not None and (vouched is None or known.role >= vouched.role):
            return known
        return vouched


class LoopScheduler:
    """The headless kiosk's UI thread: runs posted work in order on one thread, and the
    runtime's ``poll`` and ``tick`` every ``poll_s`` / ``tick_s``. No Kivy involved.

    ``call_soon(fn)`` from any thread; :meth:`start` runs the loop on its own thread,
    :meth:`stop` lets the work in hand finish, then ends the loop (idempotent)."""

    def __init__(self, *, clock: Clock | None = None, poll_s: float = 0.1, tick_s: float = 0.5) -> None:
        self._clock = clock or SystemClock()
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self.poll_s = poll_s
        self.tick_s = tick_s
        self._periodic: list[tuple[float, Callable[[], None]]] = []
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.ident: int | None = None
        self.errors = 0

    def call_soon(self, fn: Callable[[], None]) -> None:
        self._queue.put(fn)

    def every(self, seconds: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop every ``seconds`` (set up before :meth:`start`)."""
        self._periodic.append((seconds, fn))

    @property
    def on_loop_thread(self) -> bool:
        return threading.get_ident() == self.ident

    def _run_one(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - one failing job must not stop the lane
            self.errors += 1
            log.exception("UI work failed")

    def _loop(self) -> None:
        self.ident = threading.get_ident()
        due = [self._clock.monotonic() + period for period, _ in self._periodic]
        while True:
            now = self._clock.monotonic()
            for i, (period, fn) in enumerate(self._periodic):
                if now >= due[i]:
                    self._run_one(fn)
                    due[i] = max(due[i] + period, now)
            wait = min((d - self._clock.monotonic() for d in due), default=0.5)
            try:
                item = self._queue.get(timeout=max(0.001, min(wait, 0.5)))
            except queue.Empty:
                continue
            if item is None:
                return
            self._run_one(item)
            while True:  # drain what is queued before looking at the timers again
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    return
                self._run_one(item)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="kiosk-ui-loop", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._queue.put(None)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)


class HandOffScheduler:
    """A scheduler whose target is chosen later (the Kivy window's, or the headless loop's):
    work posted before :meth:`attach` waits and is handed over in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._target: Any = None
        self._held: list[Callable[[], None]] = []

    def attach(self, target: Any) -> None:
        with self._lock:
            self._target = target
            held, self._held = self._held, []
        for fn in held:
            target.call_soon(fn)

    def call_soon(self, fn: Callable[[], None]) -> None:
        with self._lock:
            target = self._target
            if target is None:
                self._held.append(fn)
                return
        target.call_soon(fn)


def compile_promotions(bundle: PromotionsBundle | None, replica: CatalogueReplica) -> PromotionSet | None:
    """The bundle's promotions compiled against ``replica``; a promotion that does not parse
    or refers to what the replica lacks is left out (and logged), never the whole set."""
    if bundle is None or not bundle.promotions:
        return None
    parsed = []
    for data in bundle.promotions:
        try:
            parsed.append(promotion_from_dict(data))
        except (RetailError, ValueError, KeyError, TypeError) as exc:
            log.warning("promotion %s left out: %s", data.get("promotion_id", "?"), exc)
    kept = list(parsed)
    while kept:
        try:
            return PromotionSet.compile(kept, replica.items, currency=replica.currency)
        except RetailError as exc:
            bad = next((p for p in kept if p.promotion_id in str(exc)), kept[-1])
            log.warning("promotion %s left out: %s", bad.promotion_id, exc)
            kept.remove(bad)
    return None


def health_message(
    snapshot: HealthSnapshot,
    *,
    kiosk_id: str,
    interval_s: float,
    outbox_pending: int,
    oldest_pending_age_s: int | None,
    extra_devices: Sequence[DeviceHealth] = (),
) -> Health:
    """The bus contract's ``Health`` of one snapshot (plus devices the collector does not
    hold: the catalogue and the payment providers)."""
    reports = [
        DeviceReport(device=d.device[:64], status=d.status.value, code=d.code[:64], detail=d.detail[:500],  # type: ignore[arg-type]
                     since=d.since)
        for d in (*snapshot.devices, *extra_devices)
    ]
    memory = snapshot.memory
    return Health(
        kiosk_id=kiosk_id,
        at=snapshot.taken_at,
        interval_s=max(1, min(86_400, round(interval_s))),
        cpu_temp_c=snapshot.cpu_temp_c,
        throttled=None if snapshot.throttling is None else bool(snapshot.throttling.now()),
        load_1m=None if snapshot.load_avg is None else float(snapshot.load_avg[0]),
        mem_used_pct=None if memory is None else round(memory.used_fraction * 100, 1),
        disk_free_mb=None if snapshot.disk is None else snapshot.disk.free_bytes // (1024 * 1024),
        uptime_s=None if snapshot.uptime_s is None else int(snapshot.uptime_s),
        clock_synced=snapshot.clock_sync is not ClockSync.UNSYNCED,
        devices=reports[:64],
        outbox_pending=max(0, outbox_pending),
        oldest_pending_age_s=oldest_pending_age_s,
    )


# ============================================================================================
# The control link: edge state and staff commands
# ============================================================================================


class MqttKioskControl:
    """The kiosk's control connection (client id ``<kiosk>-control``, the kiosk's login): it
    follows the edge's retained ``EdgeState`` and receives staff commands on the kiosk's
    ``cmd`` topic. Callbacks run on paho's network thread and must only hand work over:
    ``on_edge(online)`` (False also while this link is down) and ``on_command(cmd)``.
    A context manager; ``close()`` is idempotent."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        *,
        store_id: str,
        kiosk_id: str,
        on_edge: Callable[[bool], None],
        on_command: Callable[[StaffCommand], None],
        keepalive_s: int = 15,
        reconnect_max_s: float = 2.0,
    ) -> None:
        self._endpoint = endpoint
        self._kiosk = kiosk_id
        self._cmd_topic = kiosk_topic(store_id, kiosk_id, "cmd")
        self._edge_topic = edge_state_topic(store_id)
        self._on_edge = on_edge
        self._on_command = on_command
        self._keepalive_s = keepalive_s
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._edge_online = False
        self._reported: bool | None = None
        self._started = False
        self._closed = False
        self.invalid = 0
        self._client = build_client(endpoint, f"{kiosk_id}-control", reconnect_max_s=reconnect_max_s)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def start(self) -> MqttKioskControl:
        if self._closed:
            raise KioskServiceError("the control link is closed")
        if not self._started:
            self._started = True
            connect_in_background(self._client, self._endpoint, keepalive_s=self._keepalive_s)
        return self

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        disconnect_and_stop(self._client, "control link")

    def __enter__(self) -> MqttKioskControl:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    @property
    def edge_online(self) -> bool:
        return self._connected.is_set() and self._edge_online

    def _report(self) -> None:
        online = self.edge_online
        with self._lock:
            if online == self._reported:
                return
            self._reported = online
        log.info("kiosk %s: edge %s", self._kiosk, "online" if online else "out of reach")
        self._on_edge(online)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            log.error("kiosk %s: broker refused the control connection: %s", self._kiosk, reason)
            return
        client.subscribe([(self._cmd_topic, 1), (self._edge_topic, 1)])
        self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: Any, reason: Any, props: Any) -> None:
        self._connected.clear()
        self._report()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        payload = bytes(msg.payload)
        try:
            if msg.topic == self._edge_topic:
                if not payload:
                    self._edge_online = False
                else:
                    state: EdgeState = decode("edge_state", payload)
                    self._edge_online = state.status == "online"
                self._report()
            elif msg.topic == self._cmd_topic:
                self._on_command(decode_staff_command(payload))
        except ContractError as exc:
            self.invalid += 1
            log.warning("kiosk %s: ignored invalid message on %s: %s", self._kiosk, msg.topic, exc)
        except Exception:  # noqa: BLE001 - paho's thread must survive a handler's bug
            log.exception("kiosk %s: handling a message on %s failed", self._kiosk, msg.topic)


# ============================================================================================
# The service
# ============================================================================================


def _suspend_secret(data_dir: Path) -> bytes:
    """The key for suspended-basket tokens, kept in ``<data>/suspend.key`` (made on first use)."""
    path = data_dir / "suspend.key"
    try:
        secret = path.read_bytes()
        if len(secret) >= 16:
            return secret
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, secret)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return secret


class KioskService:
    """One running kiosk (see the module docstring). A context manager: ``start()`` on
    enter, ``close()`` (idempotent) on exit; :meth:`run` blocks until SIGTERM/SIGINT or
    :meth:`request_stop`.

    ``settings`` are completed from ``profile`` (opened from ``settings.profile_path`` when
    not given). ``devices`` replaces the composition root's (tests); ``clock`` is the time of
    every part; ``headless`` runs without Kivy. ``members`` and ``staff`` default to the
    **simulated** demo directories (PINs 1111 attendant, 2222 supervisor); ``terminal`` and
    ``gateway`` to the **simulated** payment providers.
    """

    def __init__(
        self,
        settings: KioskSettings,
        *,
        profile: DeviceProfile | None = None,
        devices: KioskDevices | None = None,
        clock: Clock | None = None,
        headless: bool = False,
        fullscreen: bool = False,
        endpoint: MqttEndpoint | None = None,
        pin_factory: Any = None,
        health_sources: HealthSources | None = None,
        members: MemberDirectory | None = None,
        staff: StaffDirectory | None = None,
        terminal: PaymentTerminal | None = None,
        gateway: PaymentGateway | None = None,
        shop: ShopHeader | None = None,
        suspend_secret: bytes | None = None,
        checkout_settings: CheckoutSettings | None = None,
        poll_s: float = 0.1,
        tick_s: float = 0.5,
        keepalive_s: int = 15,
        software_version: str = SOFTWARE_VERSION,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.headless = headless
        self.fullscreen = fullscreen
        self._poll_s = poll_s
        self._tick_s = tick_s
        self._closers: list[Callable[[], None]] = []
        self._stop = threading.Event()
        self._started = False
        self._closed = False
        self._pending_catalogue: tuple[CatalogueReplica, PromotionSet | None, PromotionsBundle | None] | None = None
        self._assist_reasons: dict[str, AttendantReason] = {}
        self._on_close: list[Callable[[], None]] = []
        self.pending_at_close: int | None = None
        self.commands_applied = 0
        self.commands_ignored = 0
        self.events_published = 0
        self.health_published = 0
        try:
            self._build(settings, profile, devices, endpoint, pin_factory, health_sources, members, staff, terminal,
                        gateway, shop, suspend_secret, checkout_settings, keepalive_s, software_version)
        except BaseException:
            self._close_built()
            raise

    # -- building -------------------------------------------------------------------------------
    def _build(self, settings: KioskSettings, profile: DeviceProfile | None, devices: KioskDevices | None,
               endpoint: MqttEndpoint | None, pin_factory: Any, health_sources: HealthSources | None,
               members: MemberDirectory | None, staff: StaffDirectory | None, terminal: PaymentTerminal | None,
               gateway: PaymentGateway | None, shop: ShopHeader | None, suspend_secret: bytes | None,
               checkout_settings: CheckoutSettings | None, keepalive_s: int, software_version: str) -> None:
        clock = self.clock
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if profile is None and (devices is None or settings.store_id is None or settings.kiosk_id is None):
            profile = DeviceProfile(settings.profile_path)
            self._closers.append(profile.close)
        if profile is not None:
            settings = settings.with_profile(profile)
        if not settings.store_id or not settings.kiosk_id:
            raise KioskSettingsError("the kiosk needs TILLPI_KIOSK_STORE_ID and TILLPI_KIOSK_KIOSK_ID (or a profile)")
        self.settings = settings
        self.store_id: str = settings.store_id
        self.kiosk_id: str = settings.kiosk_id
        self.endpoint = endpoint or settings.broker_endpoint()

        if devices is None:
            if profile is None:  # pragma: no cover - opened above
                raise KioskServiceError("building devices needs the device profile")
            devices = build_devices(settings, profile, pin_factory=pin_factory, clock=clock,
                                    health_sources=health_sources)
        self.devices = devices
        self._closers.append(devices.close)
        self.light = BlendedStatusLight(devices.light)

        # the catalogue: from disk now, from the edge later
        self.replica_store = SqliteReplicaStore(settings.data_dir / "catalogue.sqlite")
        self._closers.append(self.replica_store.close)
        self.catalogue_sync = CatalogueSync(self.replica_store, store_id=self.store_id, kiosk_id=self.kiosk_id,
                                            clock=clock, on_replica=self._replica_arrived)
        replica = self.catalogue_sync.replica() or CatalogueReplica([], version="0")
        bundle = self.catalogue_sync.promotions
        promotions = compile_promotions(bundle, replica)
        self._promotions = promotions
        self._bundle_version = bundle.version if bundle is not None else None
        currency = (checkout_settings.currency if checkout_settings else None) or replica.currency or "CNY"
        self.currency = currency

        # the lane
        self.staff = EdgeVouchedStaffDirectory(staff or demo_staff())
        self.members = members or demo_members()
        loyalty = LoyaltyProgram.simple(currency)
        lane_settings = checkout_settings or CheckoutSettings(
            store_id=self.store_id, lane_id=self.kiosk_id, currency=currency, default_language=settings.language)
        self.engine = CheckoutEngine(
            replica, clock=clock, members=self.members, staff=self.staff,
            suspend_secret=suspend_secret or _suspend_secret(settings.data_dir), promotions=promotions,
            settings=lane_settings, learner=WeightLearner(), loyalty=loyalty,
        )
        self.shop = shop or ShopHeader(f"tillpi {self.store_id}", f"tillpi {self.store_id}")
        self.view_models = KioskViewModel(shop_name=self.shop.name_en, currency=currency, clock=clock,
                                          language=settings.language, catalogue=replica, loyalty=loyalty)
        self.terminal: PaymentTerminal = terminal or SimulatedPaymentTerminal(clock=clock)
        self.gateway: PaymentGateway = gateway or SimulatedPaymentGateway(clock=clock)

        # the journal and the bus
        self.outbox = SaleOutbox(settings.journal_path, store_id=self.store_id, kiosk_id=self.kiosk_id, clock=clock)
        self._closers.append(self.outbox.close)
        self.sale_sink = OutboxSaleSink(self.outbox, kiosk_id=self.kiosk_id)
        self.bus = MqttKioskBus(self.endpoint, self.outbox, clock=clock, software_version=software_version,
                                keepalive_s=keepalive_s)
        self._closers.append(self.bus.close)
        self.catalogue_link = MqttCatalogueSync(self.endpoint, self.catalogue_sync, keepalive_s=keepalive_s)
        self._closers.append(self.catalogue_link.close)
        self.control = MqttKioskControl(self.endpoint, store_id=self.store_id, kiosk_id=self.kiosk_id,
                                        on_edge=self._edge_changed, on_command=self._command_arrived,
                                        keepalive_s=keepalive_s)
        self._closers.append(self.control.close)

        # the runtime, on a UI thread chosen at start
        self.scheduler = HandOffScheduler()
        lane_devices = LaneDevices(scanner=devices.scanner, produce_scale=devices.produce_scale,
                                   bag_scale=devices.bag_scale, drawer=devices.drawer, light=self.light,
                                   printer=devices.printer)
        self.runtime = KioskRuntime(
            self.engine, self.view_models, lane_devices, terminal=self.terminal, gateway=self.gateway,
            sale_sink=self.sale_sink, scheduler=self.scheduler, shop=self.shop, kiosk_id=self.kiosk_id,
            promotion_names=self._promotion_names(promotions), e_receipt_url=lane_settings.e_receipt_url,
            local_tz=lane_settings.local_tz,
        )
        self._closers.append(self.runtime.close)
        self.engine.on_effects(self._effects)
        self.engine.subscribe(self._snapshot_seen)
        self.loop: LoopScheduler | None = None
        log.info("kiosk %s of store %s built (%s), catalogue v%s", self.kiosk_id, self.store_id,
                 "headless" if self.headless else "window", replica.version)

    @staticmethod
    def _promotion_names(promotions: PromotionSet | None) -> dict[str, tuple[str, str]]:
        if promotions is None:
            return {}
        return {p.promotion_id: (p.name_en, p.name_zh) for p in promotions.promotions}

    # -- what others read ----------------------------------------------------------------------
    @property
    def promotions(self) -> PromotionSet | None:
        """The promotions the engine prices with now."""
        return self._promotions

    @property
    def catalogue_version(self) -> str:
        """The version of the catalogue the engine sells from ("0": none yet)."""
        return self.engine.catalogue.version

    @property
    def edge_online(self) -> bool:
        return self.control.edge_online

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> KioskService:
        """Connect to the bus (in the background: the broker may be down), start health
        reporting and, headless, the UI loop with the runtime. In window mode :meth:`run`
        starts the runtime when the window opens."""
        if self._closed:
            raise KioskServiceError("the kiosk service is closed")
        if self._started:
            return self
        self._started = True
        start_light = getattr(self.devices.light, "start", None)
        if callable(start_light):
            start_light()
        self.runtime.set_edge_online(False)  # until the edge says it is there
        self.catalogue_link.start()
        self.bus.start()
        self.control.start()
        self.devices.health_collector.start(self._publish_health)
        if self.headless:
            loop = LoopScheduler(clock=self.clock, poll_s=self._poll_s, tick_s=self._tick_s)
            loop.every(self._poll_s, self.runtime.poll)
            loop.every(self._tick_s, self.runtime.tick)
            self.loop = loop
            self.scheduler.attach(loop)
            self.runtime.start()
            loop.start()
        log.info("kiosk %s running", self.kiosk_id)
        return self

    def on_close(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` first thing in :meth:`close` (a simulated shopper stops there)."""
        self._on_close.append(callback)

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop (any thread; what a signal handler calls)."""
        self._stop.set()

    def run(self, *, install_signals: bool = True) -> int:
        """Start, serve until :meth:`request_stop` (SIGTERM/SIGINT with ``install_signals``
        on the main thread), then close. Returns 0."""
        previous: dict[int, Any] = {}
        if install_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, lambda _s, _f: self.request_stop())
        try:
            if self.headless:
                self.start()
                while not self._stop.wait(0.5):
                    pass
            else:
                self._run_window()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()
        return 0

    def _run_window(self) -> None:
        from kiosk.ui.env import DisplaySettings, prepare_kivy

        display = DisplaySettings(fullscreen=self.fullscreen, show_cursor=not self.fullscreen)
        prepare_kivy(display)
        from kivy.clock import Clock as KivyClock

        from kiosk.ui.app import KioskApp, KivyScheduler

        self.scheduler.attach(KivyScheduler())
        self.start()
        app = KioskApp(self.view_models, runtime=self.runtime, poll_s=self._poll_s, tick_s=self._tick_s,
                       font_cache=display.resolved_font_cache())

        def watch(_dt: float) -> None:
            if self._stop.is_set():
                app.stop()

        KivyClock.schedule_interval(watch, 0.2)
        app.run()

    def close(self) -> None:
        """Stop cleanly: the UI loop finishes the event in hand, then the runtime, the bus
        links and the devices close. The journal keeps every unacknowledged sale."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        for callback in self._on_close:
            try:
                callback()
            except Exception:  # noqa: BLE001 - closing goes on
                log.exception("close callback failed")
        if self.loop is not None:
            self.loop.stop()
        self._close_built_but_journal()
        self.pending_at_close = self._pending_safely()
        self._close_built()
        log.info("kiosk %s stopped (%s sales waiting for the edge)", self.kiosk_id, self.pending_at_close)

    def _pending_safely(self) -> int:
        try:
            return self.outbox.pending_count() if not self.outbox.closed else -1
        except Exception:  # noqa: BLE001 - a log line only
            return -1

    def _close_built_but_journal(self) -> None:
        """Close the runtime and the bus links (the journal stays open a moment longer)."""
        for closer in (getattr(getattr(self, "devices", None), "health_collector", None), getattr(self, "runtime", None), getattr(self, "control", None),
                       getattr(self, "catalogue_link", None), getattr(self, "bus", None)):
            if closer is None:
                continue
            try:
                closer.close()
            except Exception:  # noqa: BLE001 - closing carries on for the others
                log.exception("closing %r failed", closer)

    def _close_built(self) -> None:
        collector = getattr(getattr(self, "devices", None), "health_collector", None)
        if collector is not None:
            collector.close()  # no health snapshot while the rest closes
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:  # noqa: BLE001 - closing carries on for the others
                log.exception("closing %r failed", closer)
        self._closers.clear()

    def __enter__(self) -> KioskService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the catalogue --------------------------------------------------------------------------
    def _replica_arrived(self, replica: CatalogueReplica, bundle: PromotionsBundle | None) -> None:
        """From the sync's thread: compile the promotions here, swap on the UI thread."""
        bundle_version = bundle.version if bundle is not None else None
        if replica.version == self.engine.catalogue.version and bundle_version == self._bundle_version:
            return
        promotions = compile_promotions(bundle, replica)
        self.scheduler.call_soon(lambda: self._offer_catalogue(replica, promotions, bundle))

    def _offer_catalogue(self, replica: CatalogueReplica, promotions: PromotionSet | None,
                         bundle: PromotionsBundle | None) -> None:
        self._pending_catalogue = (replica, promotions, bundle)
        if self.engine.state is CheckoutState.WELCOME:
            self._apply_pending_catalogue()

    def _apply_pending_catalogue(self) -> None:
        pending, self._pending_catalogue = self._pending_catalogue, None
        if pending is None:
            return
        replica, promotions, bundle = pending
        try:
            self.engine.set_catalogue(replica, promotions)
        except CheckoutError as exc:
            log.error("kiosk %s: catalogue v%s not taken: %s", self.kiosk_id, replica.version, exc)
            return
        self._promotions = promotions
        self._bundle_version = bundle.version if bundle is not None else None
        self.view_models.lookup.catalogue = replica
        self.runtime.promotion_names = self._promotion_names(promotions)
        self.view_models.apply(self.engine.snapshot())
        log.info("kiosk %s sells from catalogue v%s (%d products, %d promotions)", self.kiosk_id, replica.version,
                 len(replica.items), len(promotions) if promotions else 0)

    def _snapshot_seen(self, snap: Any) -> None:
        # on the UI thread, after every event: a waiting catalogue goes in between shoppers
        if self._pending_catalogue is not None and snap.state is CheckoutState.WELCOME:
            self.scheduler.call_soon(self._apply_if_welcome)

    def _apply_if_welcome(self) -> None:
        if self.engine.state is CheckoutState.WELCOME:
            self._apply_pending_catalogue()

    # -- the edge -------------------------------------------------------------------------------
    def _edge_changed(self, online: bool) -> None:
        self.runtime.set_edge_online(online)

    def _command_arrived(self, cmd: StaffCommand) -> None:
        """From the control link's thread: check, remember, hand over."""
        if cmd.kiosk_id != self.kiosk_id:
            log.warning("command for %s ignored on %s", cmd.kiosk_id, self.kiosk_id)
            self.commands_ignored += 1
            return
        if cmd.kind not in ("approve", "set_light"):
            return  # the sale bus handles the contract's own kinds
        if cmd.expired(self.clock.now()):
            log.info("expired command %s (%s) ignored", cmd.command_id, cmd.kind)
            self.commands_ignored += 1
            return
        if not self.outbox.command_is_new(cmd.command_id, cmd.kind):
            log.info("repeated command %s (%s) ignored", cmd.command_id, cmd.kind)
            self.commands_ignored += 1
            return
        self.commands_applied += 1
        if cmd.kind == "set_light" and cmd.light is not None:
            log.info("kiosk %s: the edge sets the light to %s", self.kiosk_id, cmd.light)
            light = cmd.light
            self.scheduler.call_soon(lambda: self.light.edge_says(light))
        elif cmd.kind == "approve":
            self.scheduler.call_soon(lambda: self._approve_remote(cmd))

    def _approve_remote(self, cmd: StaffCommand) -> None:
        """On the UI thread: the edge vouches for the staff member, the engine decides."""
        if cmd.request_id is None or cmd.staff_id is None:
            return
        request = self.engine.snapshot().request
        role = request.required_role if request is not None and request.request_id == cmd.request_id else Role.ATTENDANT
        self.staff.vouch(cmd.staff_id, role)
        log.info("kiosk %s: remote %s of %s by %s", self.kiosk_id, "approval" if cmd.approve else "refusal",
                 cmd.request_id, cmd.staff_id)
        self.runtime.handle(m.ApproveRemote(cmd.request_id, cmd.staff_id, bool(cmd.approve), cmd.why))

    # -- effects for the bus ------------------------------------------------------------------
    def _effects(self, effects: tuple[Any, ...]) -> None:
        """Help requests and their end go to the edge as assist events (UI thread)."""
        declined_age = any(isinstance(e, m.ShowMessage) and e.code == "item_removed_age" for e in effects)
        for effect in effects:
            try:
                if isinstance(effect, m.PublishHelpRequest):
                    self._publish_request(effect)
                elif isinstance(effect, m.PublishHelpCleared):
                    self._publish_cleared(effect, declined_age=declined_age)
            except Exception:  # noqa: BLE001 - the lane goes on without the edge
                log.exception("kiosk %s: help event not published", self.kiosk_id)

    def _publish_request(self, effect: m.PublishHelpRequest) -> None:
        snap = self.engine.snapshot()
        kind = _OPEN_KIND.get(effect.reason, "intervention_requested")
        items = [(line.name_en, line.quantity) for line in snap.lines[-4:]]
        detail = help_event_detail(
            effect.request_id, effect.reason.value, role=effect.required_role.label, note=effect.detail,
            lines=len(snap.lines), total_minor=snap.total.minor, currency=snap.total.currency, items=items,
        )
        self._assist_reasons[effect.request_id] = effect.reason
        self._publish_event(kind, detail)

    def _publish_cleared(self, effect: m.PublishHelpCleared, *, declined_age: bool) -> None:
        self._assist_reasons.pop(effect.request_id, None)
        welcome = self.engine.state is CheckoutState.WELCOME
        if effect.reason is AttendantReason.HELP:
            kind = "help_cancelled" if welcome else "help_answered"
        elif effect.reason is AttendantReason.AGE_RESTRICTED:
            kind = "age_check_declined" if declined_age else ("age_check_cancelled" if welcome else "age_check_approved")
        else:
            kind = "intervention_cleared"
        self._publish_event(kind, help_event_detail(effect.request_id, effect.reason.value))

    def _publish_event(self, kind: str, detail: str) -> None:
        event = DeviceEvent(event_id=str(uuid.uuid4()), kiosk_id=self.kiosk_id, device=ASSIST_DEVICE, kind=kind,
                            detail=detail[:500], at=self.clock.now())
        self.bus.publish_event(event)
        self.events_published += 1
        log.info("kiosk %s: %s", self.kiosk_id, kind)

    # -- health -------------------------------------------------------------------------------
    def extra_health(self) -> list[DeviceHealth]:
        """Health of what the device collector does not hold: catalogue and payment providers."""
        out = []
        for part in (self.catalogue_sync, self.terminal, self.gateway):
            try:
                out.append(part.health())
            except Exception as exc:  # noqa: BLE001 - a broken part reports a fault
                out.append(DeviceHealth(getattr(part, "name", "unknown"), DeviceStatus.FAULT, self.clock.now(),
                                        "health_error", str(exc)[:200]))
        return out

    def health(self) -> Health:
        """The health message this kiosk publishes, taken now."""
        return self._health_of(self.devices.health_collector.snapshot())

    def _health_of(self, snapshot: HealthSnapshot) -> Health:
        oldest = self.outbox.oldest_pending_at()
        age = None if oldest is None else max(0, int((self.clock.now() - oldest).total_seconds()))
        return health_message(snapshot, kiosk_id=self.kiosk_id, interval_s=self.settings.health_interval_s,
                              outbox_pending=self.outbox.pending_count(), oldest_pending_age_s=age,
                              extra_devices=self.extra_health())

    def _publish_health(self, snapshot: HealthSnapshot) -> None:
        if self._closed:
            return
        self.bus.publish_health(self._health_of(snapshot))
        self.health_published += 1
