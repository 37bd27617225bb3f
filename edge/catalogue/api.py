"""JSON API of the catalogue: products, categories, import (preview → confirm), export.

The app (built elsewhere) puts the services on ``app.state``: ``catalogue`` (a
:class:`~edge.catalogue.store.CatalogueStore`) and optionally ``catalogue_import`` (an
:class:`~edge.catalogue.importing.ImportService`; made on first use otherwise). Permissions:
pass ``permission`` — a factory that turns a permission name (``catalogue.view``,
``catalogue.edit``, ``catalogue.import``) into a FastAPI dependency, such as the staff
component's ``require_permission`` — to :func:`routers`.

Uploads are the raw request body (``Content-Type`` of the file; no multipart needed):
``POST /api/catalogue/import?format=csv`` with the CSV bytes.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Annotated, Any, Callable, Iterator, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from edge.catalogue.errors import (
    CatalogueStoreError,
    DuplicateProductError,
    ImportRejectedError,
    StalePreviewError,
    UnknownPreviewError,
    UnknownProductError,
)
from edge.catalogue.importing import ImportService, export_csv, export_xlsx
from edge.catalogue.model import Category, Product
from edge.catalogue.store import CatalogueStore
from retail.barcodes import normalize_gtin
from retail.catalogue import SoldBy
from retail.errors import RetailError
from retail.money import Money

__all__ = ["CatalogueDep", "ImportDep", "PermissionFactory", "get_catalogue", "get_import_service", "routers"]

PermissionFactory = Callable[[str], Callable[..., Any]]
_MAX_UPLOAD = 64 * 1024 * 1024
_state_lock = threading.Lock()


def get_catalogue(request: Request) -> CatalogueStore:
    store = getattr(request.app.state, "catalogue", None)
    if store is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the catalogue is not available")
    return store


def get_import_service(request: Request, store: Annotated[CatalogueStore, Depends(get_catalogue)]) -> ImportService:
    with _state_lock:
        service = getattr(request.app.state, "catalogue_import", None)
        if service is None:
            service = ImportService(store)
            request.app.state.catalogue_import = service
    return service


CatalogueDep = Annotated[CatalogueStore, Depends(get_catalogue)]
ImportDep = Annotated[ImportService, Depends(get_import_service)]


@contextmanager
def http_errors() -> Iterator[None]:
    """Domain errors as HTTP answers: unknown → 404, conflicts → 409, invalid → 422."""
    try:
        yield
    except (UnknownProductError, UnknownPreviewError) as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except (DuplicateProductError, StalePreviewError, ImportRejectedError) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except (CatalogueStoreError, RetailError) as exc:
        raise HTTPException(422, str(exc)) from None


class ProductIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1, max_length=200)
    name_zh: str = Field(min_length=1, max_length=200)
    category: str
    price_minor: int = Field(ge=0)
    cost_minor: int | None = Field(default=None, ge=0)
    gtins: list[str] = []
    plu: str | None = None
    tax_class: str = "standard"
    sold_by: Literal["unit", "weight"] = "unit"
    min_age: int = Field(default=0, ge=0, le=99)
    unit_weight_g: int | None = Field(default=None, ge=0)
    weight_tolerance_g: int = Field(default=20, ge=0)
    picture: str | None = None
    active: bool = True

    def to_product(self, store: CatalogueStore) -> Product:
        taxes = store.tax_classes()
        if self.tax_class not in taxes:
            raise HTTPException(422, f"unknown tax class {self.tax_class!r}")
        cur = store.currency
        with http_errors():
            return Product(
                sku=self.sku, name_en=self.name_en, name_zh=self.name_zh, category=self.category,
                price=Money(self.price_minor, cur), cost_price=None if self.cost_minor is None else Money(self.cost_minor, cur),
                gtins=tuple(normalize_gtin(g) for g in self.gtins), plu=self.plu, tax_class=taxes[self.tax_class],
                sold_by=SoldBy(self.sold_by), min_age=self.min_age, unit_weight_g=self.unit_weight_g,
                weight_tolerance_g=self.weight_tolerance_g, picture=self.picture, active=self.active,
            )


class PriceIn(BaseModel):
    price_minor: int = Field(ge=0)
    cost_minor: int | None = Field(default=None, ge=0)


class CategoryIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    parent: str | None = None
    sort: int = 0


class _Progress:
    """Progress of running imports, by a job id the client chooses (for its progress bar)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, dict[str, object]] = {}

    def callback(self, job: str | None, phase: str) -> Callable[[int, int], None] | None:
        if not job:
            return None

        def report(done: int, total: int) -> None:
            with self._lock:
                self._jobs[job] = {"job": job, "phase": phase, "done": done, "total": total}
                while len(self._jobs) > 64:
                    self._jobs.pop(next(iter(self._jobs)))

        report(0, 0)
        return report

    def get(self, job: str) -> dict[str, object] | None:
        with self._lock:
            return self._jobs.get(job)


