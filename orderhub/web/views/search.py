"""One-box search and the landing page of each role."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.web.search import MATCH_LABELS, order_search
from orderhub.web.services import staff_inquiry_record
from orderhub.web.views.orders import detail_context


def for_customer_default(user: User) -> bool:
    """Customer service looks orders up for callers: their searches count as inquiries by default."""
    return Role.CUSTOMER_SERVICE in user.role_names


def _for_customer(request: HttpRequest) -> bool:
    value = request.GET.get("for_customer")
    if value is None:
        return for_customer_default(request.user)
    return value == "1"


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Order number, channel order number, phone or waybill → the order's timeline, or a short list."""
    query = request.GET.get("q", "")
    for_customer = _for_customer(request)
    result = order_search(actor=request.user, query=query)
    if result.single_pk is not None:
        context = detail_context(request, result.single_pk)
        order = context["order"]
        matched_by = result.matched_by[order.pk]
        if for_customer:
            staff_inquiry_record(actor=request.user, order=order, query=result.query, matched_by=matched_by)
        context.update(
            search_query=result.query,
            matched_label=MATCH_LABELS[matched_by],
            for_customer=for_customer,
            nav="search",
        )
        return render(request, "web/order_detail.html", context)
    context = {
        "nav": "search",
        "result": result,
        "search_query": result.query,
        "for_customer": for_customer,
        "match_labels": MATCH_LABELS,
    }
    return render(request, "web/search.html", context, status=200)
