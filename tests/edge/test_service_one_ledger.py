"""Every part of the edge service reads the same sales: what the ingest commits is seen by
stock, members' points, reports, refunds and the HQ outbox, with no copy in between."""

from __future__ import annotations

import random
from pathlib import Path

from broker.contract import Sale, encode, kiosk_topic
from broker.endpoint import MqttEndpoint
from edge.ingest import Inbound
from edge.service import EdgeService
from kiosk.simulated_seller import random_sale_draft
from retail.clock import FakeClock

from .conftest import STORE, edge_settings


def test_a_sale_taken_by_the_ingest_reaches_stock_points_reports_and_the_hq_outbox(tmp_path: Path) -> None:
    clock = FakeClock()
    nowhere = MqttEndpoint("127.0.0.1", 9, "edge", "unused")  # never started: no broker needed
    with EdgeService(edge_settings(tmp_path, nowhere), clock=clock) as edge:
        member = edge.member_store.create(name="Wang Fang", phone="13812345678", actor="test")
        draft = random_sale_draft(random.Random(11), store_id=STORE, kiosk_id="kiosk-01", clock=clock)
        draft = draft.model_copy(update={"member_id": member.id})
        sale = Sale.from_draft(draft, 1)

        [outcome] = edge.ingest_core.process([Inbound(kiosk_topic(STORE, "kiosk-01", "sale"), encode(sale))])
        assert outcome.decision == "accepted"

        line = sale.lines[0]
        level = edge.stock.on_hand(line.sku)
        sold = sum((x.quantity or 0) for x in sale.lines if x.sku == line.sku)
        grams = sum((x.weight_g or 0) for x in sale.lines if x.sku == line.sku)
        assert (level.units, level.grams) == (-sold, -grams)

        edge.accrual.run()
        assert edge.member_store.points_balance(member.id) > 0

        assert edge.refunds.find_sale(f"kiosk-01-{sale.seq}").sale_id == sale.sale_id
        assert edge.ledger.hq_outbox_count() == 1
