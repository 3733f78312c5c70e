"""Import services: updating an order a channel changed; the pipeline's entry points.

The pipeline itself (staging raw rows, mapping, persisting chunks) lives in ingest/pipeline.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.catalog.models import Sku
from orderhub.ingest.drafts import draft_fingerprint
from orderhub.ingest.models import (
    ChannelChange,
    RowOutcome,
)
from orderhub.ingest.prepare import snapshot
from orderhub.orders.audit import log_append
from orderhub.orders.models import HoldReason, LogAction, Order, OrderHold, OrderLine
from orderhub.orders.services import LineDraft, OrderDraft
from orderhub.orders.services.create import _basic_holds
from orderhub.orders.states import OrderStatus

# --- updating an order the channel changed ------------------------------------------------------

_COMPARED = (
    "receiver_name",
    "receiver_phone",
    "phone_kind",
    "province",
    "province_code",
    "city",
    "city_code",
    "district",
    "district_code",
    "address_detail",
    "shipping_fee",
    "remark",
    "promised_at",
    "ordered_at",
)


def _current_fingerprint(order: Order) -> str:
    snap = order.lines_snapshot
    if isinstance(snap, dict) and snap.get("fingerprint"):
        return str(snap["fingerprint"])
    lines = [
        LineDraft(ln.sku_code, ln.quantity, ln.unit_price, ln.name) for ln in order.lines.order_by("line_no")
    ]
    draft = OrderDraft(
        channel_code="",
        lines=lines,
        channel_order_no=order.channel_order_no,
        ordered_at=order.ordered_at,
        customer_code=order.customer.code if order.customer_id else None,
        **{k: getattr(order, k) for k in _COMPARED if k not in ("ordered_at", "phone_kind")},
    )
    return draft_fingerprint(draft)


def _changes(order: Order, draft: OrderDraft) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name in _COMPARED:
        old, new = getattr(order, name), getattr(draft, name)
        if name == "ordered_at" and new is None:
            continue
        if str(old if old is not None else "") != str(new if new is not None else ""):
            out[name] = [str(old) if old is not None else "", str(new) if new is not None else ""]
    old_lines = [[ln.sku_code, ln.quantity, str(ln.unit_price)] for ln in order.lines.order_by("line_no")]
    new_lines = [[ln.sku_code, ln.quantity, str(ln.unit_price)] for ln in draft.lines]
    if old_lines != new_lines:
        out["lines"] = [old_lines, new_lines]
    return out


def order_update_from_channel(
    *,
    order_id: int,
    draft: OrderDraft,
    actor: User | None,
    fingerprint: str | None = None,
    batch_id: int | None = None,
    row_nos: list[int] | None = None,
    now: datetime | None = None,
) -> str:
    """Apply a channel's newer version of an order. Returns a RowOutcome value.

    Not yet allocated (待审核) → updated in place, one EDIT log entry, version bumped.
    Already past review → nothing is overwritten: a 分仓后渠道改单 hold and a ChannelChange record
    for a person. The same change seen again is recognised and not recorded twice.
    """
    now = now or timezone.now()
    fingerprint = fingerprint or draft_fingerprint(draft)
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order_id)
        if _current_fingerprint(order) == fingerprint:
            return RowOutcome.UNCHANGED
        changes = _changes(order, draft)
        if order.status == OrderStatus.PENDING_REVIEW and not order.parts.exists():
            _apply_update(order, draft, changes, actor, fingerprint, batch_id, row_nos or [], now)
            return RowOutcome.UPDATED
        if ChannelChange.objects.filter(
            order=order, fingerprint=fingerprint, resolved_at__isnull=True
        ).exists():
            return RowOutcome.CONFLICT
        _record_conflict(order, draft, changes, actor, fingerprint, batch_id, now)
        return RowOutcome.CONFLICT


def _apply_update(
    order: Order,
    draft: OrderDraft,
    changes: dict[str, list[Any]],
    actor: User | None,
    fingerprint: str,
    batch_id: int | None,
    row_nos: list[int],
    now: datetime,
) -> None:
    for name in _COMPARED:
        value = getattr(draft, name)
        if name in ("ordered_at", "promised_at") and value is None:
            continue
        setattr(order, name, value)
    skus = {s.code: s for s in Sku.objects.filter(code__in={ln.sku_code for ln in draft.lines})}
    if "lines" in changes:
        OrderLine.objects.filter(order=order).delete()
        OrderLine.objects.bulk_create(
            OrderLine(
                order=order,
                line_no=i,
                sku=skus.get(ln.sku_code),
                sku_code=ln.sku_code,
                name=ln.name or (skus[ln.sku_code].name if ln.sku_code in skus else ""),
                quantity=ln.quantity,
                unit_price=ln.unit_price,
            )
            for i, ln in enumerate(draft.lines, start=1)
        )
    goods = sum((ln.unit_price * ln.quantity for ln in draft.lines), order.goods_amount * 0)
    order.goods_amount = goods
    order.total_amount = goods + draft.shipping_fee
    order.lines_snapshot = snapshot(draft, fingerprint, batch_id, row_nos)
    open_reasons = set(order.holds.filter(resolved_at__isnull=True).values_list("reason", flat=True))
    new_holds = [(r, d) for r, d in _basic_holds(draft, skus) if r not in open_reasons]
    OrderHold.objects.bulk_create(
        OrderHold(order=order, reason=r, detail=d[:255], created_by=actor) for r, d in new_holds
    )
    log_append(
        order=order,
        action=LogAction.EDIT,
        actor=actor,
        at=now,
        reason=_("渠道改单"),
        details={
            "source": "channel",
            "batch": batch_id,
            "changes": changes,
            "holds": [r for r, _d in new_holds],
        },
    )
    order.version += 1
    order.updated_at = now
    order.last_operator = actor
    order.save(
        update_fields=[
            *(n for n in _COMPARED),
            "goods_amount",
            "total_amount",
            "lines_snapshot",
            "version",
            "updated_at",
            "last_operator",
            "log_seq",
            "log_head",
        ]
    )
    if new_holds:
        from orderhub.notify.services import notify_for_hold

        notify_for_hold(order, [r for r, _d in new_holds])


def _record_conflict(
    order: Order,
    draft: OrderDraft,
    changes: dict[str, list[Any]],
    actor: User | None,
    fingerprint: str,
    batch_id: int | None,
    now: datetime,
) -> None:
    fields_changed = "、".join(k for k in changes) or _("无字段差异")
    detail = _("渠道在订单%(s)s后修改了：%(f)s") % {"s": order.get_status_display(), "f": fields_changed}
    ChannelChange.objects.create(
        order=order,
        batch_id=batch_id,
        fingerprint=fingerprint,
        changes=changes,
        data=snapshot(draft, fingerprint, batch_id, []),
    )
    OrderHold.objects.get_or_create(
        order=order,
        reason=HoldReason.CHANGED_AFTER_ALLOCATION,
        resolved_at=None,
        defaults={"detail": detail[:255], "created_by": actor},
    )
    log_append(
        order=order,
        action=LogAction.HOLD,
        actor=actor,
        at=now,
        reason=detail,
        details={"hold": HoldReason.CHANGED_AFTER_ALLOCATION, "batch": batch_id, "changes": changes},
    )
    order.version += 1
    Order.objects.filter(pk=order.pk).update(
        version=order.version, updated_at=now, log_seq=order.log_seq, log_head=order.log_head
    )
    from orderhub.notify.services import notify_for_hold

    notify_for_hold(order, [HoldReason.CHANGED_AFTER_ALLOCATION])


# The pipeline's entry points, importable from here like every other ingest service.
from orderhub.ingest.pipeline import (  # noqa: E402
    batch_create_from_file,
    batch_create_from_rows,
    batch_run,
    channel_get,
    is_total_row,
    map_chunk_rows,
    preset_get,
)

__all__ = [
    "batch_create_from_file",
    "batch_create_from_rows",
    "batch_run",
    "channel_get",
    "is_total_row",
    "map_chunk_rows",
    "order_update_from_channel",
    "preset_get",
]
