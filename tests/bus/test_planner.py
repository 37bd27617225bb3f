"""The kiosk's delivery plan: window, live sales first, re-sends, expediting."""

from __future__ import annotations

from kiosk.bus import DeliveryPlanner


def backlog_of(pending: list[int]):
    return lambda limit, exclude: [s for s in pending if s not in exclude][:limit]


def test_the_window_bounds_what_is_in_flight_and_backlog_goes_in_order() -> None:
    p = DeliveryPlanner(window=3, resend_after_s=10)
    assert p.plan(0.0, backlog_of(list(range(1, 10)))) == [1, 2, 3]
    assert p.plan(1.0, backlog_of(list(range(1, 10)))) == []
    p.acked(2)
    assert p.plan(2.0, backlog_of([1, 3, 4, 5])) == [4]


def test_live_sales_go_ahead_of_the_backlog() -> None:
    p = DeliveryPlanner(window=2, resend_after_s=10)
    p.note_live(50)
    assert p.plan(0.0, backlog_of([1, 2, 3, 50])) == [50, 1]


def test_unacknowledged_sales_are_resent_after_the_timeout() -> None:
    p = DeliveryPlanner(window=2, resend_after_s=5)
    p.plan(0.0, backlog_of([1, 2]))
    assert p.plan(4.9, backlog_of([1, 2])) == []
    assert p.next_deadline() == 5.0
    assert p.plan(5.0, backlog_of([1, 2])) == [1, 2]


def test_expedite_and_reset_send_again_at_once() -> None:
    p = DeliveryPlanner(window=3, resend_after_s=60)
    p.plan(0.0, backlog_of([1, 2, 3]))
    assert p.expedite(2.0, from_seq=2, min_age_s=1.0) == 2
    assert p.plan(2.0, backlog_of([1, 2, 3])) == [2, 3]
    p.reset()
    assert p.plan(3.0, backlog_of([1, 2, 3])) == [1, 2, 3]
