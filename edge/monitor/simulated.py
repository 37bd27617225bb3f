"""Simulators of the monitor's ports, shipped so the edge runs (and is tested) without a broker."""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["MemoryCursorStore", "Published", "SimulatedBusPublisher"]


@dataclass(frozen=True, slots=True)
class Published:
    topic: str
    payload: bytes
    qos: int
    retain: bool


class SimulatedBusPublisher:
    """Simulator of :class:`~edge.monitor.ports.BusPublisher`: records every publish and keeps
    the retained topics like a broker would (an empty retained payload deletes the topic)."""

    def __init__(self) -> None:
        self.messages: list[Published] = []
        self.retained: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        with self._lock:
            self.messages.append(Published(topic, bytes(payload), qos, retain))
            if retain:
                if payload:
                    self.retained[topic] = bytes(payload)
                else:
                    self.retained.pop(topic, None)

    def on(self, topic: str) -> list[bytes]:
        with self._lock:
            return [m.payload for m in self.messages if m.topic == topic]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()


class MemoryCursorStore:
    """Simulator of :class:`~edge.monitor.ports.CursorStore`: a dict."""

    def __init__(self) -> None:
        self._values: dict[str, int] = {}

    def get(self, name: str) -> int:
        return self._values.get(name, 0)

    def set(self, name: str, value: int) -> None:
        self._values[name] = value
