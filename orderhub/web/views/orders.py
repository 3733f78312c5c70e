"""Order pages: the filtered list, one order's card, and its transition buttons."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orderhub.core.errors import AppError, NotFound
from orderhub.ingest.models import Channel
from orderhub.orders import selectors
from orderhub.orders.models import Order
from orderhub.orders.permissions import allowed_transitions, scope_orders
from orderhub.orders.services import order_transition as order_transition_service
from orderhub.orders.states import OrderStatus
from orderhub.web.forms import OrderFilterForm, TransitionForm
from orderhub.web.services import staff_inquiry_record

PAGE_SIZE = 50


def _channel_choices() -> list[tuple[str, str]]:
    return list(Channel.objects.order_by("code").values_list("code", "name"))


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    """Orders newest first, filtered by the query string; sales see only their own."""
    form = OrderFilterForm(request.GET or None, channels=_channel_choices())
    filters = form.to_filters()
    cursor = request.GET.get("cursor") or None
    try:
        page = selectors.order_list(actor=request.user, filters=filters, cursor=cursor, limit=PAGE_SIZE)
    except AppError as exc:  # a damaged cursor: say so and start from the first page
        messages.error(request, exc.message)
        cursor = None
        page = selectors.order_list(actor=request.user, filters=filters, limit=PAGE_SIZE)
    context = {
        "nav": "orders",
        "form": form,
        "page": page,
        "cursor": cursor,
        "show_mine": request.user.sees_all_orders,
    }
    return render(request, "web/order_list.html", context)


def detail_context(request: HttpRequest, order_id: int) -> dict[str, Any]:
    """One order card with its timeline, parts, holds (open and resolved) and the moves allowed now."""
    order, events = selectors.order_timeline(actor=request.user, order_id=order_id)
    holds = list(order.holds.all())
    return {
        "nav": "orders",
        "order": order,
        "events": events,
        "lines": list(order.lines.all()),
        "open_holds": [h for h in holds if h.resolved_at is None],
        "resolved_holds": [h for h in holds if h.resolved_at is not None],
        "parts": list(
            scope_orders(Order.objects.filter(parent_id=order.pk), request.user).order_by("part_no", "pk")
        ),
        "transitions": allowed_transitions(request.user, order),
    }


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    """One order card: fields, lines, holds, parts, timeline and the moves the user may make now."""
    try:
        context = detail_context(request, order_id)
    except NotFound:
        raise Http404 from None
    query = request.GET.get("q", "")
    if query:
        context["search_query"] = query
        # Opened from a search result list on behalf of a customer: count the inquiry.
        if request.GET.get("for_customer") == "1":
            staff_inquiry_record(
                actor=request.user,
                order=context["order"],
                query=query,
                matched_by=request.GET.get("by", "")[:20],
            )
    return render(request, "web/order_detail.html", context)


@login_required
@require_POST
def order_transition(request: HttpRequest, order_id: int) -> HttpResponse:
    """Apply one transition button; refusals come back as an error message on the card."""
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect("web:order_detail", order_id=order_id)
    data = form.cleaned_data
    try:
        order = order_transition_service(
            order_id=order_id,
            to=data["to"],
            actor=request.user,
            expected_version=data["expected_version"],
            reason=data["reason"],
        )
    except NotFound:
        raise Http404 from None
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("订单 %(no)s 已变为「%(status)s」")
            % {"no": order.order_no, "status": OrderStatus(order.status).label},
        )
    return redirect("web:order_detail", order_id=order_id)