def _guard(permission: PermissionFactory | None, name: str) -> list[Any]:
    return [] if permission is None else [Depends(permission(name))]


def routers(*, permission: PermissionFactory | None = None) -> list[APIRouter]:
    """The catalogue's routers: products, categories, import, export."""
    view = _guard(permission, "catalogue.view")
    edit = _guard(permission, "catalogue.edit")
    imp = _guard(permission, "catalogue.import")
    progress = _Progress()

    products = APIRouter(prefix="/api/catalogue/products", tags=["catalogue"])

    @products.get("", dependencies=view)
    def list_products(
        store: CatalogueDep,
        q: str = "",
        category: str | None = None,
        active: bool | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, object]:
        return {
            "total": store.count(q, category=category, active=active),
            "version": store.version(),
            "items": [p.to_dict() for p in store.search(q, category=category, active=active, limit=limit, offset=offset)],
        }

    @products.get("/{sku}", dependencies=view)
    def get_product(sku: str, store: CatalogueDep) -> dict[str, object]:
        with http_errors():
            return store.get(sku).to_dict()

    @products.post("", status_code=status.HTTP_201_CREATED, dependencies=edit)
    def create_product(body: ProductIn, store: CatalogueDep) -> dict[str, object]:
        product = body.to_product(store)
        with http_errors():
            version = store.create(product)
        return {"version": version, "product": store.get(product.sku).to_dict()}

    @products.put("/{sku}", dependencies=edit)
    def update_product(sku: str, body: ProductIn, store: CatalogueDep) -> dict[str, object]:
        if body.sku != sku:
            raise HTTPException(422, "the SKU in the path and the body differ")
        product = body.to_product(store)
        with http_errors():
            version = store.update(product)
        return {"version": version, "product": store.get(sku).to_dict()}

    @products.patch("/{sku}/price", dependencies=edit)
    def update_price(sku: str, body: PriceIn, store: CatalogueDep) -> dict[str, object]:
        cur = store.currency
        with http_errors():
            version = store.update_price(
                sku, Money(body.price_minor, cur), cost_price=None if body.cost_minor is None else Money(body.cost_minor, cur)
            )
            return {"version": version, "product": store.get(sku).to_dict()}

    categories = APIRouter(prefix="/api/catalogue/categories", tags=["catalogue"])

    @categories.get("", dependencies=view)
    def list_categories(store: CatalogueDep) -> list[dict[str, object]]:
        return [dict(zip(("code", "name_en", "name_zh", "parent", "sort"), c.row())) for c in store.categories()]

    @categories.post("", status_code=status.HTTP_201_CREATED, dependencies=edit)
    def put_category(body: CategoryIn, store: CatalogueDep) -> dict[str, object]:
        with http_errors():
            version = store.put_category(Category(body.code, body.name_en, body.name_zh, body.parent, body.sort))
        return {"version": version}

    importing = APIRouter(prefix="/api/catalogue/import", tags=["catalogue"])

    @importing.post("", dependencies=imp)
    async def upload(
        request: Request, service: ImportDep, format: Literal["csv", "xlsx"] = "csv", job: str | None = None
    ) -> dict[str, object]:
        data = await request.body()
        if len(data) > _MAX_UPLOAD:
            raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "file too large")
        def work() -> dict[str, object]:
            with http_errors():
                return service.preview(data, format, progress=progress.callback(job, "checking")).to_dict()

        return await run_in_threadpool(work)

    @importing.get("/progress/{job}", dependencies=imp)
    def import_progress(job: str) -> dict[str, object]:
        found = progress.get(job)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no import job {job!r}")
        return found

    @importing.get("/{token}", dependencies=imp)
    def get_preview(token: str, service: ImportDep) -> dict[str, object]:
        with http_errors():
            return service.get_preview(token).to_dict()

    @importing.post("/{token}/confirm", dependencies=imp)
    def confirm(token: str, service: ImportDep, skip_invalid: bool = False, job: str | None = None) -> dict[str, object]:
        with http_errors():
            return service.confirm(token, skip_invalid=skip_invalid, progress=progress.callback(job, "importing")).to_dict()

    @importing.delete("/{token}", status_code=status.HTTP_204_NO_CONTENT, dependencies=imp)
    def discard(token: str, service: ImportDep) -> Response:
        service.discard(token)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    exporting = APIRouter(prefix="/api/catalogue/export", tags=["catalogue"])

    @exporting.get("", dependencies=view)
    def export(store: CatalogueDep, format: Literal["csv", "xlsx"] = "csv") -> Response:
        items = store.all_products()
        if format == "csv":
            return Response(
                export_csv(items), media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="products.csv"'},
            )
        return Response(
            export_xlsx(items),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="products.xlsx"'},
        )

    return [products, categories, importing, exporting]
