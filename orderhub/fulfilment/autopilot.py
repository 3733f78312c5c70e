"""Autopilot: moves orders along 待审核 → 已拆单 → 分仓中 without a person, as far as rules allow.

Run by a periodic job. Review and split are one transaction per order (the services'), so one
order's refusal never holds up the batch; the cleared cards are then allocated together in waves
(`orders_allocate`). Every automatic decision is on the order's timeline.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from orderhub.accounts.models import User
from orderhub.accounts.services import system_user
from orderhub.core.errors import AppError
from orderhub.fulfilment.allocation import order_allocate, orders_allocate
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
    return list(qs.order_by("-priority", "ordered_at", "pk").values_list("pk", flat=True)[:limit])


def order_cards_to_allocate(order_id: int, now: datetime, actor: User) -> list[int] | None:
    """Review and split one order as the rules allow; the cards now waiting for allocation (None: held)."""
    order = Order.objects.only("status", "parent_id").get(pk=order_id)
    if (
        order.status == OrderStatus.PENDING_REVIEW
        and not order_auto_review(order_id=order_id, actor=actor, now=now).approved
    ):
        return None
    if order.parent_id is not None:
        return [order_id]  # a part: allocate it
    if Order.objects.filter(parent_id=order_id).exists():
        return list(
            Order.objects.filter(parent_id=order_id, status=OrderStatus.SPLIT).values_list("pk", flat=True)
        )
    return [p.pk for p in order_split(order_id=order_id, actor=actor, now=now).parts] or [order_id]


def order_advance(order_id: int, now: datetime | None = None, actor: User | None = None) -> str:
    """Take one order as far as the rules allow; returns where it stopped."""
    now = now or timezone.now()
    actor = actor or system_user()
    cards = order_cards_to_allocate(order_id, now, actor)
    if cards is None:
        return "held"
    results = [order_allocate(order_id=c, actor=actor, now=now).allocated for c in cards]
    return "allocated" if all(results) else "partly held"


def fulfilment_autopilot(*, limit: int = 500, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    counts: dict[str, int] = {}
    waiting_split = Order.objects.filter(status=OrderStatus.SPLIT).filter(
        Q(parent__isnull=False) | Q(parts__isnull=True)
    )
    ids = review_candidates(now, limit) + list(
        waiting_split.order_by("-priority", "ordered_at", "pk").values_list("pk", flat=True)[:limit]
    )
    actor = system_user()
    cards_of: dict[int, list[int]] = {}
    for order_id in dict.fromkeys(ids):
        try:
            cards = order_cards_to_allocate(order_id, now, actor)
        except AppError as e:  # someone moved it meanwhile, or a rule refused: the next run retries
            logger.info("autopilot: order %s not advanced: %s", order_id, e.message)
            counts["skipped"] = counts.get("skipped", 0) + 1
            continue
        if cards is None:
            counts["held"] = counts.get("held", 0) + 1
        else:
            cards_of[order_id] = cards
    for outcome in _allocate_wave(cards_of, actor, now):
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _allocate_wave(cards_of: dict[int, list[int]], actor: User, now: datetime) -> list[str]:
    """Allocate every cleared card in waves (stock locked once per wave); one outcome per order."""
    try:
        wave = orders_allocate(
            order_ids=[c for cards in cards_of.values() for c in cards], actor=actor, now=now
        )
    except AppError as e:  # the whole wave refused (e.g. inconsistent stock): the next run retries
        logger.warning("autopilot: allocation wave not run: %s", e.message)
        return ["skipped"] * len(cards_of)
    for order_id, e in wave.skipped:
        logger.info("autopilot: order %s not allocated: %s", order_id, e.message)
    allocated = {r.order.pk for r in wave.allocated}
    skipped = {order_id for order_id, _e in wave.skipped}
    return [
        "skipped"
        if skipped.intersection(cards)
        else ("allocated" if allocated.issuperset(cards) else "partly held")
        for cards in cards_of.values()
    ]
