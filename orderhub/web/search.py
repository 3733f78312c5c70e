"""One-box search (一键查单): an order number, a channel's order number, a phone or a waybill number
leads to the order. Every lookup is an exact match on an indexed column, so it stays fast at any
number of orders; results are always scoped to what the person may see."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from orderhub.accounts.models import User
from orderhub.catalog.models import Customer
from orderhub.fulfilment.models import Carrier, Waybill
from orderhub.ingest.models import Channel
from orderhub.ingest.normalize import normalize_phone
from orderhub.orders.models import Order, PhoneKind
from orderhub.orders.permissions import scope_orders
from orderhub.tracking.models import Shipment

MAX_RESULTS = 20
MAX_QUERY = 64
_SPACES = re.compile(r"\s+")

MATCH_LABELS = {
    "order_no": _("订单号"),
    "channel_order_no": _("渠道订单号"),
    "phone": _("电话"),
    "waybill": _("运单号"),
}


@dataclass
class SearchResult:
    query: str
    orders: list[Order] = field(default_factory=list)
    matched_by: dict[int, str] = field(default_factory=dict)  # order pk -> how it matched
    truncated: bool = False

    @property
    def single(self) -> Order | None:
        return self.orders[0] if len(self.orders) == 1 else None


def normalize_query(raw: str) -> str:
    return _SPACES.sub("", raw or "")[:MAX_QUERY]


def _candidates(q: str) -> list[tuple[str, QuerySet[Order]]]:
    """Each way the text could name orders, as (how, order queryset), cheapest first."""
    out: list[tuple[str, QuerySet[Order]]] = [
        ("order_no", Order.objects.filter(order_no__in={q, q.upper()})),
        # channel IN (…all…) lets the (channel, channel_order_no) unique index answer.
        (
            "channel_order_no",
            Order.objects.filter(channel_id__in=Channel.objects.values("pk"), channel_order_no=q),
        ),
    ]
    waybill_orders = Waybill.objects.filter(
        carrier_id__in=Carrier.objects.values("pk"), number__in={q, q.upper()}
    ).values("order_id")
    tracked_orders = Shipment.objects.filter(tracking_no__in={q, q.upper()}).values("order_id")
    out.append(("waybill", Order.objects.filter(pk__in=waybill_orders)))
    out.append(("waybill", Order.objects.filter(pk__in=tracked_orders)))
    digits = re.sub(r"[^\d]", "", q)
    if len(digits) >= 7:
        phone = normalize_phone(q)
        if phone.kind == PhoneKind.NORMAL:
            out.append(("phone", Order.objects.filter(receiver_phone=phone.value)))
            customers = Customer.objects.filter(phone=phone.value).values("pk")
            out.append(("phone", Order.objects.filter(customer_id__in=customers)))
    return out


def order_search(*, actor: User, query: str) -> SearchResult:
    """Orders the text names, newest first (at most MAX_RESULTS), each with how it matched."""
    q = normalize_query(query)
    result = SearchResult(query=q)
    if not q:
        return result
    found: dict[int, Order] = {}
    for how, qs in _candidates(q):
        rows = scope_orders(qs, actor).select_related("channel", "customer", "owner")
        for order in rows.order_by("-ordered_at", "-pk")[: MAX_RESULTS + 1]:
            if order.pk not in found:
                found[order.pk] = order
                result.matched_by[order.pk] = how
    orders = sorted(found.values(), key=lambda o: (o.ordered_at, o.pk), reverse=True)
    result.truncated = len(orders) > MAX_RESULTS
    result.orders = orders[:MAX_RESULTS]
    return result
