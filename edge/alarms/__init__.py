"""The edge's alarm engine: rules, lifecycle, persistence and notifications.

Build one with a store, a clock and a notifier, feed it observations, call ``tick()``::

    store = AlarmStore("/var/lib/tillpi/alarms.db")
    engine = AlarmEngine(store, clock=SystemClock(), notifier=GroupingNotifier(webhook, clock=clock))
    engine.observe_many(observations_from_health(snapshot_dict))
    engine.tick()   # every second or so

See :mod:`edge.alarms.engine` for the lifecycle and :mod:`edge.alarms.settings` for the rules.
"""

from edge.alarms.adapters import (
    HealthWatchdog,
    observation_from_ledger_alarm,
    observation_from_presence,
    observations_from_event,
    observations_from_health,
)
from edge.alarms.engine import AlarmEngine, AlarmView
from edge.alarms.errors import (
    AlarmConfigError,
    AlarmError,
    AlarmNotFoundError,
    AlarmRequestError,
    AlarmStateError,
    AlarmStoreClosedError,
    AlarmStoreError,
    AlarmStoreSchemaError,
    NotifyError,
)
from edge.alarms.model import (
    Alarm,
    AlarmState,
    Category,
    HistoryEntry,
    MaintenanceWindow,
    Notification,
    Observation,
    Severity,
    Silence,
    Transition,
)
from edge.alarms.notify import GroupingNotifier, RecordingNotifier, WebhookNotifier
from edge.alarms.settings import AlarmSettings, Direction, Rule
from edge.alarms.ports import AlarmRepository, Notifier, StoreChanges
from edge.alarms.store import AlarmStore, SimulatedAlarmRepository

__all__ = [
    "Alarm",
    "AlarmConfigError",
    "AlarmEngine",
    "AlarmError",
    "AlarmNotFoundError",
    "AlarmRepository",
    "AlarmRequestError",
    "AlarmSettings",
    "AlarmState",
    "AlarmStateError",
    "AlarmStore",
    "AlarmStoreClosedError",
    "AlarmStoreError",
    "AlarmStoreSchemaError",
    "AlarmView",
    "Category",
    "Direction",
    "GroupingNotifier",
    "HealthWatchdog",
    "HistoryEntry",
    "MaintenanceWindow",
    "Notification",
    "Notifier",
    "NotifyError",
    "Observation",
    "RecordingNotifier",
    "Rule",
    "Severity",
    "Silence",
    "SimulatedAlarmRepository",
    "StoreChanges",
    "Transition",
    "WebhookNotifier",
    "observation_from_ledger_alarm",
    "observation_from_presence",
    "observations_from_event",
    "observations_from_health",
]
