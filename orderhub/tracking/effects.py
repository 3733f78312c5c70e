"""What tracking owes to order transitions, and its part of the order timeline.

- "ship" with details {"carrier": "zto", "tracking_no": "…"} starts following that waybill
  (until fulfilment's waybills call `tracking_start` themselves); every waybill of the order
  starts its stall clock at scan-out.
- A person resolving a tracking exception ("resume") restarts the stall clock from that moment;
  closing or completing the order stops following its parcels.
"""

from __future__ import annotations

from django.db.models import Q

from orderhub.orders.effects import EffectContext, by_time, transition_batch_effect, transition_effect
from orderhub.orders.models import Order
from orderhub.orders.timeline import TimelineEvent, timeline_source
from orderhub.tracking.carriers import TrackingStatus, carrier_name
from orderhub.tracking.models import Alert, Shipment, TrackingEvent
from orderhub.tracking.services import shipments_watch, tracking_start
from orderhub.tracking.thresholds import Thresholds


@transition_batch_effect(on=["ship"])
def _track_on_ship(contexts: list[EffectContext]) -> None:
    for ctx in contexts:
        details = ctx.entry.details if isinstance(ctx.entry.details, dict) else {}
        carrier, tracking_no = details.get("carrier"), details.get("tracking_no")
        if carrier and tracking_no:
            tracking_start(
                order=ctx.order, carrier=str(carrier), tracking_no=str(tracking_no), now=ctx.entry.at
            )
    for at, group in by_time(contexts).items():
        shipments_watch(order_ids=[ctx.order.pk for ctx in group], now=at)


@transition_effect(on=["resume"])
def _rewatch_on_resume(ctx: EffectContext) -> None:
    """A person says the parcel is moving again: clear its alert, restart the clock from now.

    When tracking itself resumed the order, the alerts are already cleared and this is a no-op.
    """
    now = ctx.entry.at
    thresholds = Thresholds.load()
    alerted = Shipment.objects.filter(order_id=ctx.order.pk).exclude(alert=Alert.NONE).order_by("pk")
    for s in alerted:
        s.alert, s.alert_reason = Alert.NONE, ""
        if s.active and s.delivered_at is None:
            s.quiet_since = max(s.quiet_since, now)
            s.stall_due_at = s.quiet_since + thresholds.delta(s.carrier, s.province_code)
        s.save(update_fields=["alert", "alert_reason", "quiet_since", "stall_due_at"])


@transition_batch_effect(on=["complete", "close"])
def _stop_on_close(contexts: list[EffectContext]) -> None:
    order_ids = [ctx.order.pk for ctx in contexts]
    Shipment.objects.filter(order_id__in=order_ids).filter(Q(active=True) | ~Q(alert=Alert.NONE)).update(
        active=False, stall_due_at=None, alert=Alert.NONE
    )


@timeline_source("tracking")
def _tracking_timeline(order: Order) -> list[TimelineEvent]:
    """Carrier events of the order's parcels (and of its parts' parcels, on a parent order)."""
    # Index lookups only: the parts' ids by Order.parent_id (covering: SQLite's statistics count
    # every NULL parent as one value and would scan the table for any other column), then the
    # events by their shipments' order ids. An OR across the join would scan every shipment.
    part_ids = list(Order.objects.filter(parent_id=order.pk).values_list("pk", flat=True))
    part_nos = dict(Order.objects.filter(pk__in=part_ids).values_list("pk", "order_no")) if part_ids else {}
    events = (
        TrackingEvent.objects.filter(shipment__order_id__in=[order.pk, *part_ids])
        .select_related("shipment")
        .order_by("at", "pk")
    )
    rows = []
    for e in events:
        s = e.shipment
        details = {"carrier": s.carrier, "tracking_no": s.tracking_no, "area": e.area, "status": e.status}
        if s.order_id != order.pk:
            details["part"] = part_nos[s.order_id]
        rows.append(
            TimelineEvent(
                at=e.at,
                kind="tracking",
                title=f"{TrackingStatus(e.status).label}：{e.description}",
                actor=f"{carrier_name(s.carrier)} {s.tracking_no}",
                automatic=True,
                details=details,
            )
        )
    return rows
