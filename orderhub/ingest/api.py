"""Ingest REST API: bulk order intake with a mapping preset, batch status, order export.

Mounted by orderhub/api.py at /api/ingest/.
"""

from __future__ import annotations

import io
from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from orderhub.accounts.models import User
from orderhub.core.errors import NotFound, ValidationFailed
from orderhub.core.schemas import error_responses
from orderhub.ingest.export import orders_export
from orderhub.ingest.models import BatchSource, BatchStatus, ImportBatch, ImportIssue, RowOutcome
from orderhub.ingest.permissions import require_import
from orderhub.ingest.readers import FileRefused
from orderhub.ingest.services import batch_create_from_rows, batch_run, channel_get, preset_get
from orderhub.orders.models import Order
from orderhub.orders.schemas import OrderListQuery

router = Router(tags=["ingest"])

MAX_ITEMS = 1000
LINE_KEYS = ("lines", "items", "order_items", "sku_list", "sub_orders", "skus")


def _actor(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]


class BulkOrdersIn(Schema):
    preset: str = Field(description="Mapping preset name, e.g. 「抖店-订单导出」 or your own.")
    channel: str | None = Field(default=None, description="Channel code; default: the preset's channel.")
    orders: list[dict[str, Any]] = Field(
        description="The channel's raw orders: objects keyed by the channel's field names. Line items may "
        "be nested under `lines`/`items`/`sku_list`; order fields are repeated onto each line.",
        max_length=MAX_ITEMS,
    )


class ItemResult(Schema):
    index: int
    channel_order_no: str
    outcome: str = Field(description="created | held | updated | unchanged | conflict | rejected | skipped")
    order_id: int | None = None
    order_no: str | None = None
    holds: list[str] = []
    errors: list[str] = []


class BulkOrdersOut(Schema):
    batch_id: int
    mapping: str
    counts: dict[str, int]
    items: list[ItemResult]


class BatchOut(Schema):
    id: int
    kind: str
    source: str
    status: str
    filename: str
    preset: str
    mapping: str
    message: str
    total_rows: int
    processed_rows: int
    counts: dict[str, int] = Field(description="Rows per outcome.")
    orders: dict[str, int] = Field(description="Orders per outcome.")
    hold_counts: dict[str, int]
    reject_counts: dict[str, int]


def _flatten(orders: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]], list[int]]:
    """Rows (one per line item), their headers, and for each row the index of its order."""
    headers: list[str] = []
    seen: set[str] = set()
    flat: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(orders):
        key = next((k for k in LINE_KEYS if isinstance(raw.get(k), list) and raw[k]), None)
        head = {k: v for k, v in raw.items() if k != key and not isinstance(v, dict | list)}
        lines = [ln for ln in raw[key] if isinstance(ln, dict)] if key else [{}]
        for ln in lines or [{}]:
            row = {**head, **{k: v for k, v in ln.items() if not isinstance(v, dict | list)}}
            flat.append((index, row))
            for k in row:
                if k not in seen:
                    seen.add(k)
                    headers.append(str(k))
    rows = [[row.get(h) for h in headers] for _i, row in flat]
    return headers, rows, [i for i, _row in flat]


def _counts(b: ImportBatch) -> dict[str, int]:
    return {
        "created": b.created_count,
        "held": b.held_count,
        "updated": b.updated_count,
        "unchanged": b.unchanged_count,
        "conflict": b.conflict_count,
        "rejected": b.rejected_count,
        "skipped": b.skipped_count,
    }


