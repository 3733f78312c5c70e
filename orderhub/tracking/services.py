"""Writes on tracking: start following a parcel, record carrier events, and move the order card
the way the carrier says (签收 → 已完成; 疑难 / 退回 / 拒签 → 物流异常, with the event as reason).

Lock order, everywhere in this app and in the transition effects: the order row first, then its
shipments in primary-key order (order_transition locks the order too, so effects that run inside
it follow the same order).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.services import system_user
from orderhub.core.db import CompiledRows
from orderhub.core.errors import ValidationFailed
from orderhub.orders.models import OperationLog, Order, PhoneKind
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus
from orderhub.tracking.adapters import PROVIDERS, adapter_get
from orderhub.tracking.adapters.base import CarrierEvent, ShipmentRef, TrackingError
from orderhub.tracking.carriers import PROBLEM_STATUSES, TrackingStatus, carrier_get, carrier_name
from orderhub.tracking.conf import tracking_conf
from orderhub.tracking.models import Alert, Shipment, TrackingEvent
from orderhub.tracking.thresholds import Thresholds

logger = logging.getLogger("orderhub.tracking")
S = OrderStatus
# Order states in which a parcel is watched for stalls.
WATCHED_ORDER_STATES = frozenset({S.SHIPPED, S.EXCEPTION})


@dataclass(frozen=True)
class RecordOutcome:
    events_added: int
    order_moved_to: str | None = None


# --- helpers ---------------------------------------------------------------------------------


def local_time(at: datetime) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M}"


def waybill_label(shipment: Shipment) -> str:
    return f"{carrier_name(shipment.carrier)} {shipment.tracking_no}"


def shipment_ref(shipment: Shipment) -> ShipmentRef:
    """What the provider is told; the phone only when it can identify the receiver."""
    order = shipment.order
    phone = order.receiver_phone if order.phone_kind == PhoneKind.NORMAL else ""
    wh = order.warehouse
    return ShipmentRef(
        shipment_id=shipment.pk,
        carrier=shipment.carrier,
        tracking_no=shipment.tracking_no,
        shipped_at=shipment.shipped_at,
        phone=phone,
        to_area="-".join(p for p in (order.province, order.city, order.district) if p),
        from_area="-".join(p for p in (wh.province, wh.city) if p) if wh else "",
    )


def lock_order_and_shipments(order_id: int) -> tuple[Order, list[Shipment]]:
    order = Order.objects.select_for_update().get(pk=order_id)
    shipments = list(Shipment.objects.select_for_update().filter(order_id=order_id).order_by("pk"))
    return order, shipments


def _details(shipment: Shipment, kind: str) -> dict[str, Any]:
    last = None
    if shipment.last_event_at:
        last = {
            "at": shipment.last_event_at.isoformat(),
            "status": shipment.status,
            "description": shipment.last_event_desc,
        }
    return {
        "source": "tracking",
        "kind": kind,
        "shipment_id": shipment.pk,
        "carrier": shipment.carrier,
        "tracking_no": shipment.tracking_no,
        "last_event": last,
    }


# --- starting -------------------------------------------------------------------------------


def tracking_start(
    *,
    order: Order,
    carrier: str,
    tracking_no: str,
    now: datetime | None = None,
    provider: str | None = None,
) -> Shipment:
    """Follow one waybill of an order part (idempotent for the same order and waybill).

    Watched for stalls from `now` when the order is already shipped, otherwise from its "ship"
    transition. A provider that pushes (Kuaidi100) is subscribed by a durable job.
    """
    now = now or timezone.now()
    known = carrier_get(carrier)
    if known is None:
        raise ValidationFailed(_("未知承运商：%(c)s") % {"c": carrier}, field="carrier")
    tracking_no = "".join((tracking_no or "").split())
    if not tracking_no or len(tracking_no) > 32:
        raise ValidationFailed(_("运单号须为 1 到 32 个字符"), field="tracking_no")
    c = tracking_conf()
    provider = provider or c["PROVIDER_BY_CARRIER"].get(known.code) or c["PROVIDER"]
    if provider not in PROVIDERS:
        raise ValidationFailed(_("未知物流跟踪来源：%(p)s") % {"p": provider}, field="provider")
    with transaction.atomic():
        existing = Shipment.objects.filter(carrier=known.code, tracking_no=tracking_no).first()
        if existing is not None:
            if existing.order_id != order.pk:
                raise ValidationFailed(
                    _("运单 %(no)s 已用于订单 %(other)s")
                    % {"no": tracking_no, "other": existing.order.order_no},
                    field="tracking_no",
                )
            return existing
        watched = order.status in WATCHED_ORDER_STATES
        due = now + Thresholds.load().delta(known.code, order.province_code) if watched else None
        shipment = Shipment.objects.create(
            order=order,
            carrier=known.code,
            tracking_no=tracking_no,
            provider=provider,
            province_code=order.province_code,
            shipped_at=now,
            quiet_since=now,
            stall_due_at=due,
        )
        if adapter_get(provider).pushes:
            from orderhub.tracking.tasks import subscribe_shipment

            subscribe_shipment.enqueue(shipment.pk)
    return shipment


def _unwatched(orders: Q) -> QuerySet[Shipment]:
    return Shipment.objects.filter(
        orders, stall_due_at__isnull=True, active=True, alert=Alert.NONE, delivered_at__isnull=True
    )


# Asked on every ship, answered "none" for most (built once).
_UNWATCHED_OF_ORDER = CompiledRows(lambda order_id: _unwatched(Q(order_id=order_id)).values_list("pk")[:1])


def shipments_watch(*, order_ids: list[int], now: datetime) -> int:
    """Start the stall clock of the orders' parcels that are not yet watched (on "ship")."""
    if len(order_ids) == 1 and not _UNWATCHED_OF_ORDER.rows(order_ids[0]):
        return 0  # one order shipped, nothing to watch: no query compiled
    pending = list(_unwatched(Q(order_id__in=order_ids)).order_by("pk"))
    if not pending:
        return 0  # most orders: no parcel is followed before its waybill registers one
    thresholds = Thresholds.load()
    for s in pending:
        s.shipped_at = s.quiet_since = max(s.quiet_since, now)
        s.stall_due_at = s.quiet_since + thresholds.delta(s.carrier, s.province_code)
        s.save(update_fields=["shipped_at", "quiet_since", "stall_due_at"])
    return len(pending)


