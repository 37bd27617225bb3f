"""Frame agreement: a pure class, tested with a fake clock."""

from __future__ import annotations

import pytest

from kiosk.devices.scanner.agreement import FrameAgreement
from retail.clock import FakeClock

MILK = ("4006381333931", "EAN13")
BREAD = ("96385074", "EAN8")
FRAME = 1 / 30


def frames(agreement: FrameAgreement, clock: FakeClock, seq: list[list[tuple[str, str]]]) -> list[tuple[str, str]]:
    out = []
    for codes in seq:
        out += agreement.observe(codes)
        clock.advance(FRAME)
    return out


def test_one_frame_is_not_enough_two_agreeing_frames_make_a_scan() -> None:
    clock = FakeClock()
    fa = FrameAgreement(clock=clock, min_frames=2)
    assert fa.observe([MILK]) == []
    clock.advance(FRAME)
    assert fa.observe([MILK]) == [MILK]


def test_a_code_read_in_a_single_frame_never_becomes_a_scan() -> None:
    clock = FakeClock()
    fa = FrameAgreement(clock=clock)
    assert frames(fa, clock, [[MILK]] + [[]] * 50) == []


def test_the_required_number_of_frames_is_configurable() -> None:
    clock = FakeClock()
    fa = FrameAgreement(clock=clock, min_frames=3)
    assert frames(fa, clock, [[MILK], [MILK]]) == []
    assert frames(fa, clock, [[MILK]]) == [MILK]


def test_frames_too_far_apart_do_not_agree() -> None:
    clock = FakeClock()
    fa = FrameAgreement(clock=clock, min_frames=2, window_seconds=0.5, leave_frames=100, leave_seconds=100)
    fa.observe([MILK])
    clock.advance(0.8)
    assert fa.observe([MILK]) == []
    clock.advance(0.1)
    assert fa.observe([MILK]) == [MILK]


def test_a_code_held_in_view_is_scanned_once() -> None:
    clock = FakeClock()
    fa = FrameAgreement(clock=clock)
    assert frames(fa, clock, [[MILK]] * 300) == [MILK]


def test_a_few_missed_frames_while_held_do_not_scan_again() -> None:
    clock = FakeClock()
    fa = FrameAgreement(clock=clock, leave_frames=3, leave_seconds=0.3)
    seq = [[MILK]] * 5 + [[], []] + [[MILK]] * 5 + [[]] * 2 + [[MILK]] * 5
    assert frames(fa, clock, seq) == [MILK]


def test_missing_frames_alone_are_not_leaving_view_time_must_pass_too() -> None:
    clock = FakeClock()
    fa = FrameAgreement(clock=clock, leave_frames=3, leave_seconds=0.3)
    frames(fa, clock, [[MILK]] * 3)
    for _ in range(5):  # five empty frames in quick succession (a fast camera)
        fa.observe([])
        clock.advance(0.01)
    assert MILK in fa.in_view
    assert frames(fa, clock, [[MILK]] * 3) == []


def test_removing_the_product_and_bringing_it_back_scans_it_again() -> None:
    clock = FakeClock()
    fa = FrameAgreement(clock=clock, leave_frames=3, leave_seconds=0.3)
    seq = [[MILK]] * 5 + [[]] * 15 + [[MILK]] * 5
    assert frames(fa, clock, seq) == [MILK, MILK]


def test_two_products_in_view_each_scan_once() -> None:
    clock = FakeClock()
    fa = FrameAgreement(clock=clock)
    seq = [[MILK], [MILK, BREAD], [MILK, BREAD], [BREAD]]
    assert frames(fa, clock, seq) == [MILK, BREAD]


def test_a_flickering_misread_does_not_block_or_replace_the_real_code() -> None:
    clock = FakeClock()
    fa = FrameAgreement(clock=clock)
    wrong = ("4006381333948", "EAN13")
    seq = [[wrong], [], [MILK], [MILK]]
    assert frames(fa, clock, seq) == [MILK]


def test_reset_forgets_codes_in_view() -> None:
    clock = FakeClock()
    fa = FrameAgreement(clock=clock)
    frames(fa, clock, [[MILK]] * 3)
    fa.reset()
    assert fa.in_view == frozenset()
    assert frames(fa, clock, [[MILK]] * 2) == [MILK]


@pytest.mark.parametrize("kwargs", [{"min_frames": 0}, {"leave_frames": 0}, {"window_seconds": 0}, {"leave_seconds": -1}])
def test_nonsense_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        FrameAgreement(clock=FakeClock(), **kwargs)