@router.post(
    "/orders",
    response={200: BulkOrdersOut, **error_responses(401, 403, 404, 422)},
    summary="Bulk order intake with a mapping preset (idempotent on channel + channel order number)",
)
def bulk_orders(request: HttpRequest, payload: BulkOrdersIn) -> BulkOrdersOut:
    actor = _actor(request)
    require_import(actor)
    if not payload.orders:
        raise ValidationFailed("orders 不能为空 / orders is empty", field="orders")
    preset = preset_get(payload.preset)
    channel = channel_get(payload.channel) if payload.channel else None
    headers, rows, owners = _flatten(payload.orders)
    try:
        batch = batch_create_from_rows(
            kind="orders",
            source=BatchSource.API,
            headers=headers,
            rows=rows,
            actor=actor,
            preset=preset,
            channel=channel,
            label=f"API {len(payload.orders)}",
        )
    except FileRefused as exc:
        raise ValidationFailed(exc.message, field="orders") from None
    batch = batch_run(batch.pk, actor=actor)
    if batch.status != BatchStatus.DONE:
        raise ValidationFailed(batch.message, field="orders")
    return BulkOrdersOut(
        batch_id=batch.pk,
        mapping=batch.mapping_note,
        counts=_counts(batch),
        items=_item_results(batch, owners, len(payload.orders)),
    )


def _item_results(batch: ImportBatch, owners: list[int], n: int) -> list[ItemResult]:
    outcomes = {o[0]: o for c in batch.chunks.all() for o in c.outcomes}
    issues: dict[int, list[ImportIssue]] = {}
    for issue in ImportIssue.objects.filter(batch=batch):
        issues.setdefault(issue.row_no, []).append(issue)
    order_ids = {o[2] for o in outcomes.values() if o[2]}
    numbers = dict(Order.objects.filter(pk__in=order_ids).values_list("pk", "order_no"))
    keys = dict(Order.objects.filter(pk__in=order_ids).values_list("pk", "channel_order_no"))
    results: list[ItemResult] = [
        ItemResult(index=i, channel_order_no="", outcome=RowOutcome.SKIPPED) for i in range(n)
    ]
    rank = {RowOutcome.REJECTED: 3, RowOutcome.CONFLICT: 2, RowOutcome.HELD: 1}
    for row_no, index in enumerate(owners, start=1):
        out = outcomes.get(row_no)
        item = results[index]
        if out is None:
            continue
        outcome, order_id = out[1], out[2]
        if rank.get(outcome, 0) >= rank.get(item.outcome, 0) or item.outcome == RowOutcome.SKIPPED:
            item.outcome = outcome
        if order_id:
            item.order_id, item.order_no = order_id, numbers.get(order_id)
            item.channel_order_no = keys.get(order_id) or ""
        for issue in issues.get(row_no, []):
            if issue.outcome == RowOutcome.REJECTED:
                item.errors.append(f"{issue.column}：{issue.message}" if issue.column else issue.message)
                item.channel_order_no = item.channel_order_no or issue.channel_order_no
            elif issue.code not in item.holds:
                item.holds.append(issue.code)
    return results


@router.get(
    "/batches/{batch_id}",
    response={200: BatchOut, **error_responses(401, 403, 404)},
    summary="An import batch: status, progress and counts",
)
def batch_get(request: HttpRequest, batch_id: int) -> BatchOut:
    require_import(_actor(request))
    b = ImportBatch.objects.filter(pk=batch_id).first()
    if b is None:
        raise NotFound(f"导入批次 {batch_id} 不存在", field="batch_id")
    return BatchOut(
        id=b.pk,
        kind=b.kind,
        source=b.source,
        status=b.status,
        filename=b.filename,
        preset=b.preset_name,
        mapping=b.mapping_note,
        message=b.message,
        total_rows=b.total_rows,
        processed_rows=b.processed_rows,
        counts=_counts(b),
        orders=b.options.get("orders", {}),
        hold_counts=b.hold_counts,
        reject_counts=b.reject_counts,
    )


_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
}


class ExportQuery(OrderListQuery):
    format: str = Field(default="xlsx", pattern="^(xlsx|csv|jsonl)$")


@router.get(
    "/orders/export",
    response={200: None, **error_responses(401, 422)},
    summary="Export orders with lines and state, filtered like GET /api/orders (XLSX, CSV, JSON Lines)",
)
def export_orders(request: HttpRequest, query: Query[ExportQuery]) -> HttpResponse:
    buf = io.BytesIO()
    orders_export(actor=_actor(request), filters=query.to_filters(), fmt=query.format, out=buf)
    response = HttpResponse(buf.getvalue(), content_type=_TYPES[query.format])
    response["Content-Disposition"] = f'attachment; filename="orders.{query.format}"'
    return response
