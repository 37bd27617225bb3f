"""Simulators of the payment ports, shipped so the kiosk runs on a laptop and in tests.

**These are simulators**: no money moves. A person (or a test) decides each outcome with the
verbs :meth:`approve`, :meth:`decline`, :meth:`timeout` and :meth:`cancel`; ``auto=`` resolves
every payment at once with one outcome (for demos). :meth:`repeat_last` delivers the last
result again, as real providers sometimes do (the engine must ignore it).
"""

from __future__ import annotations

import logging
import threading
from typing import Callable
from urllib.parse import quote

from kiosk.devices.health import DeviceHealth, DeviceStatus
from kiosk.payments.errors import PaymentClosedError, PaymentRequestError, UnknownPaymentError
from kiosk.payments.model import PaymentOutcome, PaymentRequest, PaymentResult, QrPayment
from kiosk.payments.ports import ResultCallback
from retail.clock import Clock, SystemClock

__all__ = ["SimulatedPaymentGateway", "SimulatedPaymentTerminal"]

log = logging.getLogger(__name__)


class _SimulatedProvider:
    """Shared bookkeeping of the two simulators: pending requests, used ids, listeners."""

    _ref_prefix = "SIM"

    def __init__(self, name: str, *, auto: PaymentOutcome | None = None, clock: Clock | None = None) -> None:
        self.name = name
        self._auto = auto
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._pending: dict[str, PaymentRequest] = {}
        self._used: set[str] = set()
        self._listeners: list[ResultCallback] = []
        self._results: list[PaymentResult] = []
        self._counter = 0
        self._closed = False
        self._since = self._clock.now()

    # -- port side -------------------------------------------------------------------------------
    def on_result(self, callback: ResultCallback) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def _begin(self, request: PaymentRequest) -> None:
        if not isinstance(request, PaymentRequest):
            raise PaymentRequestError(f"not a PaymentRequest: {request!r}")
        with self._lock:
            if self._closed:
                raise PaymentClosedError(f"{self.name} is closed")
            if request.payment_id in self._used:
                raise PaymentRequestError(f"payment id {request.payment_id} was already used")
            self._used.add(request.payment_id)
            self._pending[request.payment_id] = request
        log.info("%s: payment %s for %s started", self.name, request.payment_id, request.amount.format())

    def health(self) -> DeviceHealth:
        status = DeviceStatus.ABSENT if self._closed else DeviceStatus.OK
        return DeviceHealth(self.name, status, self._since, "simulated", "simulated payment provider")

    def self_test(self) -> DeviceHealth:
        return self.health()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._pending.clear()
            self._listeners.clear()

    def __enter__(self) -> _SimulatedProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- person / test side ----------------------------------------------------------------------
    @property
    def pending(self) -> tuple[PaymentRequest, ...]:
        """Payments waiting for an outcome, oldest first."""
        with self._lock:
            return tuple(self._pending.values())

    @property
    def results(self) -> tuple[PaymentResult, ...]:
        """Every result delivered so far, in order."""
        with self._lock:
            return tuple(self._results)

    def approve(self, payment_id: str | None = None) -> PaymentResult:
        return self._resolve(payment_id, PaymentOutcome.APPROVED, "")

    def decline(self, payment_id: str | None = None, detail: str = "declined") -> PaymentResult:
        return self._resolve(payment_id, PaymentOutcome.DECLINED, detail)

    def timeout(self, payment_id: str | None = None) -> PaymentResult:
        return self._resolve(payment_id, PaymentOutcome.TIMEOUT, "no answer from the provider")

    def cancel(self, payment_id: str | None = None) -> None:
        """Cancel a pending payment (the engine's request, or the shopper at the device).

        Cancelling a payment that is no longer pending does nothing: the result already went out.
        """
        with self._lock:
            known = payment_id is None or payment_id in self._pending
            if payment_id is None and not self._pending:
                known = False
        if known:
            self._resolve(payment_id, PaymentOutcome.CANCELLED, "cancelled")

    def repeat_last(self) -> PaymentResult:
        """Deliver the last result once more (providers repeat themselves)."""
        with self._lock:
            if not self._results:
                raise UnknownPaymentError(f"{self.name} has no result to repeat")
            result = self._results[-1]
            listeners = list(self._listeners)
        for callback in listeners:
            callback(result)
        return result

    def _resolve(self, payment_id: str | None, outcome: PaymentOutcome, detail: str) -> PaymentResult:
        with self._lock:
            if self._closed:
                raise PaymentClosedError(f"{self.name} is closed")
            if payment_id is None:
                if not self._pending:
                    raise UnknownPaymentError(f"{self.name} has no pending payment")
                payment_id = next(iter(self._pending))
            request = self._pending.pop(payment_id, None)
            if request is None:
                raise UnknownPaymentError(f"{self.name} has no pending payment {payment_id}")
            self._counter += 1
            reference = f"{self._ref_prefix}-{self._counter:06d}" if outcome is PaymentOutcome.APPROVED else ""
            result = PaymentResult(payment_id, outcome, request.amount, reference, detail)
            self._results.append(result)
            listeners = list(self._listeners)
        log.info("%s: payment %s %s", self.name, payment_id, outcome.value)
        for callback in listeners:
            callback(result)
        return result

    def _maybe_auto(self, payment_id: str) -> None:
        if self._auto is not None:
            self._resolve(payment_id, self._auto, "automatic (simulator)")


class SimulatedPaymentTerminal(_SimulatedProvider):
    """A **simulated** card terminal (see the module docstring); no card is charged."""

    _ref_prefix = "SIMCARD"

    def __init__(
        self, name: str = "card_terminal", *, auto: PaymentOutcome | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__(name, auto=auto, clock=clock)

    def start(self, request: PaymentRequest) -> None:
        self._begin(request)
        self._maybe_auto(request.payment_id)


class SimulatedPaymentGateway(_SimulatedProvider):
    """A **simulated** mobile QR gateway (WeChat Pay / Alipay style); no money moves.

    :meth:`create` returns a payload like ``tillpi-sim-pay://wechat/<payment id>?amount=12.50CNY``;
    :meth:`pay` (or :meth:`scan_with_phone` given that payload) approves it, as if the shopper
    paid on their phone.
    """

    _ref_prefix = "SIMQR"
    PROVIDERS = ("wechat", "alipay")

    def __init__(
        self,
        name: str = "qr_gateway",
        *,
        providers: tuple[str, ...] = PROVIDERS,
        auto: PaymentOutcome | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(name, auto=auto, clock=clock)
        self._providers = tuple(providers)
        self._payloads: dict[str, str] = {}

    def create(self, request: PaymentRequest) -> QrPayment:
        if request.provider not in self._providers:
            raise PaymentRequestError(f"{self.name} does not offer {request.provider!r}; it offers {self._providers}")
        self._begin(request)
        payload = (
            f"tillpi-sim-pay://{quote(request.provider)}/{quote(request.payment_id)}"
            f"?amount={request.amount.amount}{request.amount.currency}"
        )
        with self._lock:
            self._payloads[payload] = request.payment_id
        qr = QrPayment(request.payment_id, request.provider, payload)
        self._maybe_auto(request.payment_id)
        return qr

    def pay(self, payment_id: str | None = None) -> PaymentResult:
        """The shopper paid on their phone."""
        return self.approve(payment_id)

    def scan_with_phone(self, payload: str) -> PaymentResult:
        """The shopper scanned ``payload`` and paid."""
        with self._lock:
            payment_id = self._payloads.get(payload)
        if payment_id is None:
            raise UnknownPaymentError("no payment for this QR payload")
        return self.approve(payment_id)
