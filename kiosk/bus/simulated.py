"""SimulatedKioskBus — a simulator of the kiosk bus port for laptops, demos and tests.

It delivers the journal's sales to an in-process edge (any callable taking ``(topic,
payload)`` and returning the replies ``[(topic, payload), ...]``, e.g. an
:class:`edge.ingest.IngestCore` wrapped by :func:`edge.ingest.in_process_edge`) with the same
contract as :class:`MqttKioskBus`: pending until the application ack, resync commands
honoured. ``go_offline()`` / ``go_online()`` cut and restore the link.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from broker.contract import ContractError, DeviceEvent, Health, SaleAck, decode, decode_acks, encode, kiosk_topic
from kiosk.bus.planner import DeliveryPlanner
from kiosk.outbox import SaleOutbox
from retail.clock import Clock

__all__ = ["SimulatedKioskBus"]

log = logging.getLogger(__name__)

Edge = Callable[[str, bytes], list[tuple[str, bytes]]]


class SimulatedKioskBus:
    """Simulator: an in-memory link from one kiosk journal to an in-process edge."""

    def __init__(self, outbox: SaleOutbox, edge: Edge, *, clock: Clock, window: int = 20, online: bool = True) -> None:
        self._outbox = outbox
        self._edge = edge
        self._clock = clock
        self._planner = DeliveryPlanner(window=window, resend_after_s=1.0)
        self._online = threading.Event()
        if online:
            self._online.set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._topic = kiosk_topic(outbox.store_id, outbox.kiosk_id, "sale")
        self.published: list[tuple[str, bytes]] = []  # health and events, for inspection

    def start(self) -> SimulatedKioskBus:
        if self._thread is None:
            self._outbox.add_listener(self._on_recorded)
            self._thread = threading.Thread(target=self._run, name="simulated-kiosk-bus", daemon=True)
            self._thread.start()
        return self

    def __enter__(self) -> SimulatedKioskBus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._outbox.remove_listener(self._on_recorded)
            self._thread = None

    @property
    def connected(self) -> bool:
        return self._online.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._online.wait(timeout)

    def go_offline(self) -> None:
        self._online.clear()

    def go_online(self) -> None:
        self._online.set()
        self._wake.set()

    def publish_health(self, health: Health) -> None:
        self.published.append((kiosk_topic(self._outbox.store_id, self._outbox.kiosk_id, "health"), encode(health)))

    def publish_event(self, event: DeviceEvent) -> None:
        self.published.append((kiosk_topic(self._outbox.store_id, self._outbox.kiosk_id, "event"), encode(event)))

    def _on_recorded(self, seq: int) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.05)
            self._wake.clear()
            if not self._online.is_set():
                self._planner.reset()
                continue
            try:
                self._deliver()
            except Exception:
                log.exception("simulated kiosk bus step failed")

    def _deliver(self) -> None:
        def backlog(limit: int, exclude: set[int]) -> list[int]:
            return [e.seq for e in self._outbox.pending(limit, exclude=exclude)]

        acks: list[SaleAck] = []
        for seq in self._planner.plan(self._clock.monotonic(), backlog):
            entry = self._outbox.entry(seq)
            if entry is None or entry.state != "pending":
                self._planner.acked(seq)
                continue
            for topic, payload in self._edge(self._topic, entry.body):
                try:
                    if topic.endswith("/ack"):
                        acks.extend(decode_acks(payload))
                    elif topic.endswith("/cmd"):
                        cmd = decode("cmd", payload)
                        if cmd.kind == "resync" and cmd.from_seq and self._outbox.command_is_new(cmd.command_id, cmd.kind):
                            self._outbox.reopen_from(cmd.from_seq)
                except ContractError as exc:
                    log.warning("simulated edge sent an invalid reply: %s", exc)
        if acks:
            for outcome in self._outbox.apply_acks(acks):
                self._planner.acked(outcome.seq)
            self._wake.set()
