"""Notifications to members: templates (English, Chinese), the Notifier port, an SMTP adapter,
a simulator, a local SMTP sink and the SQLite outbox with retries. Nothing runs at import."""

from edge.notify.errors import DeliveryError, NotifyError, PermanentDeliveryError, TemplateError, TemporaryDeliveryError
from edge.notify.messages import LANGUAGES, Message, MessageKind, render
from edge.notify.outbox import DrainReport, Outbox, OutboxEntry, RetryPolicy, enqueue, ensure_outbox_schema
from edge.notify.ports import Notifier
from edge.notify.simulated import SimulatedNotifier
from edge.notify.sink import ReceivedMail, SmtpSink
from edge.notify.smtp import SmtpNotifier, SmtpSettings

__all__ = [
    "DeliveryError", "DrainReport", "LANGUAGES", "Message", "MessageKind", "Notifier", "NotifyError", "Outbox",
    "OutboxEntry", "PermanentDeliveryError", "ReceivedMail", "RetryPolicy", "SimulatedNotifier", "SmtpNotifier",
    "SmtpSettings", "SmtpSink", "TemplateError", "TemporaryDeliveryError", "enqueue", "ensure_outbox_schema", "render",
]
