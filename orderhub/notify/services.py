"""Recording owed notifications (inside the caller's transaction) and delivering them (in jobs)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from orderhub.accounts.models import User
from orderhub.notify.models import InboxMessage
from orderhub.notify.routing import responsible_users
from orderhub.orders.effects import EffectContext, transition_effect
from orderhub.orders.models import HoldReason, OperationLog, Order
from orderhub.orders.states import OrderStatus
from orderhub.orders.timeline import TimelineEvent, timeline_source


def notify_for_log_entry(entry: OperationLog) -> None:
    """Owe a notification for a transition: a durable job committed with the transition."""
    from orderhub.notify.tasks import deliver_transition_notice

    deliver_transition_notice.enqueue(entry.pk)


def notify_for_hold(order: Order, reasons: list[str]) -> None:
    from orderhub.notify.tasks import deliver_hold_notice

    deliver_hold_notice.enqueue(order.pk, reasons)


def inbox_deliver(*, user_ids: list[int], key: str, order: Order | None, title: str, body: str) -> int:
    """Write one inbox message per user, at most once per (user, key). Returns messages written."""
    written = 0
    for user_id in user_ids:
        try:
            with transaction.atomic():
                _, created = InboxMessage.objects.get_or_create(
                    user_id=user_id, key=key, defaults={"order": order, "title": title, "body": body}
                )
        except IntegrityError:  # a concurrent run wrote it first
            created = False
        written += int(created)
    return written


def transition_notice_deliver(log_id: int) -> int:
    entry = OperationLog.objects.select_related("order", "order__channel").get(pk=log_id)
    order = entry.order
    users = responsible_users(order, entry.to_status)
    target = OrderStatus(entry.to_status).label
    title = f"订单 {order.order_no} 已进入「{target}」"
    body = f"{entry.actor_name or '系统'} 于 {entry.at:%Y-%m-%d %H:%M} 操作"
    if entry.reason:
        body += f"，原因：{entry.reason}"
    return inbox_deliver(
        user_ids=[u.pk for u in users], key=f"log:{log_id}", order=order, title=title, body=body
    )


def hold_notice_deliver(order_id: int, reasons: list[str]) -> int:
    order = Order.objects.get(pk=order_id)
    labels = "、".join(str(HoldReason(r).label) for r in reasons if r in HoldReason.values)
    users = responsible_users(order, OrderStatus.PENDING_REVIEW)
    return inbox_deliver(
        user_ids=[u.pk for u in users],
        key=f"hold:{order_id}:{','.join(sorted(reasons))}",
        order=order,
        title=f"订单 {order.order_no} 被拦截：{labels}",
        body="请在待审核中处理拦截原因后再审核。",
    )


def inbox_mark_read(*, user: User, message_id: int | None = None) -> int:
    """Mark one of the user's messages (or, without an id, all of them) read; returns rows changed.

    Scoped to the user: another user's message id changes nothing, like an absent one.
    """
    qs = InboxMessage.objects.filter(user=user, read_at__isnull=True)
    if message_id is not None:
        qs = qs.filter(pk=message_id)
    return qs.update(read_at=timezone.now())


@transition_effect()
def _notify_transition(ctx: EffectContext) -> None:
    """Every transition tells the people responsible for the new state (unless back-filled)."""
    if ctx.notify:
        notify_for_log_entry(ctx.entry)


@timeline_source("inbox")
def _inbox_timeline(order: Order) -> list[TimelineEvent]:
    sent = InboxMessage.objects.filter(order_id=order.pk).select_related("user").order_by("created_at", "pk")
    return [
        TimelineEvent(
            at=m.created_at,
            kind="notification",
            title=m.title,
            actor="系统",
            automatic=True,
            details={"recipient": str(m.user), "channel": "inbox"},
        )
        for m in sent
    ]
