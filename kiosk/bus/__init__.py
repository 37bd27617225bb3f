"""The kiosk's side of the store bus: the port, the MQTT adapter and its simulator."""

from __future__ import annotations

from kiosk.bus.mqtt import BusError, MqttKioskBus
from kiosk.bus.planner import DeliveryPlanner
from kiosk.bus.port import KioskBus
from kiosk.bus.simulated import SimulatedKioskBus

__all__ = ["BusError", "DeliveryPlanner", "KioskBus", "MqttKioskBus", "SimulatedKioskBus"]
