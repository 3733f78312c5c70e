"""The stall monitor (物流停滞) and the fallback poller, both run as periodic jobs.

The stall scan is one indexed range query (`stall_due_at <= now` on a partial index over
watched parcels), so its cost grows with the parcels that are due, not with all shipped ones.
Each due parcel is then handled in its own short transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.services import system_user
from orderhub.orders.models import Order
from orderhub.orders.states import TERMINAL, OrderStatus
from orderhub.tracking.adapters.base import TrackingError
from orderhub.tracking.conf import tracking_conf
from orderhub.tracking.models import Alert, CallbackReceipt, Shipment
from orderhub.tracking.notices import stall_notices_owe
from orderhub.tracking.services import (
    WATCHED_ORDER_STATES,
    local_time,
    order_follow,
    tracking_refresh,
    waybill_label,
)
from orderhub.tracking.thresholds import Thresholds

logger = logging.getLogger("orderhub.tracking")


@dataclass
class ScanResult:
    due: int = 0
    stalled: list[int] = field(default_factory=list)  # shipment ids newly marked stalled
    orders_moved: list[int] = field(default_factory=list)  # order ids moved to 物流异常


def stall_due(*, now: datetime, limit: int | None = None) -> list[tuple[int, int]]:
    """(shipment id, order id) of watched parcels whose silence has reached their threshold."""
    qs = Shipment.objects.filter(stall_due_at__lte=now).order_by("stall_due_at", "pk")
    rows = qs.values_list("pk", "order_id")
    return list(rows[:limit] if limit else rows)


def stall_reason(shipment: Shipment, now: datetime, threshold_hours: float) -> str:
    silent = (now - shipment.quiet_since).total_seconds() / 3600
    head = _("物流停滞：%(w)s 已 %(h).0f 小时无物流更新（阈值 %(t)g 小时）") % {
        "w": waybill_label(shipment),
        "h": silent,
        "t": threshold_hours,
    }
    if shipment.last_event_at:
        tail = _("最后一条：%(at)s %(e)s") % {
            "at": local_time(shipment.last_event_at),
            "e": shipment.last_event_desc,
        }
    else:
        tail = _("自发货（%(at)s）起无任何物流记录") % {"at": local_time(shipment.shipped_at)}
    return f"{head}；{tail}"


def stall_mark(
    *, shipment_id: int, order_id: int, now: datetime, thresholds: Thresholds, actor: User | None = None
) -> tuple[bool, str | None]:
    """Mark one due parcel stalled and move its order to 物流异常.

    Returns (marked stalled?, the order's new state if it moved).
    Re-checked under the locks: an event may have arrived, or another worker got here first.
    """
    with transaction.atomic():
        # An order locked by someone else (another scan worker, a person's transition) is left
        # to the next scan rather than waited for: several workers then share one burst of
        # stalls (SKIP LOCKED on PostgreSQL; SQLite serialises writers anyway).
        order = Order.objects.select_for_update(skip_locked=True).filter(pk=order_id).first()
        if order is None:
            return False, None
        shipments = list(Shipment.objects.select_for_update().filter(order_id=order_id).order_by("pk"))
        shipment = next((s for s in shipments if s.pk == shipment_id), None)
        if shipment is None or shipment.stall_due_at is None or shipment.stall_due_at > now or shipment.alert:
            return False, None
        if order.status not in WATCHED_ORDER_STATES:
            shipment.stall_due_at = None
            shipment.active = order.status not in TERMINAL
            shipment.save(update_fields=["stall_due_at", "active"])
            return False, None
        hours = thresholds.hours(shipment.carrier, shipment.province_code)
        shipment.alert = Alert.STALLED
        shipment.alert_reason = stall_reason(shipment, now, hours)
        shipment.alerted_at = now
        shipment.stall_due_at = None
        shipment.save(update_fields=["alert", "alert_reason", "alerted_at", "stall_due_at"])
        moved = order_follow(order, shipments, now, actor=actor)
        # Committed with the stall: the people responsible and the receiver hear of it once.
        stall_notices_owe(
            shipment=shipment, order=order, now=now, hours=hours, order_moved=moved == OrderStatus.EXCEPTION
        )
    return True, moved


def stall_scan(*, now: datetime | None = None, limit: int | None = None) -> ScanResult:
    """Find every stalled parcel and raise it; run every ≤ 5 min so detection lags ≤ 15 min."""
    now = now or timezone.now()
    due = stall_due(now=now, limit=limit)
    result = ScanResult(due=len(due))
    if not due:
        return result
    thresholds = Thresholds.load()
    actor = system_user()
    _ = actor.role_names  # loaded once for the whole scan, not once per parcel
    for shipment_id, order_id in due:
        try:
            marked, moved = stall_mark(
                shipment_id=shipment_id, order_id=order_id, now=now, thresholds=thresholds, actor=actor
            )
        except Exception:  # one bad order must not hide every other stall
            logger.exception("stall monitor: shipment %s failed", shipment_id)
            continue
        if marked:
            result.stalled.append(shipment_id)
        if moved == OrderStatus.EXCEPTION:
            result.orders_moved.append(order_id)
    if result.stalled:
        logger.info(
            "stall monitor: %d parcel(s) stalled, %d order(s) to 物流异常",
            len(result.stalled),
            len(result.orders_moved),
        )
    return result


# --- the fallback poller ---------------------------------------------------------------------


def poll_due(*, now: datetime, limit: int) -> list[int]:
    """Active parcels to ask their provider about now, least recently asked first.

    Simulated parcels: every POLL_INTERVAL (it is their only source). Kuaidi100 parcels: only
    when silent for POLL_QUIET (pushes may have been lost) and not asked within POLL_INTERVAL.
    """
    c = tracking_conf()
    plans = [
        ("simulated", c["SIMULATED"]["POLL_INTERVAL_SECONDS"], None),
        ("kuaidi100", c["KUAIDI100"]["POLL_INTERVAL_SECONDS"], c["KUAIDI100"]["POLL_QUIET_SECONDS"]),
    ]
    ids: list[int] = []
    for provider, interval, quiet in plans:
        qs = Shipment.objects.filter(active=True, provider=provider).filter(
            Q(last_polled_at__isnull=True) | Q(last_polled_at__lte=now - timedelta(seconds=interval))
        )
        if quiet is not None:
            qs = qs.filter(quiet_since__lte=now - timedelta(seconds=quiet))
        qs = qs.order_by(F("last_polled_at").asc(nulls_first=True), "pk")
        ids += list(qs.values_list("pk", flat=True)[: max(limit - len(ids), 0)])
    return ids


@dataclass
class PollResult:
    polled: int = 0
    events_added: int = 0
    failed: int = 0


def tracking_poll(*, now: datetime | None = None, limit: int | None = None) -> PollResult:
    """Ask the providers about the parcels that are due (each call outside any transaction)."""
    now = now or timezone.now()
    result = PollResult()
    for shipment_id in poll_due(now=now, limit=limit or int(tracking_conf()["POLL_BATCH"])):
        try:
            outcome = tracking_refresh(shipment_id=shipment_id, now=now)
        except TrackingError as exc:
            logger.warning("tracking poll: shipment %s: %s", shipment_id, exc)
            result.failed += 1
            continue
        result.polled += 1
        result.events_added += outcome.events_added
    return result


def callback_receipts_prune(*, now: datetime | None = None) -> int:
    """Forget callback receipts older than CALLBACK_RECEIPT_DAYS (events stay deduplicated)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=int(tracking_conf()["CALLBACK_RECEIPT_DAYS"]))
    deleted, _ = CallbackReceipt.objects.filter(received_at__lt=cutoff).delete()
    return deleted
