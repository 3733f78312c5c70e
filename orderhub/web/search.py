"""One-box search (一键查单): an order number, a channel's order number, a phone or a waybill number
leads to the order. Every lookup is an exact match on an indexed column, so it stays fast at any
number of orders; results are always scoped to what the person may see."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

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
    single_pk: int | None = None  # the one order found (its rows are read by the timeline)


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
            # The customers first, as a list: with a subquery PostgreSQL walks the newest-first
            # index of every order looking for the LIMIT's rows, all of them when none matches.
            customers = list(Customer.objects.filter(phone=phone.value).values_list("pk", flat=True)[:50])
            if customers:
                out.append(("phone", Order.objects.filter(customer_id__in=customers)))
    return out


def order_search(*, actor: User, query: str) -> SearchResult:
    """Orders the text names, newest first (at most MAX_RESULTS), each with how it matched.

    The look-ups read only (id, ordered_at) from their indexes; the matched orders' rows are read
    once, and not at all for a single match (the caller goes on to its timeline: `single_pk`)."""
    q = normalize_query(query)
    result = SearchResult(query=q)
    if not q:
        return result
    found: dict[int, tuple[datetime, int]] = {}
    for how, qs in _candidates(q):
        rows = scope_orders(qs, actor).order_by("-ordered_at", "-pk").values_list("ordered_at", "pk")
        for ordered_at, pk in rows[: MAX_RESULTS + 1]:
            if pk not in found:
                found[pk] = (ordered_at, pk)
                result.matched_by[pk] = how
    newest = sorted(found.values(), reverse=True)
    result.truncated = len(newest) > MAX_RESULTS
    pks = [pk for _at, pk in newest[:MAX_RESULTS]]
    if len(pks) == 1:
        result.single_pk = pks[0]
    elif pks:
        rows = Order.objects.filter(pk__in=pks).select_related("channel", "customer", "owner").in_bulk()
        result.orders = [rows[pk] for pk in pks if pk in rows]
    return result
