"""The edge composition root: builds every part of the shop node from :class:`EdgeSettings`
and runs them.

    with EdgeService(settings) as edge:      # start(): bus consumers, timers, web server
        print(edge.url)
        stop.wait()

What it builds (files under ``settings.data_dir``):

* the ledger (``ledger.sqlite3``) and the sale ingest on the bus (``EdgeMqttIngest``, which
  also announces the edge's retained ``EdgeState`` with its will - not duplicated here);
* the alarm engine on ``alarms.sqlite3``, notifying through a :class:`GroupingNotifier` (an
  edge reboot that raises many alarms is one message) to the console feed, the log and, when
  set, a webhook;
* staff, members, catalogue, stock and the monitor's cursor on the edge database
  (``edge.sqlite3``), each with its own connection;
* the store monitor and its MQTT link (presence, health, events -> alarms, retained alarm
  topics, kiosk lights), ticking every ``tick_s``;
* the web app (:func:`edge.app.create_app`) served by uvicorn on a thread.

``close()`` stops them in reverse order and is idempotent.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from contextlib import ExitStack
from typing import Any

import uvicorn

from broker.endpoint import MqttEndpoint
from edge.alarms import AlarmEngine, AlarmStore, GroupingNotifier, WebhookNotifier
from edge.alarms.ports import Notifier
from edge.app import EdgeServices, create_app
from edge.bus import EdgeMqttIngest
from edge.catalogue.publisher import CataloguePublisher, MqttCatalogueBus
from edge.catalogue.store import CatalogueStore
from edge.dayclose.service import DayCloseService
from edge.expenses.store import ExpenseStore
from edge.promotions.store import PromotionStore
from edge.refunds.service import RefundService
from edge.reports.store import ReportStore
from edge.db import connect
from edge.errors import EdgeError
from edge.ingest import IngestCore
from edge.ledger import Ledger
from edge.hqsync import HqSync, HqSyncSettings, build_client
from edge.members import MemberSettings, MemberStore
from edge.members.accrual import AccrualProcessor
from edge.monitor import (
    FanoutNotifier,
    HubNotifier,
    LiveHub,
    LogNotifier,
    MqttMonitor,
    ObservedAlarmRepository,
    SqliteCursorStore,
    StoreMonitor,
    monitor_settings,
)
from edge.settings import EdgeSettings
from edge.staff import HashSettings, StaffSettings, StaffStore
from edge.stock.service import StockService
from retail.clock import Clock, SystemClock
from retail.loyalty import LoyaltyProgram, StoredValueRules

__all__ = ["EdgeService", "EdgeServiceError"]

log = logging.getLogger(__name__)


class EdgeServiceError(EdgeError, RuntimeError):
    """The edge service could not start or was used after ``close()``."""


class EdgeService:
    """The running shop node (context manager; ``close()`` is idempotent)."""

    def __init__(self, settings: EdgeSettings, *, clock: Clock | None = None,
                 extra_notifiers: list[Notifier] | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self._extra = list(extra_notifiers or [])
        self._stack = ExitStack()
        self._started = False
        self._closed = False
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port: int | None = None
        try:
            self._build()
        except BaseException:
            self._stack.close()
            raise

    # -- building -------------------------------------------------------------------------------
    def _build(self) -> None:
        s, clock, stack = self.settings, self.clock, self._stack
        s.data_dir.mkdir(parents=True, exist_ok=True)
        self.endpoint = MqttEndpoint(s.broker_host, s.broker_port, s.broker_username, s.broker_password,
                                     ca_file=s.ca_file)
        self.ledger = stack.enter_context(Ledger(s.ledger_path, clock=clock))
        self.ingest_core = IngestCore(self.ledger, store_id=s.store_id, clock=clock,
                                      resync_cooldown_s=s.resync_cooldown_s)

        self.hub = LiveHub()
        stack.callback(self.hub.close)
        channels: list[Notifier] = [HubNotifier(self.hub, s.store_id), LogNotifier(), *self._extra]
        if s.webhook_url:
            channels.append(WebhookNotifier(s.webhook_url, clock=clock, store_id=s.store_id))
        fanout = FanoutNotifier(channels)
        stack.callback(fanout.close)
        self.notifier = GroupingNotifier(fanout, clock=clock, window_s=s.notify_window_s,
                                         max_delay_s=s.notify_max_delay_s)
        stack.callback(self.notifier.close)
        alarm_store = stack.enter_context(AlarmStore(s.alarms_path))
        self.alarm_repository = ObservedAlarmRepository(alarm_store)
        self.alarm_engine = stack.enter_context(AlarmEngine(
            self.alarm_repository, clock=clock, notifier=self.notifier, settings=monitor_settings(s.alarms)))

        hashing = HashSettings.for_tests() if s.fast_hashing else HashSettings()
        self.staff_store = stack.enter_context(StaffStore.open(
            s.db_path, clock=clock, settings=StaffSettings(badge_secret=s.badge_secret, hashing=hashing,
                                                           session_ttl=s.session_ttl)))
        self.member_store = stack.enter_context(MemberStore.open(s.db_path, clock=clock, settings=MemberSettings(
            program=LoyaltyProgram.simple(s.currency), stored_value=StoredValueRules(s.currency),
            card_secret=s.card_secret, store_name=s.store_name)))
        self.catalogue = stack.enter_context(CatalogueStore(s.db_path, clock=clock, currency=s.currency))
        self.stock = stack.enter_context(StockService(s.db_path, clock=clock, catalogue=self.catalogue))
        self.promotions = stack.enter_context(PromotionStore(s.db_path, clock=clock, catalogue=self.catalogue))
        self.refunds = stack.enter_context(RefundService(s.db_path, clock=clock, members=self.member_store,
                                                         store_id=s.store_id))
        self.day_close = stack.enter_context(DayCloseService(s.db_path, clock=clock, store_id=s.store_id,
                                                             currency=s.currency))
        self.expenses = stack.enter_context(ExpenseStore(s.db_path, clock=clock, currency=s.currency))
        self.reports = stack.enter_context(ReportStore(s.db_path, clock=clock))
        cursor_conn = connect(s.db_path)
        stack.callback(cursor_conn.close)
        self.monitor = StoreMonitor(s.store_id, self.alarm_engine, clock=clock, hub=self.hub, ledger=self.ledger,
                                    cursor=SqliteCursorStore(cursor_conn))
        self.alarm_repository.listener = self.monitor.poke

        self.ingest = EdgeMqttIngest(self.endpoint, self.ingest_core, store_id=s.store_id, clock=clock,
                                     software_version=s.software_version, keepalive_s=s.keepalive_s)
        self.monitor_link = MqttMonitor(self.endpoint, self.monitor, clock=clock, tick_s=s.tick_s,
                                        keepalive_s=s.keepalive_s)
        self.accrual = AccrualProcessor(self.member_store)
        self.hq_sync: HqSync | None = None
        if s.hq_url:
            hq = HqSyncSettings(hq_url=s.hq_url, ca_file=s.hq_ca_file, region=s.hq_region,
                                push_interval_s=s.hq_push_interval_s, catalogue_interval_s=s.hq_catalogue_interval_s)
            self.hq_sync = stack.enter_context(HqSync(
                s.ledger_path, build_client(hq, data_dir=s.data_dir), store_id=s.store_id, clock=clock,
                settings=hq, catalogue=self.catalogue, stock=self.stock))
        self.app = create_app(s, EdgeServices(
            clock=clock, staff_store=self.staff_store, alarm_engine=self.alarm_engine, monitor=self.monitor,
            member_store=self.member_store, catalogue=self.catalogue, stock=self.stock, status=self.status,
            promotions=self.promotions, refunds=self.refunds, day_close=self.day_close, expenses=self.expenses,
            reports=self.reports))

    def _run_jobs(self) -> None:
        """Periodic work that follows the ledger: members' points for new sales."""
        while not self._jobs_stop.wait(self.settings.accrual_interval_s):
            try:
                self.accrual.run(max_batches=20)
            except Exception:  # a bad sale is logged by the processor; never stop the shop
                log.exception("points accrual failed; retrying in %.0f s", self.settings.accrual_interval_s)

    # -- running --------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        status = {"ingest_connected": self.ingest.connected, "monitor_connected": self.monitor_link.connected,
                  "sales_processed": self.ingest.processed, "console_streams": self.hub.subscribers}
        if self.hq_sync is not None:
            status["hq"] = self.hq_sync.status()
        return status

    def start(self, *, web: bool = True, timeout: float = 15.0) -> EdgeService:
        """Connect the bus consumers (in the background: the broker may be down), start the
        timers and, with ``web``, the web server (waits until it listens)."""
        if self._closed:
            raise EdgeServiceError("the edge service is closed")
        if self._started:
            return self
        self._started = True
        self.ingest.start()
        self._stack.callback(self.ingest.close)
        self.monitor_link.start()
        self._stack.callback(self.monitor_link.close)
        if self.hq_sync is not None:
            self.hq_sync.start()
        # the catalogue and promotions go out to the kiosks as retained snapshot + delta
        catalogue_bus = MqttCatalogueBus(self.endpoint, store_id=self.settings.store_id)
        self._stack.callback(catalogue_bus.close)
        self.catalogue_publisher = CataloguePublisher(
            self.catalogue, catalogue_bus, store_id=self.settings.store_id, clock=self.clock, promotions=self.promotions)
        self.catalogue_publisher.start()
        self._stack.callback(self.catalogue_publisher.close)
        self._jobs_stop = threading.Event()
        jobs = threading.Thread(target=self._run_jobs, name="edge-jobs", daemon=True)
        jobs.start()
        self._stack.callback(jobs.join, 10)
        self._stack.callback(self._jobs_stop.set)
        if web:
            self._start_web(timeout)
        log.info("edge of store %s running%s", self.settings.store_id, f" on {self.url}" if web else "")
        return self

    def _start_web(self, timeout: float) -> None:
        s = self.settings
        family = socket.AF_INET6 if ":" in s.web_host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((s.web_host, s.web_port))
        except OSError as exc:
            sock.close()
            raise EdgeServiceError(f"cannot listen on {s.web_host}:{s.web_port}: {exc}") from exc
        sock.listen(128)
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2,
                                access_log=False)
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="edge-web", daemon=True)
        self._thread.start()
        self._stack.callback(self._stop_web)
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive():
                raise EdgeServiceError("the web server stopped while starting")
            if time.monotonic() > deadline:
                raise EdgeServiceError(f"the web server did not start within {timeout} s")
            time.sleep(0.02)

    def _stop_web(self) -> None:
        self.hub.close()  # ends the event streams, so the server can stop at once
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()

    @property
    def url(self) -> str:
        if self.port is None:
            raise EdgeServiceError("the web server is not running")
        host = self.settings.web_host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
        return f"http://{host}:{self.port}"

    def run(self, stop: threading.Event) -> None:
        """Start, serve until ``stop`` is set, then close."""
        with self:
            stop.wait()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stack.close()
        log.info("edge of store %s stopped", self.settings.store_id)

    def __enter__(self) -> EdgeService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

