"""From a finished checkout to the journal: the bus contract's :class:`SaleDraft`, recorded
in the kiosk's sale outbox before anything is printed or published.

:class:`OutboxSaleSink` is the real ``SaleSink``: ``record(finished)`` returns only after the
sale and its sequence number are committed to the SQLite journal (WAL, synchronous=FULL).
"""

from __future__ import annotations

import logging
from datetime import tzinfo, timezone

from broker.contract import Approval, LineSaving, Payment, Sale, SaleDraft, SaleLine, SaleTotals
from kiosk.checkout.sale import FinishedSale
from kiosk.checkout.sale import SaleLine as CheckoutLine
from kiosk.errors import KioskError
from kiosk.outbox.journal import SaleOutbox
from kiosk.payments import Tender

__all__ = ["OutboxSaleSink", "SaleMappingError", "draft_from_finished"]

log = logging.getLogger(__name__)

_METHODS = {
    Tender.CARD: "card",
    Tender.MOBILE_QR: "mobile",
    Tender.CASH: "cash",
    Tender.STORED_VALUE: "stored_value",
    Tender.POINTS: "points",
}


class SaleMappingError(KioskError, ValueError):
    """A finished sale does not add up as the bus contract requires (a bug, never a guess)."""


def _line(line: CheckoutLine) -> SaleLine:
    savings = [LineSaving(promotion_id=pid[:64], amount_minor=amount.minor) for pid, amount in line.savings if amount.minor]
    common = dict(
        sku=line.sku,
        gtin=line.gtin,
        name=line.name_en[:120],
        gross_minor=line.gross.minor,
        savings=savings,
        net_minor=line.net.minor,
        tax_rate_bp=line.tax_rate_bp,
        tax_minor=line.tax.minor,
    )
    if line.kind == "label_price":
        # the price is printed on the label: one piece at that price
        return SaleLine(quantity=1, unit_price_minor=line.gross.minor, **common)
    if line.weight_g is not None and line.kind in ("weighed", "label_weight"):
        return SaleLine(weight_g=line.weight_g, unit_price_minor=line.unit_price.minor, **common)
    return SaleLine(quantity=line.quantity, unit_price_minor=line.unit_price.minor, **common)


def draft_from_finished(
    sale: FinishedSale,
    *,
    kiosk_id: str,
    clock_synced: bool,
    shop_timezone: tzinfo = timezone.utc,
) -> SaleDraft:
    """The contract's draft of ``sale``; its business date is the shop-local date it finished."""
    try:
        lines = [_line(line) for line in sale.lines]
        # cash is recorded as tendered; the change handed back is its own field
        payments = [
            Payment(
                method=_METHODS[p.tender],
                amount_minor=(p.tendered if p.tender is Tender.CASH and p.tendered is not None else p.amount).minor,
                reference=(p.reference or p.payment_id)[:64],
            )
            for p in sale.payments
            if p.amount.minor > 0
        ]
        approvals = [
            Approval(
                who=a.staff_id[:64],
                what=(a.reason.value if a.approved else f"{a.reason.value}:refused")[:64],
                why=a.why,
                at=a.at,
            )
            for a in sale.approvals
        ]
        totals = SaleTotals(
            subtotal_minor=sum(x.gross_minor for x in lines),
            savings_minor=sum(x.savings_minor for x in lines),
            total_minor=sum(x.net_minor for x in lines),
            tax_minor=sum(x.tax_minor for x in lines),
        )
        if totals.total_minor != sale.total.minor:
            raise SaleMappingError(f"sale {sale.sale_id}: lines add up to {totals.total_minor}, checkout total is {sale.total.minor}")
        return SaleDraft(
            sale_id=sale.sale_id,
            store_id=sale.store_id,
            kiosk_id=kiosk_id,
            business_date=sale.finished_at.astimezone(shop_timezone).date(),
            started_at=sale.started_at,
            finished_at=sale.finished_at,
            clock_synced=clock_synced,
            currency=sale.currency,
            catalogue_version=str(sale.catalogue_version)[:64],
            lines=lines,
            totals=totals,
            payments=payments,
            change_minor=sale.change.minor,
            cash_rounding_minor=sale.cash_rounding.minor,
            member_id=sale.member_id,
            approvals=approvals,
        )
    except SaleMappingError:
        raise
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise SaleMappingError(f"sale {sale.sale_id} does not fit the bus contract: {exc}") from exc


class OutboxSaleSink:
    """Records finished sales in the kiosk's journal (the durable step before the receipt)."""

    def __init__(
        self,
        outbox: SaleOutbox,
        *,
        kiosk_id: str,
        clock_synced: bool = True,
        shop_timezone: tzinfo = timezone.utc,
    ) -> None:
        self._outbox = outbox
        self._kiosk_id = kiosk_id
        self._clock_synced = clock_synced
        self._tz = shop_timezone

    def record(self, sale: FinishedSale) -> int:
        """The ``SaleSink`` port: returns the journal's sequence number once committed."""
        return self.record_sale(sale).seq

    def record_sale(self, sale: FinishedSale) -> Sale:
        """Record ``sale`` and return it as the bus will carry it (numbered and hashed)."""
        draft = draft_from_finished(sale, kiosk_id=self._kiosk_id, clock_synced=self._clock_synced, shop_timezone=self._tz)
        recorded = self._outbox.record_sale(draft)
        log.info("sale %s recorded as seq %d", recorded.sale_id, recorded.seq)
        return recorded
