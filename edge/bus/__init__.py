"""The edge's side of the store bus (MQTT adapter feeding the ingest core)."""

from __future__ import annotations

from edge.bus.mqtt import EdgeBusError, EdgeMqttIngest

__all__ = ["EdgeBusError", "EdgeMqttIngest"]
