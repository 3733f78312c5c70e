"""What the notify app plugs into orders: the transition effect and the timeline sources."""

from __future__ import annotations

from orderhub.core.db import CompiledRows
from orderhub.notify.models import Delivery, DeliveryStatus, InboxMessage, NotifyChannel
from orderhub.notify.services import notify_for_log_entries
from orderhub.orders.effects import EffectContext, transition_batch_effect
from orderhub.orders.models import Order
from orderhub.orders.timeline import TimelineEvent, timeline_source


@transition_batch_effect()
def _notify_transitions(contexts: list[EffectContext]) -> None:
    """Every transition tells the people responsible for the new state (unless back-filled)."""
    notify_for_log_entries([ctx.entry for ctx in contexts if ctx.notify])


# Compiled once: every timeline view reads it.
_INBOX_ROWS = CompiledRows(
    lambda order_id: (
        InboxMessage.objects.filter(order_id=order_id)
        .order_by("created_at", "pk")
        .values_list("created_at", "title", "user__display_name", "user__username")
    )
)


@timeline_source("inbox")
def _inbox_timeline(order: Order) -> list[TimelineEvent]:
    return [
        TimelineEvent(
            at=at,
            kind="notification",
            title=title,
            actor="系统",
            automatic=True,
            details={"recipient": display_name or username, "channel": "inbox"},  # as str(user)
        )
        for at, title, display_name, username in _INBOX_ROWS.rows(order.pk)
    ]


@timeline_source("deliveries")
def _delivery_timeline(order: Order) -> list[TimelineEvent]:
    """Robot, SMS and e-mail deliveries about the order (the inbox source shows inbox ones)."""
    rows = (
        Delivery.objects.filter(order_id=order.pk)
        .exclude(channel=NotifyChannel.INBOX)
        .select_related("user", "endpoint")
        .order_by("created_at", "pk")
    )
    events = []
    for d in rows:
        recipient = str(d.user) if d.user_id else (str(d.endpoint) if d.endpoint_id else d.address)
        status = d.get_status_display()
        if d.status == DeliveryStatus.MERGED:
            status = f"{status}（汇总消息 #{d.merged_into_id}）"
        details = {"recipient": recipient, "channel": d.channel, "status": status}
        if d.status in (DeliveryStatus.DEAD, DeliveryStatus.FAILED) and d.last_error:
            details["error"] = d.last_error
        events.append(
            TimelineEvent(
                at=d.sent_at or d.created_at,
                kind="notification",
                title=f"{d.get_channel_display()}：{d.title}（{status}）",
                actor="系统",
                automatic=True,
                details=details,
            )
        )
    return events
