"""The payment ports: a card terminal and a mobile-QR gateway.

Both are asynchronous in the way real providers are: :meth:`start` / :meth:`create` only begin
a payment; its result arrives later through the callbacks registered with :meth:`on_result`
(on whatever thread the provider's adapter uses; the composition root hands it to the
engine's thread). A provider may report a result twice; the engine ignores repeats by
payment id.
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

from kiosk.devices.health import DeviceHealth
from kiosk.payments.model import PaymentRequest, PaymentResult, QrPayment

__all__ = ["PaymentGateway", "PaymentTerminal", "ResultCallback"]

ResultCallback = Callable[[PaymentResult], None]


@runtime_checkable
class PaymentTerminal(Protocol):
    """A card terminal (chip, contactless)."""

    name: str

    def start(self, request: PaymentRequest) -> None:
        """Begin a card payment; raises ``PaymentRequestError`` for a payment id already used."""
        ...

    def cancel(self, payment_id: str) -> None:
        """Ask to cancel a pending payment; its result (cancelled, or approved when too late)
        still arrives through :meth:`on_result`."""
        ...

    def on_result(self, callback: ResultCallback) -> Callable[[], None]:
        """Register a result callback; returns a function that unregisters it."""
        ...

    def health(self) -> DeviceHealth: ...

    def self_test(self) -> DeviceHealth: ...

    def close(self) -> None: ...


@runtime_checkable
class PaymentGateway(Protocol):
    """A mobile payment gateway (WeChat Pay / Alipay style): makes a QR payload for a payment,
    the shopper scans it with a phone and pays, the gateway reports the result."""

    name: str

    def create(self, request: PaymentRequest) -> QrPayment:
        """Create a QR payment for ``request`` (``request.provider`` names the wallet)."""
        ...

    def cancel(self, payment_id: str) -> None: ...

    def on_result(self, callback: ResultCallback) -> Callable[[], None]: ...

    def health(self) -> DeviceHealth: ...

    def self_test(self) -> DeviceHealth: ...

    def close(self) -> None: ...
