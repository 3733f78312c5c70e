"""Fulfilment and inventory REST API (mount with `api.add_router("/", router)`): thin handlers."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from ninja import Path, Router, Schema, Status
from pydantic import Field

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.catalog.models import Sku
from orderhub.core.errors import NotFound, PermissionDenied
from orderhub.core.schemas import error_responses
from orderhub.inventory.models import StockAdjustment, Warehouse
from orderhub.inventory.services import stock_adjust

MAX_ID = 2**63 - 1
STOCK_ROLES = frozenset({Role.WAREHOUSE, Role.MANAGER, Role.ADMIN})
FULFIL_ROLES = frozenset({Role.WAREHOUSE, Role.LOGISTICS, Role.CUSTOMER_SERVICE, Role.MANAGER, Role.ADMIN})


def _actor(request: HttpRequest, roles: frozenset[str]) -> User:
    user = cast(User, request.auth)  # type: ignore[attr-defined]
    if not user.role_names & roles:
        raise PermissionDenied("您的角色不能执行此操作")
    return user


class AdjustmentIn(Schema):
    warehouse: str = Field(description="Warehouse code", examples=["HZ"])
    sku: str = Field(description="SKU code", examples=["BP-2231"])
    kind: StockAdjustment.Kind = Field(description="receipt: +quantity; count: on hand := quantity")
    quantity: int = Field(ge=0, le=10_000_000)
    note: str = Field(default="", max_length=255)


class AdjustmentOut(Schema):
    id: int
    warehouse: str
    sku: str
    kind: str
    quantity: int
    on_hand: int
    reserved: int
    ledger_id: int


class StockOut(Schema):
    warehouse: str
    sku: str
    on_hand: int
    reserved: int
    available: int
    bin_location: str


class AllocateIn(Schema):
    warehouse: str | None = Field(default=None, description="Force this warehouse (code)")


class AllocateOut(Schema):
    order_id: int
    order_no: str
    status: str
    allocated: bool
    warehouse: str | None
    details: dict


def build_router() -> Router:
    """A fresh router (a ninja Router attaches to one API only; tests mount their own)."""
    router = Router(tags=["fulfilment"])

    @router.post(
        "/inventory/adjustments",
        response={201: AdjustmentOut, **error_responses(401, 403, 404, 409, 422)},
        summary="Receive stock or record a stock count (ledgered)",
        operation_id="stock_adjust",
    )
    def adjust(request: HttpRequest, payload: AdjustmentIn) -> Status[AdjustmentOut]:
        actor = _actor(request, STOCK_ROLES)
        wh = Warehouse.objects.filter(code=payload.warehouse).first()
        if wh is None:
            raise NotFound(f"仓库「{payload.warehouse}」不存在", field="warehouse")
        sku = Sku.objects.filter(code=payload.sku).first()
        if sku is None:
            raise NotFound(f"商品「{payload.sku}」不存在", field="sku")
        adj = stock_adjust(
            warehouse=wh,
            sku=sku,
            kind=payload.kind.value,
            quantity=payload.quantity,
            actor=actor,
            note=payload.note,
        )
        stock = adj.movement.stock
        stock.refresh_from_db()
        return Status(
            201,
            AdjustmentOut(
                id=adj.pk,
                warehouse=wh.code,
                sku=sku.code,
                kind=adj.kind,
                quantity=adj.quantity,
                on_hand=stock.on_hand,
                reserved=stock.reserved,
                ledger_id=adj.movement_id,
            ),
        )

    @router.get(
        "/inventory/stock/{sku}",
        response={200: list[StockOut], **error_responses(401, 403)},
        summary="Stock of one SKU in every warehouse",
        operation_id="stock_of_sku",
    )
    def stock_of(request: HttpRequest, sku: str) -> list[StockOut]:
        from orderhub.inventory.models import Stock

        _actor(request, FULFIL_ROLES)
        rows = Stock.objects.filter(sku__code=sku).select_related("warehouse").order_by("warehouse__code")
        return [
            StockOut(
                warehouse=s.warehouse.code,
                sku=sku,
                on_hand=s.on_hand,
                reserved=s.reserved,
                available=s.available,
                bin_location=s.bin_location,
            )
            for s in rows
        ]

    @router.post(
        "/fulfilment/orders/{id}/allocate",
        response={200: AllocateOut, **error_responses(401, 403, 404, 409, 422)},
        summary="Allocate an order to a warehouse and reserve its stock (分仓)",
        operation_id="order_allocate",
    )
    def allocate(
        request: HttpRequest, payload: AllocateIn, id: int = Path(..., ge=1, le=MAX_ID)
    ) -> AllocateOut:
        from orderhub.fulfilment.allocation import order_allocate

        actor = _actor(request, FULFIL_ROLES)
        wh_id = None
        if payload.warehouse:
            wh = Warehouse.objects.filter(code=payload.warehouse).first()
            if wh is None:
                raise NotFound(f"仓库「{payload.warehouse}」不存在", field="warehouse")
            wh_id = wh.pk
        r = order_allocate(order_id=id, actor=actor, warehouse_id=wh_id)
        return AllocateOut(
            order_id=r.order.pk,
            order_no=r.order.order_no,
            status=r.order.status,
            allocated=r.allocated,
            warehouse=r.warehouse.code if r.warehouse else None,
            details=r.details,
        )

    return router


router = build_router()
