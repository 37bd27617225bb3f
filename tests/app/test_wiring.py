"""The app wiring: device events reach the engine on the UI thread, effects reach the
devices, the sale is recorded durably before any receipt prints, receipts map the sale."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

import pytest

from kiosk.app_wiring import (
    DEMO_GTINS,
    DEMO_SHOP,
    ImmediateScheduler,
    SaleSink,
    SaleSinkError,
    SimulatedSaleSink,
    build_simulated_runtime,
    receipt_from_sale,
)
from kiosk.checkout import model as m
from kiosk.devices.light import LightState
from kiosk.devices.printer import PrinterOfflineError
from kiosk.payments import PaymentOutcome
from retail.clock import FakeClock


class QueueScheduler:
    """Holds work until the test runs it, as a UI thread's queue would."""

    def __init__(self) -> None:
        self.queue: deque[Callable[[], None]] = deque()
        self.lock = threading.Lock()

    def call_soon(self, fn: Callable[[], None]) -> None:
        with self.lock:
            self.queue.append(fn)

    def run_pending(self) -> int:
        done = 0
        while True:
            with self.lock:
                if not self.queue:
                    return done
                fn = self.queue.popleft()
            fn()
            done += 1


@pytest.fixture
def lane():  # noqa: ANN201
    built = build_simulated_runtime(clock=FakeClock(), scheduler=ImmediateScheduler(), print_in_background=False)
    built.runtime.start()
    yield built
    built.runtime.close()


def sell_one(lane, *, receipt: str = "print", finish: bool = True) -> None:  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    lane.devices.scanner.scan(DEMO_GTINS["COKE"])
    lane.devices.bag_scale.place(350)
    vm.scan.pay()
    vm.pay.pay_card()
    if lane.terminal.pending:
        lane.terminal.approve()
    vm.receipt.choose(receipt)
    if finish:
        vm.thank_you.finish()


def test_simulated_sink_is_a_sale_sink():
    assert isinstance(SimulatedSaleSink(), SaleSink)


def test_scans_from_another_thread_wait_for_the_ui_thread():
    scheduler = QueueScheduler()
    lane = build_simulated_runtime(clock=FakeClock(), scheduler=scheduler, print_in_background=False)
    lane.runtime.start()
    scheduler.run_pending()
    lane.runtime.view_models.welcome.start()
    scheduler.run_pending()
    engine_threads: list[str] = []
    lane.runtime.engine.subscribe(lambda _snap: engine_threads.append(threading.current_thread().name))
    scanner_thread = threading.Thread(target=lambda: lane.devices.scanner.scan(DEMO_GTINS["COKE"]), name="scanner")
    scanner_thread.start()
    scanner_thread.join()
    assert lane.runtime.engine.snapshot().lines == ()  # not yet: it waits for the UI thread
    assert scheduler.run_pending() >= 1
    assert lane.runtime.engine.snapshot().lines[0].sku == "COKE"
    assert engine_threads == [threading.current_thread().name]
    lane.runtime.close()


def test_effects_drive_the_light_drawer_and_beeper(lane):  # noqa: ANN001
    light = lane.devices.light
    vm = lane.runtime.view_models
    vm.welcome.start()
    lane.devices.scanner.scan(DEMO_GTINS["BEER"])
    assert light.state is LightState.ASSISTANCE and light.flashes == 1
    assert (0.2, 3, 0.1) in light.beeps  # the attention beep
    lane.runtime.post(m.ApprovePin("1111"))
    assert light.state is LightState.IDLE
    lane.devices.bag_scale.place(999)  # wrong weight for a beer: a bagging mismatch
    assert light.state is LightState.ASSISTANCE
    lane.devices.bag_scale.remove(999 - 520)
    lane.devices.bag_scale.place(300)  # unexpected item: the alarm
    assert light.state is LightState.ALARM
    lane.devices.bag_scale.remove(300)
    vm.scan.pay()
    vm.pay.pay_cash()
    lane.runtime.post(m.ApprovePin("1111"))
    assert lane.devices.drawer.kicks == 1 and lane.devices.drawer.is_open


