"""Reads on orders, always scoped to the actor (sales see only the orders they own)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.core.db import CompiledRows, RowLoader
from orderhub.core.errors import ValidationFailed
from orderhub.orders.errors import order_not_found
from orderhub.orders.models import LogAction, OperationLog, Order, OrderHold, OrderLine
from orderhub.orders.permissions import can_see, scope_orders
from orderhub.orders.timeline import TimelineEvent, timeline_sources

_ORDERS = RowLoader(Order)
# An order's log as the timeline shows it, compiled once (read on every timeline view).
_LOG_ROWS = CompiledRows(
    lambda order_id: (
        OperationLog.objects.filter(order_id=order_id)
        .order_by("seq")
        .values_list(
            "action",
            "transition",
            "from_status",
            "to_status",
            "actor_name",
            "automatic",
            "reason",
            "details",
            "at",
        )
    )
)


@dataclass
class OrderFilters:
    status: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)  # channel codes
    customer_tier: list[str] = field(default_factory=list)
    owner: str | None = None  # username; "me" means the actor
    ordered_from: datetime | None = None
    ordered_to: datetime | None = None
    only_mine: bool = False


def _base_qs() -> QuerySet[Order]:
    return Order.objects.select_related("channel", "customer", "owner", "last_operator")


def order_get(*, actor: User, order_id: int, with_lines: bool = True) -> Order:
    """One order the actor may see, with lines and holds; absent and out-of-scope look alike."""
    qs = (
        scope_orders(_base_qs(), actor)
        .select_related("selling_entity", "shipping_entity", "invoicing_entity", "warehouse", "parent")
        .prefetch_related(Prefetch("holds", queryset=OrderHold.objects.order_by("created_at", "pk")))
    )
    if with_lines:
        qs = qs.prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("sku").order_by("line_no"))
        )
    order = qs.filter(pk=order_id).first()
    if order is None:
        raise order_not_found(order_id)
    return order


def order_filter(*, actor: User, filters: OrderFilters) -> QuerySet[Order]:
    qs = scope_orders(_base_qs(), actor)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.channel:
        qs = qs.filter(channel__code__in=filters.channel)
    if filters.customer_tier:
        qs = qs.filter(customer_tier__in=filters.customer_tier)
    if filters.only_mine or filters.owner == "me":
        qs = qs.filter(owner=actor)
    elif filters.owner:
        qs = qs.filter(owner__username=filters.owner)
    if filters.ordered_from:
        qs = qs.filter(ordered_at__gte=filters.ordered_from)
    if filters.ordered_to:
        qs = qs.filter(ordered_at__lt=filters.ordered_to)
    return qs


# --- keyset pagination over (ordered_at desc, id desc) ------------------------------------------


def encode_cursor(order: Order) -> str:
    raw = f"{order.ordered_at.isoformat()}|{order.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at_text, id_text = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        at = parse_datetime(at_text)
        pk = int(id_text)
        # Only cursors we could have issued: an aware time the database can compare, a real id.
        if at is None or timezone.is_naive(at) or not 0 < pk < 2**63:
            raise ValueError(cursor)
        at.astimezone(UTC)  # OverflowError near year 1 / 9999
        return at, pk
    except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error):
        raise ValidationFailed(_("分页游标无效"), field="cursor") from None


@dataclass
class OrderPage:
    items: list[Order]
    next_cursor: str | None


def order_list(
    *, actor: User, filters: OrderFilters, cursor: str | None = None, limit: int = 50
) -> OrderPage:
    """A page of orders, newest first; pass `next_cursor` back for the next page."""
    if not 1 <= limit <= 200:
        raise ValidationFailed(_("每页数量须在 1 到 200 之间"), field="limit")
    qs = order_filter(actor=actor, filters=filters)
    if cursor:
        at, pk = decode_cursor(cursor)
        qs = qs.filter(Q(ordered_at__lt=at) | Q(ordered_at=at, pk__lt=pk))
    rows = list(
        qs.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("line_no")))
        .prefetch_related(Prefetch("holds", queryset=OrderHold.objects.filter(resolved_at__isnull=True)))
        .order_by("-ordered_at", "-pk")[: limit + 1]
    )
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return OrderPage(items=rows[:limit], next_cursor=next_cursor)


# --- timeline ----------------------------------------------------------------------------------


def order_get_plain(*, actor: User, order_id: int) -> Order:
    """The order row alone (no related rows, no holds), scoped like `order_get`: for reads that
    need only its own fields, such as the timeline API, at a fraction of the cost."""
    order = _ORDERS.get(order_id)
    if order is None or not can_see(actor, order):
        raise order_not_found(order_id)
    return order


def order_timeline(*, actor: User, order_id: int, plain: bool = False) -> tuple[Order, list[TimelineEvent]]:
    """Everything that happened to an order, oldest first: its log plus registered sources.

    The order comes with its related rows and holds (for the order page), or `plain`
    (`order_get_plain`, for the API, which shows only its number and status).
    """
    from orderhub.orders.states import TRANSITIONS_BY_NAME

    if plain:
        order = order_get_plain(actor=actor, order_id=order_id)
    else:
        order = order_get(actor=actor, order_id=order_id, with_lines=False)
    labels = dict(LogAction.choices)
    events: list[TimelineEvent] = []
    for action, name, from_status, to_status, actor_name, automatic, reason, details, at in _LOG_ROWS.rows(
        order.pk
    ):
        known = TRANSITIONS_BY_NAME.get(name) if name else None
        events.append(
            TimelineEvent(
                at=at,
                kind=action,
                title=str(known.label) if known else str(labels.get(action, action)),
                actor=actor_name or _("系统"),
                automatic=automatic,
                from_status=from_status,
                to_status=to_status,
                reason=reason,
                details=details,
            )
        )
    for source in timeline_sources():
        events.extend(source(order))
    events.sort(key=lambda ev: ev.at)
    return order, events
