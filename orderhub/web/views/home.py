"""The landing page of each role (我的工作台): what this person should look at first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from orderhub.accounts.models import User
from orderhub.orders.models import Order, OrderHold
from orderhub.orders.permissions import scope_orders
from orderhub.orders.states import OrderStatus as S
from orderhub.web.board import CARD_RELATED, URGENCY, Card, cards_build, state_targets, user_warehouse_ids
from orderhub.web.roles import preset_for
from orderhub.web.views.search import for_customer_default

LANDING_CARDS = 10
OPEN = (S.PENDING_REVIEW, S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED, S.SHIPPED, S.EXCEPTION)


@dataclass
class Section:
    title: str | Promise
    board_qs: str
    cards: list[Card] = field(default_factory=list)


@dataclass
class StateRow:
    status: str
    count: int
    late: int


Spec = tuple["str | Promise", QuerySet[Order], tuple[Any, ...], str]


def _specs(actor: User, key: str) -> list[Spec]:
    """(title, orders, ordering, board link) of each landing section of the role."""
    mine = scope_orders(Order.objects.all(), actor)
    held = OrderHold.objects.filter(resolved_at__isnull=True).values("order_id")
    exceptions = (_("物流异常"), mine.filter(status=S.EXCEPTION), URGENCY, "f=1&status=exception")
    if key == "sales":
        promised = (F("promised_at").asc(nulls_last=True), "ordered_at")
        return [
            (
                _("我的在途订单（按承诺送达时间）"),
                mine.filter(owner=actor, status__in=OPEN),
                promised,
                "f=1&mine=on",
            )
        ]
    if key == "customer_service":
        holds = mine.filter(status=S.PENDING_REVIEW, pk__in=held)
        return [(_("待处理拦截"), holds, URGENCY, "f=1&status=pending_review"), exceptions]
    if key == "warehouse":
        queue = mine.filter(
            warehouse_id__in=user_warehouse_ids(actor), status__in=(S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED)
        )
        return [(_("本仓待处理（拆单、分仓、打单）"), queue, URGENCY, "f=1&mine=on")]
    if key == "logistics":
        shipped = (_("在途最久"), mine.filter(status=S.SHIPPED), URGENCY, "f=1&status=shipped")
        return [exceptions, shipped]
    return []


def _state_rows(actor: User) -> list[StateRow]:
    """Per open state: how many orders, and how many are past the state's time target."""
    now = timezone.now()
    targets = state_targets()
    late = Q(pk__in=[])
    for status, t in targets.items():
        late |= Q(status=status, status_changed_at__lt=now - timedelta(minutes=t.minutes))
    rows = (
        scope_orders(Order.objects.filter(status__in=OPEN), actor)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"), late=Count("pk", filter=late))
    )
    by_status = {r["status"]: r for r in rows}
    return [StateRow(s, by_status.get(s, {}).get("n", 0), by_status.get(s, {}).get("late", 0)) for s in OPEN]


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role's first page: its lists (holds, exceptions, its warehouse's queue, own promises)."""
    preset = preset_for(request.user)
    sections: list[Section] = []
    fetched: list[list[Order]] = []
    for title, qs, ordering, board_qs in _specs(request.user, preset.key):
        sections.append(Section(title, board_qs))
        fetched.append(list(qs.select_related(*CARD_RELATED).order_by(*ordering)[:LANDING_CARDS]))
    orders = [o for rows in fetched for o in rows]
    now = timezone.now()
    cards = {c.order.pk: c for c in cards_build(request.user, orders, state_targets(), now)}
    for section, rows in zip(sections, fetched, strict=True):
        section.cards = [cards[o.pk] for o in rows]
    context = {
        "nav": "home",
        "preset": preset,
        "sections": sections,
        "no_warehouse": preset.key == "warehouse" and not user_warehouse_ids(request.user),
        "states": _state_rows(request.user),
        "for_customer_default": for_customer_default(request.user),
    }
    return render(request, "web/home.html", context)
