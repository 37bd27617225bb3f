"""The SMTP adapter of the :class:`~edge.notify.ports.Notifier` port (stdlib ``smtplib``).

One connection per :meth:`SmtpNotifier.send` (a shop sends a few messages an hour; a fresh
connection survives server restarts without reconnect logic). Subjects and bodies are UTF-8:
Chinese arrives intact (RFC 2047 encoded subject, UTF-8 body).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from edge.notify.errors import NotifyError, PermanentDeliveryError, TemporaryDeliveryError
from edge.notify.messages import Message

__all__ = ["SmtpNotifier", "SmtpSettings", "to_email"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int = 587
    sender: str = "noreply@tillpi.invalid"
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    implicit_tls: bool = False  # port 465
    timeout_s: float = 20.0

    def __post_init__(self) -> None:
        if not self.host or not 0 < self.port < 65536:
            raise NotifyError("SMTP needs a host and a port 1-65535")
        if self.starttls and self.implicit_tls:
            raise NotifyError("choose STARTTLS or implicit TLS, not both")
        if (self.username is None) != (self.password is None):
            raise NotifyError("SMTP username and password go together")


def to_email(message: Message, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "tillpi.invalid")
    mail["X-Tillpi-Key"] = message.key
    mail.set_content(message.body, charset="utf-8")
    if message.language == "zh":
        mail["Content-Language"] = "zh-CN"
    return mail


class SmtpNotifier:
    """Sends messages through an SMTP server (context manager; ``close()`` is idempotent)."""

    def __init__(self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self._ssl = ssl_context
        self._closed = False

    def __enter__(self) -> SmtpNotifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.implicit_tls:
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=self._ssl or ssl.create_default_context())
        client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        if s.starttls:
            client.starttls(context=self._ssl or ssl.create_default_context())
        return client

    def send(self, message: Message) -> None:
        if self._closed:
            raise NotifyError("the SMTP notifier is closed")
        mail = to_email(message, self.settings.sender)
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as err:
            raise TemporaryDeliveryError(f"cannot reach {self.settings.host}:{self.settings.port}: {err}") from err
        try:
            if self.settings.username is not None:
                client.login(self.settings.username, self.settings.password or "")
            refused = client.send_message(mail)
            if refused:
                raise PermanentDeliveryError(f"recipients refused: {refused}")
        except smtplib.SMTPRecipientsRefused as err:
            codes = [code for code, _ in err.recipients.values()]
            cls = TemporaryDeliveryError if codes and all(400 <= c < 500 for c in codes) else PermanentDeliveryError
            raise cls(f"recipient refused: {err.recipients}") from err
        except smtplib.SMTPResponseException as err:
            cls = TemporaryDeliveryError if 400 <= err.smtp_code < 500 else PermanentDeliveryError
            raise cls(f"SMTP {err.smtp_code}: {err.smtp_error!r}") from err
        except (OSError, smtplib.SMTPException) as err:
            raise TemporaryDeliveryError(f"SMTP conversation failed: {err}") from err
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        log.info("sent %s message %s", message.kind.value, message.key)
