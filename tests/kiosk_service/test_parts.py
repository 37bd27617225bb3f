"""The service's parts without a broker: the command shim reads what the edge sends, help
events carry what the edge's board reads, the blended light, the vouched staff, promotions,
catalogue swaps between shoppers, a headless kiosk without Kivy, and the simulated shopper."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from edge.monitor.assistance import parse_help_detail
from edge.monitor.commands import approve_command, encode_model, light_command
from kiosk.app_wiring import ImmediateScheduler, build_simulated_runtime, demo_catalogue
from kiosk.catalogue_replica import CatalogueReplica
from kiosk.catalogue_sync import PromotionsBundle
from kiosk.checkout import CheckoutState, Role, SimulatedStaffDirectory
from kiosk.checkout import model as m
from kiosk.devices.light import LightState, SimulatedStatusLight
from kiosk.service import (
    BlendedStatusLight,
    EdgeVouchedStaffDirectory,
    KioskService,
    LoopScheduler,
    compile_promotions,
    decode_staff_command,
    help_event_detail,
)
from kiosk.settings import KioskSettings
from kiosk.simulated_shopper import ShopperError, SimulatedShopper
from retail.catalogue import CatalogueItem
from retail.money import Money
from retail.promotions import PercentOff, promotion_to_dict

from .conftest import wait_for

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]


def test_the_command_shim_reads_the_edges_approve_and_light_commands() -> None:
    approve = approve_command("kiosk-01", "req-1", "ann", approve=True, why="ID seen", now=NOW)
    got = decode_staff_command(encode_model(approve))
    assert (got.kind, got.request_id, got.staff_id, got.approve, got.why) == ("approve", "req-1", "ann", True, "ID seen")
    assert got.expired(NOW + timedelta(seconds=121)) and not got.expired(NOW)
    light = decode_staff_command(encode_model(light_command("kiosk-01", "alarm", now=NOW)))
    assert (light.kind, light.light) == ("set_light", "alarm")
    with pytest.raises(ValueError):
        decode_staff_command(b'{"schema": "tillpi.command/1", "kind": "set_light"}')


def test_help_event_detail_is_what_the_edges_assistance_board_reads() -> None:
    items = [(f"Item with a rather long name number {i}", i) for i in range(1, 40)]
    text = help_event_detail("r-9", "age_restricted", role="attendant", note="Beer needs age 18+", lines=39,
                             total_minor=4560, currency="CNY", items=items)
    assert len(text) <= 500
    parsed = parse_help_detail("age_check_requested", text)
    assert parsed["request_id"] == "r-9" and parsed["reason"] == "age_restricted"
    assert (parsed["lines"], parsed["total_minor"], parsed["currency"]) == (39, 4560, "CNY")
    assert parsed["note"] == "Beer needs age 18+" and 0 < len(parsed["items"]) < 39


def test_the_blended_light_shows_the_more_urgent_of_lane_and_edge() -> None:
    inner = SimulatedStatusLight()
    light = BlendedStatusLight(inner)
    light.edge_says("alarm")
    light.show(LightState.ASSISTANCE)
    assert inner.state is LightState.ALARM
    light.edge_says("idle")
    assert inner.state is LightState.ASSISTANCE
    light.show(LightState.IDLE)
    assert inner.state is LightState.IDLE
    light.flash_scan()
    assert inner.flashes == 1


def test_staff_the_edge_vouches_for_may_approve_with_the_role_vouched() -> None:
    local = SimulatedStaffDirectory()
    local.add("S1", "Ann", Role.ATTENDANT, pin="1111")
    staff = EdgeVouchedStaffDirectory(local)
    assert staff.get("edge-ann") is None
    staff.vouch("edge-ann", Role.SUPERVISOR)
    member = staff.get("edge-ann")
    assert member is not None and member.may(Role.SUPERVISOR)
    assert staff.verify_pin("1111").staff_id == "S1"  # type: ignore[union-attr]


def test_a_promotion_the_replica_cannot_price_is_left_out_and_the_rest_kept() -> None:
    replica = demo_catalogue()
    good = PercentOff(promotion_id="P-COKE", name_en="Coke 10%", name_zh="可乐九折", skus=("COKE",), percent_bp=1000)
    bad = PercentOff(promotion_id="P-GONE", name_en="Gone", name_zh="无", skus=("NO-SUCH-SKU",), percent_bp=1000)
    bundle = PromotionsBundle(3, (promotion_to_dict(good), promotion_to_dict(bad), {"kind": "nonsense"}))
    compiled = compile_promotions(bundle, replica)
    assert compiled is not None and [p.promotion_id for p in compiled.promotions] == ["P-COKE"]


def _offline_settings(tmp_path: Path) -> KioskSettings:
    return KioskSettings.load(data_dir=tmp_path / "kiosk", store_id="s1", kiosk_id="kiosk-01", broker_host="127.0.0.1",
                              broker_port=9, broker_password="unused", health_interval_s=30)


def test_a_new_catalogue_waits_for_the_welcome_screen(tmp_path: Path) -> None:
    with KioskService(_offline_settings(tmp_path), headless=True) as kiosk:
        first = demo_catalogue()
        kiosk.catalogue_sync.on_replica(first, None)  # type: ignore[misc]
        wait_for("the first catalogue", lambda: kiosk.catalogue_version == first.version, 10)
        kiosk.runtime.post(m.ChooseLanguage("en"))
        wait_for("a shopper", lambda: kiosk.engine.state is CheckoutState.SCANNING, 10)
        item = CatalogueItem("NEW", "New thing", "新品", Money.of("1.00", "CNY"), "drinks")
        second = CatalogueReplica([*first.items.values(), item], version="demo-2")
        kiosk.catalogue_sync.on_replica(second, None)  # type: ignore[misc]
        kiosk.runtime.post(m.Tick())
        wait_for("the tick handled", lambda: kiosk.runtime.handled >= 3, 10)
        assert kiosk.catalogue_version == first.version  # not while a shopper is at the lane
        kiosk.runtime.post(m.CancelTransaction())
        kiosk.runtime.post(m.ApprovePin("1111"))
        wait_for("the new catalogue after the shopper", lambda: kiosk.catalogue_version == "demo-2", 10)
        assert kiosk.view_models.lookup.catalogue is kiosk.engine.catalogue


def test_a_headless_kiosk_runs_without_importing_kivy(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from kiosk.service import KioskService\n"
        "from kiosk.settings import KioskSettings\n"
        f"s = KioskSettings.load(data_dir={str(tmp_path / 'k')!r}, store_id='s1', kiosk_id='kiosk-01',"
        " broker_host='127.0.0.1', broker_port=9, broker_password='x')\n"
        "with KioskService(s, headless=True) as k:\n"
        "    k.runtime.post(__import__('kiosk.checkout.model', fromlist=['x']).ChooseLanguage('en'))\n"
        "    import time; time.sleep(0.5)\n"
        "    print(k.engine.state.value, 'kivy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-2:] == ["scanning", "False"]


def _lane() -> tuple[object, LoopScheduler]:
    loop = LoopScheduler(poll_s=0.02, tick_s=0.2)
    lane = build_simulated_runtime(scheduler=loop)
    loop.every(0.02, lane.runtime.poll)
    loop.every(0.2, lane.runtime.tick)
    lane.runtime.start()
    loop.start()
    return lane, loop


def test_the_simulated_shopper_completes_sales_and_counts_them() -> None:
    lane, loop = _lane()
    try:
        stats = SimulatedShopper.for_lane(lane, seed=11, seconds_per_step=0.002, wait_s=10).run(sales=8)
    finally:
        loop.stop()
        lane.runtime.close()  # type: ignore[attr-defined]
    assert stats.sales_completed == 8 == len(lane.sale_sink.sales)  # type: ignore[attr-defined]
    assert stats.aborted == 0
    assert sum(stats.receipts.values()) == 8
    assert sum(stats.payments.values()) >= 8  # a split counts its parts too
    sold = sum(len(s.lines) for s in lane.sale_sink.sales)  # type: ignore[attr-defined]
    assert stats.items >= sold > 0


def test_the_same_seed_makes_the_same_shoppers() -> None:
    runs = []
    for _ in range(2):
        lane, loop = _lane()
        try:
            stats = SimulatedShopper.for_lane(lane, seed=4, seconds_per_step=0.002, wait_s=10).run(sales=4)
        finally:
            loop.stop()
            lane.runtime.close()  # type: ignore[attr-defined]
        runs.append((dict(stats.payments), dict(stats.receipts), stats.items, stats.members,
                     [s.total.minor for s in lane.sale_sink.sales]))  # type: ignore[attr-defined]
    assert runs[0] == runs[1]


def test_the_shopper_refuses_a_lane_with_real_devices() -> None:
    lane = build_simulated_runtime(scheduler=ImmediateScheduler())
    lane.devices.bag_scale = object()  # type: ignore[assignment]
    with pytest.raises(ShopperError):
        SimulatedShopper.for_lane(lane)