# --- recording events -----------------------------------------------------------------------


def _events_insert(shipment: Shipment, events: list[CarrierEvent], now: datetime, source: str) -> int:
    """Insert the events not stored yet. A carrier event is the same event when its time and
    text match (its status may be reported differently in a later push)."""
    seen = set(TrackingEvent.objects.filter(shipment=shipment).values_list("at", "description"))
    rows = []
    for e in events:
        key = (e.at, e.description[:500])
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            TrackingEvent(
                shipment=shipment,
                at=e.at,
                status=e.status,
                carrier_state=e.carrier_state[:16],
                description=e.description[:500],
                area=e.area[:100],
                source=source,
                received_at=now,
            )
        )
    TrackingEvent.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def problem_reason(shipment: Shipment) -> str:
    label = TrackingStatus(shipment.status).label
    at = local_time(shipment.last_event_at) if shipment.last_event_at else ""
    return f"{label}：{waybill_label(shipment)} — {shipment.last_event_desc}（{at}）"


def _shipment_follow(shipment: Shipment, order: Order, now: datetime, thresholds: Thresholds) -> None:
    """Bring the parcel's status, stall clock and alert in line with its newest event."""
    latest = TrackingEvent.objects.filter(shipment=shipment).order_by("-at", "-id").first()
    if latest is None:
        return
    shipment.status = latest.status
    shipment.carrier_state = latest.carrier_state
    shipment.last_event_at = latest.at
    shipment.last_event_desc = latest.description
    # A carrier clock ahead of ours must not postpone the stall check indefinitely.
    shipment.quiet_since = max(shipment.quiet_since, min(latest.at, now))
    if latest.status == TrackingStatus.DELIVERED:
        shipment.delivered_at = latest.at
        shipment.active = False
        shipment.stall_due_at = None
        shipment.alert, shipment.alert_reason = Alert.NONE, ""
    elif latest.status in PROBLEM_STATUSES:
        reason = problem_reason(shipment)
        if shipment.alert != Alert.CARRIER_PROBLEM or shipment.alert_reason != reason:
            shipment.alert, shipment.alert_reason, shipment.alerted_at = Alert.CARRIER_PROBLEM, reason, now
        shipment.stall_due_at = None
        if latest.status == TrackingStatus.RETURN_SIGNED:
            shipment.active = False  # back with the sender: nothing more will happen
    else:
        deadline = shipment.quiet_since + thresholds.delta(shipment.carrier, shipment.province_code)
        # Transit resumed: a carrier problem is over; a stall is over unless the newest event
        # is itself older than the threshold (a late report of old news).
        if shipment.alert == Alert.CARRIER_PROBLEM or (shipment.alert == Alert.STALLED and deadline > now):
            shipment.alert, shipment.alert_reason = Alert.NONE, ""
        watched = not shipment.alert and order.status in WATCHED_ORDER_STATES
        shipment.stall_due_at = deadline if watched else None
    shipment.save()


