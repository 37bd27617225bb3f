"""What keeps the running kiosk quick and small: pinyin dictionaries let go after a replica is
built, a bagging countdown that changes the screens once a second (not every tick), a heap
settled and frozen after start-up, no multisampling unless asked for, and OpenCV and NumPy
(about 45 MB) loaded only for a camera scanner."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from kiosk.app_wiring import DEMO_GTINS, ImmediateScheduler, build_simulated_runtime
from kiosk.catalogue_replica import CatalogueReplica, pinyin_full, pinyin_initials, pinyin_loaded, release_pinyin
from kiosk.checkout import model as m
from kiosk.ui.env import DisplaySettings
from kiosk.ui.errors import UiSettingsError
from kiosk.ui.memory import settle_heap
from retail.catalogue import CatalogueItem
from retail.clock import FakeClock
from retail.money import Money


def _item(sku: str, name_zh: str) -> CatalogueItem:
    return CatalogueItem(sku, f"Item {sku}", name_zh, Money.of("1.00", "CNY"), "general")


def test_a_built_replica_lets_pypinyin_go_and_still_searches_by_pinyin() -> None:
    was_imported_elsewhere = "pypinyin" in sys.modules and not pinyin_loaded()
    replica = CatalogueReplica([_item("A", "西瓜汁"), _item("B", "火龙果")], version="t1")
    assert not pinyin_loaded()
    if not was_imported_elsewhere:
        assert "pypinyin" not in sys.modules
    assert replica.search("xgz")[0].sku == "A"
    assert replica.search("huolong")[0].sku == "B"


def test_new_names_load_pypinyin_again_and_known_names_do_not() -> None:
    CatalogueReplica([_item("C", "酸奶")], version="t2", keep_pinyin=True)
    assert pinyin_loaded()  # kept when asked
    assert release_pinyin()
    assert not release_pinyin()  # idempotent
    assert pinyin_initials("酸奶") == "sn" and not pinyin_loaded()  # remembered, not reloaded
    assert pinyin_full("豆腐干") == "doufugan" and pinyin_loaded()  # a new name loads it
    release_pinyin()


def test_bagging_countdown_changes_the_snapshot_once_a_second_not_every_tick() -> None:
    clock = FakeClock()
    lane = build_simulated_runtime(clock=clock, scheduler=ImmediateScheduler(), print_in_background=False)
    lane.runtime.start()
    try:
        lane.runtime.view_models.welcome.start()
        lane.devices.scanner.scan(DEMO_GTINS["COKE"])
        engine = lane.runtime.engine
        first = engine.snapshot()
        assert first.state.value == "waiting_for_bagging"
        seen = []
        lane.runtime.view_models.scan.on_change(lambda names: seen.append(names))
        clock.advance(0.2)
        lane.runtime.tick()
        clock.advance(0.2)
        lane.runtime.tick()
        assert engine.snapshot() == first  # same whole second: nothing for the screens to redraw
        assert seen == []
        left = first.bagging.seconds_left
        assert left == int(left)
        clock.advance(1.0)
        lane.runtime.tick()
        assert engine.snapshot().bagging.seconds_left == left - 1
    finally:
        lane.runtime.close()


def test_settle_heap_collects_and_freezes_what_is_alive() -> None:
    try:
        report = settle_heap()
        assert report.frozen > 1000 and gc.get_freeze_count() == report.frozen
    finally:
        gc.unfreeze()
    report = settle_heap(freeze=False, trim=False)
    assert report.frozen == 0 and not report.trimmed and gc.get_freeze_count() == 0


def test_display_settings_turn_multisampling_off_by_default_and_refuse_odd_values() -> None:
    assert DisplaySettings().multisamples == 0
    assert DisplaySettings(multisamples=4).multisamples == 4
    with pytest.raises(UiSettingsError):
        DisplaySettings(multisamples=3)


_LOADED = "import sys; print(' '.join(m for m in ('cv2', 'numpy') if m in sys.modules))"


def _modules_loaded_after(code: str) -> str:
    """Run ``code`` in a fresh interpreter; which of OpenCV and NumPy it loaded."""
    done = subprocess.run([sys.executable, "-c", f"{code}\n{_LOADED}"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_simulated_lane_runs_without_opencv_or_numpy() -> None:
    code = (
        "import kiosk.composition\n"
        "from kiosk.app_wiring import ImmediateScheduler, build_simulated_runtime\n"
        "lane = build_simulated_runtime(scheduler=ImmediateScheduler(), print_in_background=False)\n"
        "lane.runtime.close()"
    )
    assert _modules_loaded_after(code) == ""


def test_the_camera_scanner_brings_opencv_when_it_is_asked_for() -> None:
    code = "from kiosk.devices.scanner import CameraBarcodeScanner, GeneratedFrameSource"
    assert _modules_loaded_after(code) == "cv2 numpy"
