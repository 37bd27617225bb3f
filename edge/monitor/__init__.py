"""The edge's store monitor: kiosk presence, health and events in; alarms, the live console
feed, retained alarm topics and kiosk lights out. See :mod:`edge.monitor.core`."""

from edge.monitor.assistance import APPROVAL_PERMISSIONS, AssistanceBoard, AssistanceRequest, help_detail, parse_help_detail
from edge.monitor.commands import AlarmMessage, StaffCommand, approve_command, decode_staff_command, light_command
from edge.monitor.core import (
    ApprovalError,
    MonitorError,
    MonitorRequestError,
    StoreMonitor,
    alarm_json,
    light_for,
    monitor_settings,
)
from edge.monitor.cursor import SqliteCursorStore
from edge.monitor.hub import LiveHub, Subscription
from edge.monitor.mqtt import MonitorBusError, MqttMonitor
from edge.monitor.notify import FanoutNotifier, HubNotifier, LogNotifier
from edge.monitor.observed import ObservedAlarmRepository
from edge.monitor.ports import BusPublisher, CursorStore
from edge.monitor.simulated import MemoryCursorStore, SimulatedBusPublisher

__all__ = [
    "APPROVAL_PERMISSIONS", "AlarmMessage", "ApprovalError", "AssistanceBoard", "AssistanceRequest", "BusPublisher",
    "CursorStore", "FanoutNotifier", "HubNotifier", "LiveHub", "LogNotifier", "MemoryCursorStore", "MonitorBusError",
    "MonitorError", "MonitorRequestError", "MqttMonitor", "ObservedAlarmRepository", "SimulatedBusPublisher",
    "SqliteCursorStore", "StaffCommand", "StoreMonitor", "Subscription", "alarm_json", "approve_command",
    "decode_staff_command", "help_detail", "light_command", "light_for", "monitor_settings", "parse_help_detail",
]