def test_sale_is_recorded_before_the_receipt_prints_with_its_sequence_number(lane):  # noqa: ANN001
    order: list[str] = []
    sink = lane.sale_sink
    original = sink.record

    def record(sale):  # noqa: ANN001, ANN202
        order.append("record")
        return original(sale)

    sink.record = record
    printer = lane.devices.printer
    real_print = printer.print_receipt
    printer.print_receipt = lambda data: (order.append("print"), real_print(data))[1]
    sell_one(lane)
    sell_one(lane)
    assert order == ["record", "print", "record", "print"]
    assert [p.data.seq for p in printer.printed] == [1, 2]
    assert printer.printed[0].data.sale_id == sink.sales[0].sale_id


def test_a_sale_the_sink_refuses_gets_no_receipt_and_a_message(lane):  # noqa: ANN001
    lane.sale_sink.fail_next()
    sell_one(lane, finish=False)
    assert lane.devices.printer.printed == []
    assert lane.runtime.view_models.message_code in ("receipt_unavailable", "sale_not_saved")


def test_a_printer_fault_shows_a_message_and_the_sale_stays_recorded(lane):  # noqa: ANN001
    lane.devices.printer.unplug()
    sell_one(lane, finish=False)
    assert len(lane.sale_sink.sales) == 1
    assert lane.runtime.view_models.message_code == "receipt_unavailable"


def test_card_terminal_refusing_to_start_is_a_declined_payment(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.start()
    lane.devices.scanner.scan(DEMO_GTINS["COKE"])
    lane.devices.bag_scale.place(350)
    vm.scan.pay()
    lane.terminal.close()
    vm.pay.pay_card()
    assert not vm.pay.busy and vm.message_text == "Payment declined"


def test_receipt_maps_names_weights_savings_payments_and_member(lane):  # noqa: ANN001
    vm = lane.runtime.view_models
    vm.welcome.choose_language("zh_CN")
    vm.welcome.start()
    lane.devices.scanner.scan("TILLPI-MEMBER:M001", "QRCODE")
    lane.devices.scanner.scan(DEMO_GTINS["CHIPS"])
    lane.devices.bag_scale.place(80)
    vm.scan.look_up()
    vm.lookup.choose("APPLE")
    lane.devices.produce_scale.place(500)
    vm.weighing.add()
    lane.devices.bag_scale.place(500)
    vm.scan.pay()
    vm.pay.pay_stored_value()
    sale = lane.runtime.engine.snapshot().finished_sale
    assert sale is not None
    receipt = receipt_from_sale(
        sale, shop=DEMO_SHOP, kiosk_id="k1", seq=7,
        promotion_names=lane.runtime.promotion_names, member_phone="13812345678", member_points=5000,
    )
    assert receipt.language == "zh" and receipt.seq == 7
    assert [line.name for line in receipt.lines] == ["薯片", "富士苹果"]
    apples = receipt.lines[1]
    assert apples.weight_g == 500 and apples.price_per_kg.format() == "¥12.80"
    assert [(s.name, s.amount.format()) for s in receipt.savings] == [("薯片八折", "¥1.70")]
    assert receipt.payments[0].method.value == "stored_value"
    assert receipt.member.masked_id == "138****5678"


def test_close_is_idempotent_and_stops_scans(lane):  # noqa: ANN001
    lane.runtime.close()
    lane.runtime.close()
    assert lane.devices.scanner.on_scan is None
    assert lane.runtime.handle(m.Tick()) == ()


def test_auto_approving_simulators_complete_a_sale_without_a_person():
    lane = build_simulated_runtime(
        clock=FakeClock(), scheduler=ImmediateScheduler(), payment_auto=PaymentOutcome.APPROVED, print_in_background=False
    )
    with lane.runtime:
        sell_one(lane)
        assert len(lane.sale_sink.sales) == 1 and lane.runtime.errors == []


def test_sink_error_type_is_an_os_error():
    assert issubclass(SaleSinkError, OSError)
    with pytest.raises(PrinterOfflineError.__mro__[1]):
        raise PrinterOfflineError("x")
