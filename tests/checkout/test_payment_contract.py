"""Contract tests of the payment ports. Every PaymentTerminal / PaymentGateway (the simulators
here; a real provider's adapter when one exists) must pass them."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from kiosk.devices.health import DeviceStatus
from kiosk.payments import (
    PaymentClosedError,
    PaymentGateway,
    PaymentOutcome,
    PaymentRequest,
    PaymentRequestError,
    PaymentTerminal,
    SimulatedPaymentGateway,
    SimulatedPaymentTerminal,
    UnknownPaymentError,
    new_payment_id,
)
from retail.clock import FakeClock
from retail.money import Money


def _terminal() -> tuple[Any, Callable[[PaymentRequest], None]]:
    t = SimulatedPaymentTerminal(clock=FakeClock())
    return t, t.start


def _gateway() -> tuple[Any, Callable[[PaymentRequest], None]]:
    g = SimulatedPaymentGateway(clock=FakeClock())
    return g, g.create


PROVIDERS = {"terminal": _terminal, "gateway": _gateway}


def _request(provider_name: str, amount: str = "12.50") -> PaymentRequest:
    return PaymentRequest(new_payment_id(), "sale-1", Money.of(amount, "CNY"), "wechat" if provider_name == "gateway" else "")


@pytest.fixture(params=list(PROVIDERS))
def provider(request):  # noqa: ANN001, ANN201
    p, begin = PROVIDERS[request.param]()
    results: list[Any] = []
    p.on_result(results.append)
    yield request.param, p, begin, results
    p.close()


def test_simulators_implement_their_ports() -> None:
    assert isinstance(SimulatedPaymentTerminal(), PaymentTerminal)
    assert isinstance(SimulatedPaymentGateway(), PaymentGateway)


def test_approved_result_reaches_listeners_once(provider) -> None:  # noqa: ANN001
    name, p, begin, results = provider
    req = _request(name)
    begin(req)
    p.approve(req.payment_id)
    assert [(r.payment_id, r.outcome, r.amount) for r in results] == [(req.payment_id, PaymentOutcome.APPROVED, req.amount)]
    assert results[0].reference


@pytest.mark.parametrize("verb,outcome", [("decline", PaymentOutcome.DECLINED), ("timeout", PaymentOutcome.TIMEOUT), ("cancel", PaymentOutcome.CANCELLED)])
def test_unsuccessful_outcomes(provider, verb: str, outcome: PaymentOutcome) -> None:  # noqa: ANN001
    name, p, begin, results = provider
    req = _request(name)
    begin(req)
    getattr(p, verb)(req.payment_id)
    assert results[-1].outcome is outcome and p.pending == ()


def test_a_payment_id_is_used_once(provider) -> None:  # noqa: ANN001
    name, p, begin, _ = provider
    req = _request(name)
    begin(req)
    with pytest.raises(PaymentRequestError):
        begin(req)


def test_resolving_an_unknown_payment_raises(provider) -> None:  # noqa: ANN001
    _, p, _, _ = provider
    with pytest.raises(UnknownPaymentError):
        p.approve("nope")


def test_cancel_after_the_result_does_nothing(provider) -> None:  # noqa: ANN001
    name, p, begin, results = provider
    req = _request(name)
    begin(req)
    p.approve(req.payment_id)
    p.cancel(req.payment_id)
    assert [r.outcome for r in results] == [PaymentOutcome.APPROVED]


def test_closed_provider_refuses_work_and_close_is_idempotent(provider) -> None:  # noqa: ANN001
    name, p, begin, _ = provider
    p.close()
    p.close()
    assert p.health().status is DeviceStatus.ABSENT
    with pytest.raises(PaymentClosedError):
        begin(_request(name))


def test_non_positive_amount_is_not_a_request() -> None:
    with pytest.raises(PaymentRequestError):
        PaymentRequest("p1", "s1", Money.of("0", "CNY"))


def test_auto_mode_resolves_at_once_for_demos() -> None:
    t = SimulatedPaymentTerminal(auto=PaymentOutcome.APPROVED)
    seen: list[Any] = []
    t.on_result(seen.append)
    t.start(_request("terminal"))
    assert seen[0].outcome is PaymentOutcome.APPROVED
