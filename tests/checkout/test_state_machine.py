"""The state machine itself: transitions in one table, illegal and racy events, observers."""

from __future__ import annotations

import pytest

from kiosk.checkout import ACCEPTS, RACY, TRANSITIONS, CheckoutInputError, IllegalEventError
from kiosk.checkout import CheckoutState as S
from kiosk.checkout import model as m
from kiosk.checkout.engine import CheckoutEngine

from retail.money import Money

from .conftest import Lane


def test_every_state_has_transitions_and_every_event_a_handler() -> None:
    assert set(TRANSITIONS) == set(S)
    assert set(ACCEPTS) == set(CheckoutEngine._HANDLERS)  # noqa: SLF001
    assert RACY <= set(ACCEPTS)


def test_racy_touch_in_the_wrong_state_is_ignored(lane: Lane) -> None:
    out = lane.send(m.Pay())  # a double tap on the welcome screen
    assert m.ShowMessage("not_now", "Pay") in out and lane.state is S.WELCOME


def test_non_racy_event_in_the_wrong_state_raises(lane: Lane) -> None:
    with pytest.raises(IllegalEventError):
        lane.send(m.CashTendered(Money.of("1", "CNY")))


def test_unknown_event_type_raises(lane: Lane) -> None:
    with pytest.raises(CheckoutInputError):
        lane.engine.handle(object())  # type: ignore[arg-type]


def test_unknown_language_is_refused(lane: Lane) -> None:
    with pytest.raises(CheckoutInputError):
        lane.send(m.ChooseLanguage("fr"))


def test_observers_get_a_snapshot_after_each_event(lane: Lane) -> None:
    seen = []
    unsubscribe = lane.engine.subscribe(seen.append)
    lane.send(m.Start())
    lane.scan("COKE")
    assert [s.state for s in seen] == [S.SCANNING, S.WAITING_FOR_BAGGING]
    assert seen[-1].lines[0].sku == "COKE"
    unsubscribe()
    lane.place(350)
    assert len(seen) == 2


def test_catalogue_swaps_only_between_shoppers(started: Lane) -> None:
    with pytest.raises(IllegalEventError):
        started.engine.set_catalogue(started.engine.catalogue)


def test_ticks_alone_never_change_a_scanning_lane(started: Lane) -> None:
    started.clock.advance(3600)
    assert started.send(m.Tick()) == () and started.state is S.SCANNING