def tracking_record(
    *, shipment_id: int, events: list[CarrierEvent], now: datetime, source: str
) -> RecordOutcome:
    """Store new carrier events of one parcel and move its order card if the carrier says so."""
    order_id = Shipment.objects.values_list("order_id", flat=True).get(pk=shipment_id)
    with transaction.atomic():
        order, shipments = lock_order_and_shipments(order_id)
        shipment = next(s for s in shipments if s.pk == shipment_id)
        added = _events_insert(shipment, events, now, source)
        if not added:
            return RecordOutcome(0)
        _shipment_follow(shipment, order, now, Thresholds.load())
        moved = order_follow(order, shipments, now)
    return RecordOutcome(added, moved)


# --- moving the order card ------------------------------------------------------------------


def _exception_is_ours(order: Order) -> bool:
    """Was the order's current 物流异常 raised by tracking (so tracking may also lift it)?"""
    entry = (
        OperationLog.objects.filter(order_id=order.pk, to_status=S.EXCEPTION)
        .order_by("-seq")
        .only("details")
        .first()
    )
    return bool(entry and isinstance(entry.details, dict) and entry.details.get("source") == "tracking")


def _move(
    order: Order, to: str, reason: str, details: dict[str, Any], now: datetime, actor: User | None
) -> str:
    order_transition(
        order_id=order.pk,
        to=to,
        actor=actor or system_user(),
        expected_version=order.version,
        reason=reason,
        details=details,
        automatic=True,
        now=now,
    )
    return to


def order_follow(
    order: Order, shipments: list[Shipment], now: datetime, *, actor: User | None = None
) -> str | None:
    """Move a locked order to the state its parcels call for; returns the new state if moved.

    Any parcel alerted (stalled or carrier problem) → 物流异常; every parcel signed for →
    已完成; otherwise → 已发货. Tracking lifts only an exception it raised itself: one a person
    raised stays until a person resolves it. `actor` defaults to the system user.
    """
    if not shipments:
        return None
    alerted = [s for s in shipments if s.alert]
    delivered = all(s.delivered_at for s in shipments)
    newest = max(shipments, key=lambda s: (s.last_event_at or s.shipped_at, s.pk))
    if order.status == S.SHIPPED:
        if alerted:
            first = alerted[0]
            return _move(order, S.EXCEPTION, first.alert_reason, _details(first, first.alert), now, actor)
        if delivered:
            reason = _("已签收：%(w)s — %(e)s") % {"w": waybill_label(newest), "e": newest.last_event_desc}
            return _move(order, S.COMPLETED, reason, _details(newest, "delivered"), now, actor)
    elif order.status == S.EXCEPTION and not alerted and _exception_is_ours(order):
        if delivered:
            reason = _("已签收：%(w)s — %(e)s") % {"w": waybill_label(newest), "e": newest.last_event_desc}
            return _move(order, S.COMPLETED, reason, _details(newest, "delivered"), now, actor)
        reason = _("物流恢复：%(w)s — %(e)s（%(at)s）") % {
            "w": waybill_label(newest),
            "e": newest.last_event_desc,
            "at": local_time(newest.last_event_at or newest.shipped_at),
        }
        return _move(order, S.SHIPPED, reason, _details(newest, "resumed"), now, actor)
    return None


# --- asking the provider --------------------------------------------------------------------


def tracking_refresh(*, shipment_id: int, now: datetime | None = None) -> RecordOutcome:
    """Query the provider for one parcel (outside any transaction) and record what is new."""
    now = now or timezone.now()
    shipment = Shipment.objects.select_related("order", "order__warehouse").get(pk=shipment_id)
    try:
        result = adapter_get(shipment.provider).query(shipment_ref(shipment), now=now)
    except TrackingError as exc:
        Shipment.objects.filter(pk=shipment_id).update(last_polled_at=now, poll_error=str(exc)[:255])
        raise
    Shipment.objects.filter(pk=shipment_id).update(last_polled_at=now, poll_error="")
    return tracking_record(shipment_id=shipment_id, events=result.events, now=now, source="poll")


def tracking_subscribe(*, shipment_id: int, now: datetime | None = None) -> None:
    """Subscribe one parcel at its provider (a job: the HTTP call is outside any transaction)."""
    now = now or timezone.now()
    shipment = Shipment.objects.select_related("order", "order__warehouse").get(pk=shipment_id)
    if not shipment.active:
        return
    try:
        adapter_get(shipment.provider).subscribe(shipment_ref(shipment))
    except TrackingError as exc:
        Shipment.objects.filter(pk=shipment_id).update(subscribe_error=str(exc)[:255])
        raise
    Shipment.objects.filter(pk=shipment_id).update(subscribed_at=now, subscribe_error="")
