"""JSON API of stock: levels, moves, expiring batches, reorder, suppliers, purchase orders,
stocktakes and transfers.

The app (built elsewhere) puts a :class:`~edge.stock.service.StockService` on
``app.state.stock``. Permissions: pass ``permission`` — a factory turning a permission name
(``stock.view``, ``stock.edit``, ``stock.approve``) into a FastAPI dependency — to
:func:`routers`. Amounts are in each product's measure (pieces, or grams when sold by weight).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, Callable, Iterator

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import AwareDatetime, BaseModel, Field

from edge.stock.errors import (
    OrderStateError,
    OverReceiptError,
    StockError,
    StocktakeStateError,
    TransferConflictError,
    UnknownRecordError,
)
from edge.stock.service import ReceiptLine, StockService
from retail.errors import RetailError
from retail.money import Money

__all__ = ["PermissionFactory", "StockDep", "get_stock", "routers"]

PermissionFactory = Callable[[str], Callable[..., Any]]


def get_stock(request: Request) -> StockService:
    service = getattr(request.app.state, "stock", None)
    if service is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "stock is not available")
    return service


StockDep = Annotated[StockService, Depends(get_stock)]


@contextmanager
def http_errors() -> Iterator[None]:
    """Domain errors as HTTP answers: unknown → 404, state conflicts → 409, invalid → 422."""
    try:
        yield
    except UnknownRecordError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except (OrderStateError, StocktakeStateError, TransferConflictError, OverReceiptError) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except (StockError, RetailError) as exc:
        raise HTTPException(422, str(exc)) from None


class MoveIn(BaseModel):
    kind: str
    sku: str = Field(min_length=1, max_length=64)
    amount: int
    ref: str = Field(min_length=1, max_length=200)
    at: AwareDatetime | None = None


class SupplierIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    lead_time_days: int = Field(ge=0, le=365)
    contact: str = ""
    phone: str = ""
    email: str = ""


class OrderLineIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    amount: int = Field(gt=0)
    cost_minor: int = Field(ge=0)


class OrderIn(BaseModel):
    supplier_id: int
    lines: list[OrderLineIn] = Field(min_length=1)
    note: str = ""
    expected_on: date | None = None


class ReceiptLineIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    amount: int = Field(gt=0)
    lot: str = ""
    expires_on: date | None = None


class ReceiptIn(BaseModel):
    lines: list[ReceiptLineIn] = Field(min_length=1)
    at: AwareDatetime | None = None


class ReorderPointIn(BaseModel):
    reorder_point: int = Field(ge=0)
    order_up_to: int | None = Field(default=None, ge=0)
    supplier_id: int | None = None
    pack_size: int = Field(default=1, ge=1)


class StocktakeIn(BaseModel):
    note: str = ""
    count_at: AwareDatetime | None = None


class CountIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    amount: int = Field(ge=0)
    add: bool = False


class ScanIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    amount: int = Field(default=1, ge=1)


class ApproveIn(BaseModel):
    approved_by: str = Field(min_length=1, max_length=64)


class TransferIn(BaseModel):
    shop: str = Field(min_length=1, max_length=64)
    ref: str = Field(min_length=1, max_length=64)
    lines: dict[str, int] = Field(min_length=1)
    at: AwareDatetime | None = None


def _guard(permission: PermissionFactory | None, name: str) -> list[Any]:
    return [] if permission is None else [Depends(permission(name))]


def routers(*, permission: PermissionFactory | None = None) -> list[APIRouter]:
    """The stock routers, one per resource."""
    view = _guard(permission, "stock.view")
    edit = _guard(permission, "stock.edit")
    approve = _guard(permission, "stock.approve")

    levels = APIRouter(prefix="/api/stock/levels", tags=["stock"])

    @levels.get("", dependencies=view)
    def list_levels(stock: StockDep, sku: Annotated[list[str] | None, Query()] = None) -> list[dict[str, object]]:
        return [lv.to_dict() for lv in stock.levels(sku)]

    @levels.get("/low", dependencies=view)
    def low_stock(stock: StockDep) -> list[dict[str, object]]:
        return [dict(lv.to_dict(), reorder_point=point) for lv, point in stock.low_stock()]

    @levels.get("/{sku}", dependencies=view)
    def level(sku: str, stock: StockDep, at: AwareDatetime | None = None) -> dict[str, object]:
        return stock.on_hand(sku, at=at).to_dict()

    moves = APIRouter(prefix="/api/stock/moves", tags=["stock"])

    @moves.get("", dependencies=view)
    def list_moves(
        stock: StockDep, sku: str | None = None, kind: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200
    ) -> list[dict[str, object]]:
        return stock.moves(sku=sku, kind=kind, limit=limit)

    @moves.post("", status_code=status.HTTP_201_CREATED, dependencies=edit)
    def add_move(body: MoveIn, stock: StockDep) -> dict[str, object]:
        with http_errors():
            stock.record_move(body.kind, body.sku, body.amount, ref=body.ref, at=body.at)
        return stock.on_hand(body.sku).to_dict()

    expiring = APIRouter(prefix="/api/stock/expiring", tags=["stock"])

    @expiring.get("", dependencies=view)
    def list_expiring(stock: StockDep, within_days: Annotated[int, Query(ge=0, le=365)] = 3) -> list[dict[str, object]]:
        return [b.to_dict() for b in stock.expiring(within_days)]

    reorder = APIRouter(prefix="/api/stock/reorder", tags=["stock"])

    @reorder.get("", dependencies=view)
    def suggestions(stock: StockDep, cover_days: Annotated[int, Query(ge=0, le=365)] = 14) -> list[dict[str, object]]:
        return [s.to_dict() for s in stock.reorder_suggestions(cover_days=cover_days)]

    @reorder.put("/{sku}", dependencies=edit)
    def set_point(sku: str, body: ReorderPointIn, stock: StockDep) -> dict[str, object]:
        with http_errors():
            stock.set_reorder_point(sku, body.reorder_point, supplier_id=body.supplier_id, pack_size=body.pack_size, order_up_to=body.order_up_to)
        return {"sku": sku, **body.model_dump()}

    suppliers = APIRouter(prefix="/api/stock/suppliers", tags=["stock"])

    @suppliers.get("", dependencies=view)
    def list_suppliers(stock: StockDep) -> list[dict[str, object]]:
        return [s.to_dict() for s in stock.suppliers()]

    @suppliers.post("", status_code=status.HTTP_201_CREATED, dependencies=edit)
    def add_supplier(body: SupplierIn, stock: StockDep) -> dict[str, object]:
        with http_errors():
            sid = stock.add_supplier(body.name, lead_time_days=body.lead_time_days, contact=body.contact, phone=body.phone, email=body.email)
        return stock.supplier(sid).to_dict()

    @suppliers.get("/{supplier_id}", dependencies=view)
    def get_supplier(supplier_id: int, stock: StockDep) -> dict[str, object]:
        with http_errors():
            return stock.supplier(supplier_id).to_dict()

    orders = APIRouter(prefix="/api/stock/purchase-orders", tags=["stock"])

    @orders.get("", dependencies=view)
    def list_orders(stock: StockDep, status_: Annotated[str | None, Query(alias="status")] = None) -> list[dict[str, object]]:
        return [o.to_dict() for o in stock.purchase_orders(status_)]

    @orders.post("", status_code=status.HTTP_201_CREATED, dependencies=edit)
    def create_order(body: OrderIn, stock: StockDep) -> dict[str, object]:
        with http_errors():
            po = stock.create_purchase_order(
                body.supplier_id, [(l.sku, l.amount, Money(l.cost_minor, stock.currency)) for l in body.lines],
                note=body.note, expected_on=body.expected_on,
            )
            return stock.purchase_order(po).to_dict()

    @orders.get("/{po_id}", dependencies=view)
    def get_order(po_id: int, stock: StockDep) -> dict[str, object]:
        with http_errors():
            return stock.purchase_order(po_id).to_dict()

    @orders.post("/{po_id}/receipts", dependencies=edit)
    def receive(po_id: int, body: ReceiptIn, stock: StockDep) -> dict[str, object]:
        with http_errors():
            lines = [ReceiptLine(l.sku, l.amount, l.lot, l.expires_on) for l in body.lines]
            return stock.receive(po_id, lines, at=body.at).to_dict()

    @orders.post("/{po_id}/cancel", dependencies=edit)
    def cancel_order(po_id: int, stock: StockDep) -> dict[str, object]:
        with http_errors():
            return stock.cancel_purchase_order(po_id).to_dict()

    takes = APIRouter(prefix="/api/stock/stocktakes", tags=["stock"])

    @takes.get("", dependencies=view)
    def list_stocktakes(stock: StockDep) -> list[dict[str, object]]:
        return [t.to_dict() for t in stock.stocktakes()]

    @takes.post("", status_code=status.HTTP_201_CREATED, dependencies=edit)
    def open_stocktake(body: StocktakeIn, stock: StockDep) -> dict[str, object]:
        return stock.stocktake(stock.open_stocktake(note=body.note, count_at=body.count_at)).to_dict()

    @takes.get("/{stocktake_id}", dependencies=view)
    def get_stocktake(stocktake_id: int, stock: StockDep) -> dict[str, object]:
        with http_errors():
            return stock.stocktake(stocktake_id).to_dict()

    @takes.post("/{stocktake_id}/counts", dependencies=edit)
    def count(stocktake_id: int, body: CountIn, stock: StockDep) -> dict[str, object]:
        with http_errors():
            return {"sku": body.sku, "counted": stock.record_count(stocktake_id, body.sku, body.amount, add=body.add)}

    @takes.post("/{stocktake_id}/scans", dependencies=edit)
    def scan(stocktake_id: int, body: ScanIn, stock: StockDep) -> dict[str, object]:
        with http_errors():
            sku, counted = stock.record_scan(stocktake_id, body.code, amount=body.amount)
        return {"sku": sku, "counted": counted}

    @takes.get("/{stocktake_id}/variance", dependencies=view)
    def variance(stocktake_id: int, stock: StockDep) -> list[dict[str, object]]:
        with http_errors():
            return [line.to_dict() for line in stock.variance(stocktake_id)]

    @takes.post("/{stocktake_id}/approve", dependencies=approve)
    def approve_take(stocktake_id: int, body: ApproveIn, stock: StockDep) -> list[dict[str, object]]:
        with http_errors():
            return [line.to_dict() for line in stock.approve_stocktake(stocktake_id, approved_by=body.approved_by)]

    @takes.post("/{stocktake_id}/cancel", dependencies=edit)
    def cancel_take(stocktake_id: int, stock: StockDep) -> dict[str, object]:
        with http_errors():
            stock.cancel_stocktake(stocktake_id)
            return stock.stocktake(stocktake_id).to_dict()

    transfers = APIRouter(prefix="/api/stock/transfers", tags=["stock"])

    @transfers.get("", dependencies=view)
    def list_transfers(stock: StockDep) -> list[dict[str, object]]:
        return [t.to_dict() for t in stock.transfers()]

    @transfers.post("", status_code=status.HTTP_201_CREATED, dependencies=edit)
    def send(body: TransferIn, stock: StockDep) -> dict[str, object]:
        with http_errors():
            return stock.transfer_out(body.shop, body.lines, ref=body.ref, at=body.at).to_dict()

    @transfers.post("/incoming", status_code=status.HTTP_201_CREATED, dependencies=edit)
    def receive_transfer(body: TransferIn, stock: StockDep) -> dict[str, object]:
        with http_errors():
            return stock.transfer_in(body.shop, body.lines, ref=body.ref, at=body.at).to_dict()

    return [levels, moves, expiring, reorder, suppliers, orders, takes, transfers]
