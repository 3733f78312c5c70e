"""Autopilot: moves orders along 待审核 → 已拆单 → 分仓中 without a person, as far as rules allow.

Run by a periodic job. Each order step is its own transaction (the services'), so one order's
refusal never holds up the batch; every automatic decision is on the order's timeline.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from orderhub.accounts.models import User
from orderhub.accounts.services import system_user
from orderhub.core.errors import AppError
from orderhub.fulfilment.allocation import order_allocate
from orderhub.fulfilment.models import ReviewRun
from orderhub.fulfilment.review import order_auto_review
from orderhub.fulfilment.split import order_split
from orderhub.orders.models import HoldReason, Order, OrderHold
from orderhub.orders.states import OrderStatus

logger = logging.getLogger("orderhub.fulfilment")


def _recheck_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "ORDERHUB_STOCK_RECHECK_SECONDS", 600))


def review_candidates(now: datetime, limit: int) -> list[int]:
    """Orders in 待审核 that no review has seen since they last changed, or held only for stock."""
    open_holds = OrderHold.objects.filter(order=OuterRef("pk"), resolved_at__isnull=True)
    reviewed_since = ReviewRun.objects.filter(order=OuterRef("pk"), at__gte=OuterRef("updated_at"))
    reviewed_lately = ReviewRun.objects.filter(order=OuterRef("pk"), at__gte=now - _recheck_after())
    fresh = Q(~Exists(open_holds), ~Exists(reviewed_since))
    stock_only = Q(
        Exists(open_holds.filter(reason=HoldReason.STOCK_CONFLICT)),
        ~Exists(open_holds.exclude(reason=HoldReason.STOCK_CONFLICT)),
        ~Exists(reviewed_lately),
    )
    # Parts too: a part sent back for want of stock is reviewed again like any order.
    qs = Order.objects.filter(status=OrderStatus.PENDING_REVIEW).filter(fresh | stock_only)
    return list(qs.order_by("priority", "ordered_at", "pk").values_list("pk", flat=True)[:limit])


def order_advance(order_id: int, now: datetime | None = None, actor: User | None = None) -> str:
    """Take one order as far as the rules allow; returns where it stopped."""
    now = now or timezone.now()
    actor = actor or system_user()
    order = Order.objects.only("status", "parent_id").get(pk=order_id)
    if (
        order.status == OrderStatus.PENDING_REVIEW
        and not order_auto_review(order_id=order_id, actor=actor, now=now).approved
    ):
        return "held"
    if order.parent_id is not None:
        cards = [order_id]  # a part: allocate it
    elif Order.objects.filter(parent_id=order_id).exists():
        cards = list(
            Order.objects.filter(parent_id=order_id, status=OrderStatus.SPLIT).values_list("pk", flat=True)
        )
    else:
        cards = [p.pk for p in order_split(order_id=order_id, actor=actor, now=now).parts] or [order_id]
    results = [order_allocate(order_id=c, actor=actor, now=now).allocated for c in cards]
    return "allocated" if all(results) else "partly held"


def fulfilment_autopilot(*, limit: int = 500, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    counts: dict[str, int] = {}
    waiting_split = Order.objects.filter(status=OrderStatus.SPLIT).filter(
        Q(parent__isnull=False) | Q(parts__isnull=True)
    )
    ids = review_candidates(now, limit) + list(
        waiting_split.order_by("priority", F("ordered_at").asc(), "pk").values_list("pk", flat=True)[:limit]
    )
    actor = system_user()
    for order_id in dict.fromkeys(ids):
        try:
            outcome = order_advance(order_id, now, actor)
        except AppError as e:  # someone moved it meanwhile, or a rule refused: the next run retries
            logger.info("autopilot: order %s not advanced: %s", order_id, e.message)
            outcome = "skipped"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
