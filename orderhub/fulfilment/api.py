"""Fulfilment and inventory REST API (mounted on /api/ by orderhub/api.py): thin handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router, Schema, Status
from pydantic import Field

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.catalog.models import Sku
from orderhub.core.errors import NotFound, PermissionDenied
from orderhub.core.schemas import error_responses
from orderhub.inventory.models import StockAdjustment, Warehouse
from orderhub.inventory.services import stock_adjust
from orderhub.orders.schemas import Code32, Code64, Str255

if TYPE_CHECKING:
    from orderhub.fulfilment.allocation import AllocationResult

MAX_ID = 2**63 - 1
# An id that fits the database's bigint: larger ones are refused (422) before any query.
OrderId = Annotated[int, Field(ge=1, le=MAX_ID)]
PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "A PDF document",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}
STOCK_ROLES = frozenset({Role.WAREHOUSE, Role.MANAGER, Role.ADMIN})
FULFIL_ROLES = frozenset({Role.WAREHOUSE, Role.LOGISTICS, Role.CUSTOMER_SERVICE, Role.MANAGER, Role.ADMIN})


def _actor(request: HttpRequest, roles: frozenset[str]) -> User:
    user = cast(User, request.auth)  # type: ignore[attr-defined]
    if not user.role_names & roles:
        raise PermissionDenied("您的角色不能执行此操作")
    return user


class AdjustmentIn(Schema):
    warehouse: Code32 = Field(description="Warehouse code", examples=["HZ"])
    sku: Code64 = Field(description="SKU code", examples=["BP-2231"])
    kind: StockAdjustment.Kind = Field(description="receipt: +quantity; count: on hand := quantity")
    quantity: int = Field(ge=0, le=10_000_000)
    note: Str255 = ""


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
    warehouse: Code32 | None = Field(default=None, description="Force this warehouse (code)")


class AllocateOut(Schema):
    order_id: int
    order_no: str
    status: str
    allocated: bool
    warehouse: str | None
    details: dict


class AllocationWaveIn(Schema):
    order_ids: list[OrderId] | None = Field(
        default=None, min_length=1, max_length=1000, description="These orders; omit for the next ones"
    )
    limit: int = Field(default=200, ge=1, le=1000, description="Without order_ids: how many of the next")


class WaveSkippedOut(Schema):
    order_id: int
    code: str
    message: str


class AllocationWaveOut(Schema):
    allocated: list[AllocateOut]
    held: list[AllocateOut]
    skipped: list[WaveSkippedOut]


def _allocate_out(r: AllocationResult) -> AllocateOut:
    return AllocateOut(
        order_id=r.order.pk,
        order_no=r.order.order_no,
        status=r.order.status,
        allocated=r.allocated,
        warehouse=r.warehouse.code if r.warehouse else None,
        details=r.details,
    )


def build_router() -> Router:
    """The router (a ninja Router attaches to one API only: build a fresh one for another API)."""
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
    def stock_of(request: HttpRequest, sku: Code64) -> list[StockOut]:
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
        return _allocate_out(order_allocate(order_id=id, actor=actor, warehouse_id=wh_id))

    @router.post(
        "/fulfilment/allocation-waves",
        response={200: AllocationWaveOut, **error_responses(401, 403, 409, 422)},
        summary="Allocate a wave: the given orders, or the next ones waiting in 已拆单 (分仓波次)",
        operation_id="orders_allocate",
    )
    def allocation_wave(request: HttpRequest, payload: AllocationWaveIn) -> AllocationWaveOut:
        from orderhub.fulfilment.allocation import orders_allocate

        actor = _actor(request, FULFIL_ROLES)
        if payload.order_ids is not None:
            wave = orders_allocate(order_ids=payload.order_ids, actor=actor)
        else:
            wave = orders_allocate(limit=payload.limit, actor=actor)
        return AllocationWaveOut(
            allocated=[_allocate_out(r) for r in wave.allocated],
            held=[_allocate_out(r) for r in wave.held],
            skipped=[WaveSkippedOut(order_id=i, code=e.code, message=e.message) for i, e in wave.skipped],
        )

    _more_routes(router)
    return router


class ReviewOut(Schema):
    order_id: int
    status: str
    approved: bool
    verdicts: list[dict]


class SplitIn(Schema):
    parts: list[dict[int, int]] | None = Field(
        default=None,
        description="Manual split: one {line_no: quantity} per part; omit to apply the split rules",
    )


class SplitOut(Schema):
    order_id: int
    parts: list[str]
    details: dict


class WaybillsIn(Schema):
    order_ids: list[OrderId] = Field(min_length=1, max_length=5000)


class WaybillOutcomeOut(Schema):
    order_id: int
    order_no: str
    ok: bool
    number: str
    carrier: str
    error: str


class VoidIn(Schema):
    reason: Str255 = Field(min_length=1)


class WaveIn(Schema):
    warehouse: Code32
    order_ids: list[OrderId] | None = Field(default=None, max_length=5000)


class WaveOut(Schema):
    id: int
    code: str
    orders: int


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _more_routes(router: Router) -> None:
    from dataclasses import asdict

    from orderhub.fulfilment.carriers import carrier_rules_dry_run
    from orderhub.fulfilment.labels import labels_print, packing_cards_pdf, picklist_pdf, wave_create
    from orderhub.fulfilment.models import Wave
    from orderhub.fulfilment.review import RULES, order_auto_review, review_rule_dry_run
    from orderhub.fulfilment.split import order_split, order_split_manual
    from orderhub.fulfilment.waybills import waybill_void, waybills_issue

    @router.post(
        "/fulfilment/orders/{id}/review",
        response={200: ReviewOut, **error_responses(401, 403, 404, 422)},
        summary="Run the automatic review rules now (自动审单)",
        operation_id="order_auto_review",
    )
    def review(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)) -> ReviewOut:
        _actor(request, FULFIL_ROLES)
        r = order_auto_review(order_id=id)
        return ReviewOut(
            order_id=id, status=r.order.status, approved=r.approved, verdicts=[asdict(v) for v in r.verdicts]
        )

    @router.post(
        "/fulfilment/orders/{id}/split",
        response={200: SplitOut, **error_responses(401, 403, 404, 422)},
        summary="Split by the rules, or by hand with `parts` (拆单)",
        operation_id="order_split",
    )
    def split(request: HttpRequest, payload: SplitIn, id: int = Path(..., ge=1, le=MAX_ID)) -> SplitOut:
        actor = _actor(request, FULFIL_ROLES)
        if payload.parts:
            r = order_split_manual(order_id=id, parts=payload.parts, actor=actor)
        else:
            r = order_split(order_id=id)
        return SplitOut(order_id=id, parts=[p.order_no for p in r.parts], details=r.details)

    @router.post(
        "/fulfilment/waybills",
        response={200: list[WaybillOutcomeOut], **error_responses(401, 403, 422)},
        summary="Obtain e-waybills for orders in 分仓中 (→ 已打单)",
        operation_id="waybills_issue",
    )
    def waybills(request: HttpRequest, payload: WaybillsIn) -> list[WaybillOutcomeOut]:
        actor = _actor(request, FULFIL_ROLES)
        return [
            WaybillOutcomeOut(
                order_id=o.order_id,
                order_no=o.order_no,
                ok=o.ok,
                number=o.number,
                carrier=o.carrier,
                error=o.error,
            )
            for o in waybills_issue(order_ids=payload.order_ids, actor=actor)
        ]

    @router.post(
        "/fulfilment/orders/{id}/void-waybill",
        response={200: dict, **error_responses(401, 403, 404, 422)},
        summary="Void the live waybill (作废面单; stock stays reserved)",
        operation_id="waybill_void",
    )
    def void(request: HttpRequest, payload: VoidIn, id: int = Path(..., ge=1, le=MAX_ID)) -> dict:
        wb = waybill_void(order_id=id, actor=_actor(request, FULFIL_ROLES), reason=payload.reason)
        return {"number": wb.number, "status": wb.status}

    @router.get(
        "/fulfilment/orders/{id}/label.pdf",
        response={200: None, **error_responses(401, 403, 404, 422)},
        openapi_extra=PDF_RESPONSE,
        summary="The order's label (logged; a second print is a reprint)",
        operation_id="order_label_pdf",
    )
    def label(
        request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID), reason: Str255 = ""
    ) -> HttpResponse:
        job = labels_print(order_ids=[id], actor=_actor(request, FULFIL_ROLES), reason=reason)
        return _pdf(job.pdf, f"label-{id}.pdf")

    @router.post(
        "/fulfilment/waves",
        response={201: WaveOut, **error_responses(401, 403, 404, 422)},
        summary="Create a pick wave for a warehouse",
        operation_id="wave_create",
    )
    def wave_new(request: HttpRequest, payload: WaveIn) -> Status[WaveOut]:
        actor = _actor(request, FULFIL_ROLES)
        wh = Warehouse.objects.filter(code=payload.warehouse).first()
        if wh is None:
            raise NotFound(f"仓库「{payload.warehouse}」不存在", field="warehouse")
        w = wave_create(warehouse_id=wh.pk, actor=actor, order_ids=payload.order_ids)
        return Status(201, WaveOut(id=w.pk, code=w.code, orders=w.orders.count()))

    def _wave(wave_id: int) -> Wave:
        w = Wave.objects.select_related("warehouse").filter(pk=wave_id).first()
        if w is None:
            raise NotFound(f"波次 {wave_id} 不存在", field="wave_id")
        return w

    @router.get(
        "/fulfilment/waves/{wave_id}/labels.pdf",
        response={200: None, **error_responses(401, 403, 404, 422)},
        openapi_extra=PDF_RESPONSE,
        summary="All labels of a wave as one PDF",
        operation_id="wave_labels_pdf",
    )
    def wave_labels(
        request: HttpRequest, wave_id: int = Path(..., ge=1, le=MAX_ID), reason: Str255 = ""
    ) -> HttpResponse:
        w = _wave(wave_id)
        job = labels_print(wave=w, actor=_actor(request, FULFIL_ROLES), reason=reason)
        return _pdf(job.pdf, f"labels-{w.code}.pdf")

    @router.get(
        "/fulfilment/waves/{wave_id}/picklist.pdf",
        response={200: None, **error_responses(401, 403, 404, 422)},
        openapi_extra=PDF_RESPONSE,
        summary="Pick list of a wave, sorted by bin",
        operation_id="wave_picklist_pdf",
    )
    def wave_picklist(request: HttpRequest, wave_id: int = Path(..., ge=1, le=MAX_ID)) -> HttpResponse:
        _actor(request, FULFIL_ROLES)
        w = _wave(wave_id)
        return _pdf(picklist_pdf(w), f"picklist-{w.code}.pdf")

    @router.get(
        "/fulfilment/waves/{wave_id}/packing-cards.pdf",
        response={200: None, **error_responses(401, 403, 404, 422)},
        openapi_extra=PDF_RESPONSE,
        summary="Packing guidance cards of a wave",
        operation_id="wave_packing_cards_pdf",
    )
    def wave_cards(request: HttpRequest, wave_id: int = Path(..., ge=1, le=MAX_ID)) -> HttpResponse:
        _actor(request, FULFIL_ROLES)
        w = _wave(wave_id)
        return _pdf(packing_cards_pdf(list(w.orders.order_by("pk"))), f"cards-{w.code}.pdf")

    @router.get(
        "/fulfilment/review-rules/{rule}/dry-run",
        response={200: dict, **error_responses(401, 403, 404)},
        summary="Which of the last N days' orders this review rule would have held",
        operation_id="review_dry_run",
    )
    def review_dry_run(request: HttpRequest, rule: Code64, days: int = 7) -> dict:
        _actor(request, FULFIL_ROLES)
        if rule not in RULES:
            raise NotFound(f"审单规则「{rule}」不存在", field="rule")
        checked, held = review_rule_dry_run(rule=rule, days=max(1, min(days, 90)))
        return {"checked": checked, "held": [{"order_no": h.order_no, "detail": h.detail} for h in held]}

    @router.get(
        "/fulfilment/carrier-rules/dry-run",
        response={200: dict, **error_responses(401, 403)},
        summary="Which carrier each of the last N days' orders would get",
        operation_id="carrier_dry_run",
    )
    def carrier_dry_run(request: HttpRequest, days: int = 7) -> dict:
        _actor(request, FULFIL_ROLES)
        report = carrier_rules_dry_run(days=max(1, min(days, 90)))
        return {"checked": report["checked"], "by_rule": report["by_rule"]}


router = build_router()
