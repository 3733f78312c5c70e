"""What a customer sees: their orders, each with a plain timeline and an arrival estimate.

Personal data is masked (138****5678, 王**, street hidden); staff names and internal reasons
never leave the building. A fixed number of queries, however many orders and parcels.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from orderhub.orders.models import LogAction, OperationLog, Order
from orderhub.orders.states import OrderStatus
from orderhub.portal.conf import portal_conf
from orderhub.portal.models import TransitEstimate

S = OrderStatus
# What each state means to a customer.
CUSTOMER_STEPS: dict[str, str] = {
    S.PENDING_REVIEW: "订单已提交",
    S.SPLIT: "订单审核通过",
    S.ALLOCATING: "仓库备货中",
    S.LABEL_PRINTED: "已打包，等待揽收",
    S.SHIPPED: "已发货",
    S.EXCEPTION: "运输异常，客服正在跟进",
    S.COMPLETED: "已签收",
    S.CANCELLED: "订单已取消",
}


def mask_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "****"


def mask_name(name: str) -> str:
    return (name[:1] + "*" * max(1, len(name) - 1)) if name else ""


@dataclass
class Step:
    at: datetime
    title: str
    detail: str = ""
    carrier: bool = False


@dataclass
class Parcel:
    carrier: str
    tracking_no: str
    status: str
    delivered_at: datetime | None
    eta: datetime | None
    eta_source: str  # "carrier" or "history"


@dataclass
class CustomerOrder:
    order_no: str
    channel_order_no: str
    status: str
    status_label: str
    ordered_at: datetime
    receiver: str
    phone: str
    address: str
    items: str
    steps: list[Step] = field(default_factory=list)
    parcels: list[Parcel] = field(default_factory=list)

    @property
    def eta(self) -> datetime | None:
        etas = [p.eta for p in self.parcels if p.eta and not p.delivered_at]
        return max(etas) if etas else None


def _estimates(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], float]:
    if not pairs:
        return {}
    carriers = {c for c, _p in pairs}
    rows = TransitEstimate.objects.filter(carrier__in=carriers).values_list(
        "carrier", "province_code", "median_hours"
    )
    return {(c, p): h for c, p, h in rows}


def _parcel_eta(
    s: object, estimates: dict[tuple[str, str], float], now: datetime
) -> tuple[datetime | None, str]:
    from orderhub.tracking.carriers import TrackingStatus

    if s.delivered_at:  # type: ignore[attr-defined]
        return None, ""
    if s.status == TrackingStatus.OUT_FOR_DELIVERY:  # type: ignore[attr-defined]
        # The carrier says it is on the van: by the end of today.
        end = timezone.localtime(now).replace(hour=21, minute=0, second=0, microsecond=0)
        return max(end, now), "carrier"
    hours = estimates.get((s.carrier, s.province_code)) or estimates.get((s.carrier, ""))  # type: ignore[attr-defined]
    if hours is None:
        return None, ""
    return s.shipped_at + timedelta(hours=hours), "history"  # type: ignore[attr-defined]


def customer_orders(*, order_ids: list[int], now: datetime | None = None) -> list[CustomerOrder]:
    """The customer's orders (roots), newest first, with timelines and parcels."""
    from orderhub.tracking.carriers import carrier_name
    from orderhub.tracking.models import Shipment, TrackingEvent

    now = now or timezone.now()
    roots = list(
        Order.objects.filter(pk__in=order_ids, parent__isnull=True)
        .prefetch_related("lines")
        .order_by("-ordered_at")[:50]
    )
    ids = [o.pk for o in roots]
    part_root = dict(Order.objects.filter(parent_id__in=ids).values_list("pk", "parent_id"))
    card_root = {**{i: i for i in ids}, **part_root}
    log = (
        OperationLog.objects.filter(order_id__in=ids, action__in=[LogAction.CREATE, LogAction.TRANSITION])
        .order_by("order_id", "seq")
        .values_list("order_id", "at", "to_status")
    )
    steps: dict[int, list[Step]] = defaultdict(list)
    for order_id, at, to in log:
        steps[order_id].append(Step(at, CUSTOMER_STEPS.get(to, to)))
    shipments = list(Shipment.objects.filter(order_id__in=list(card_root)).order_by("pk"))
    events = (
        TrackingEvent.objects.filter(shipment__in=shipments)
        .order_by("at")
        .values_list("shipment_id", "at", "description", "area")
    )
    ship_root = {s.pk: card_root[s.order_id] for s in shipments}
    for shipment_id, at, desc, area in events:
        steps[ship_root[shipment_id]].append(Step(at, desc, area, carrier=True))
    estimates = _estimates({(s.carrier, s.province_code) for s in shipments})
    parcels: dict[int, list[Parcel]] = defaultdict(list)
    for s in shipments:
        eta, source = _parcel_eta(s, estimates, now)
        parcels[card_root[s.order_id]].append(
            Parcel(
                carrier_name(s.carrier), s.tracking_no, s.get_status_display(), s.delivered_at, eta, source
            )
        )
    out = []
    for o in roots:
        lines = list(o.lines.all())
        items = "、".join(f"{ln.name or ln.sku_code} ×{ln.quantity}" for ln in lines[:3])
        out.append(
            CustomerOrder(
                order_no=o.order_no,
                channel_order_no=o.channel_order_no or "",
                status=o.status,
                status_label=CUSTOMER_STEPS.get(o.status, o.status),
                ordered_at=o.ordered_at,
                receiver=mask_name(o.receiver_name),
                phone=mask_phone(o.receiver_phone),
                address=" ".join(p for p in (o.province, o.city, o.district) if p) + " ****",
                items=items + (f" 等 {len(lines)} 项" if len(lines) > 3 else ""),
                steps=sorted(steps[o.pk], key=lambda st: st.at, reverse=True),
                parcels=parcels[o.pk],
            )
        )
    return out


def transit_estimates_refresh(*, now: datetime | None = None) -> int:
    """Median scan-out → signed-for hours per carrier and province (and per carrier) from the
    parcels delivered in the last HISTORY_DAYS days; the periodic job runs it daily."""
    from orderhub.tracking.models import Shipment

    now = now or timezone.now()
    since = now - timedelta(days=portal_conf("HISTORY_DAYS"))
    rows = Shipment.objects.filter(delivered_at__gte=since, delivered_at__isnull=False).values_list(
        "carrier", "province_code", "shipped_at", "delivered_at"
    )
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    for carrier, province, shipped_at, delivered_at in rows.iterator(chunk_size=5000):
        hours = (delivered_at - shipped_at).total_seconds() / 3600
        if hours >= 0:
            samples[(carrier, province)].append(hours)
            samples[(carrier, "")].append(hours)
    least = portal_conf("MIN_SAMPLES")
    fresh = [
        TransitEstimate(
            carrier=c, province_code=p, median_hours=statistics.median(v), samples=len(v), computed_at=now
        )
        for (c, p), v in samples.items()
        if len(v) >= least or p == ""
    ]
    with transaction.atomic():
        TransitEstimate.objects.all().delete()
        TransitEstimate.objects.bulk_create(fresh)
    return len(fresh)
