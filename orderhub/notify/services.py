"""Owing notifications (inside the caller's transaction) and the writes around deliveries.

Other apps call `notify_event` (an event about an order, routed by the table of who is
responsible) or `message_send` (one message to one destination) inside their own transaction:
the delivery rows and their jobs commit with the change that owes them, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from orderhub.core.jobs import jobs_enqueue_many
from orderhub.notify.conf import notify_conf
from orderhub.notify.delivery import deliveries_send
from orderhub.notify.models import (
    CHANNEL_PROVIDERS,
    EVENT_CHOICES,
    ROBOT_CHANNELS,
    Delivery,
    DeliveryStatus,
    Endpoint,
    InboxMessage,
    MessageTemplate,
    NotifyChannel,
    UserPreference,
)
from orderhub.notify.rendering import (
    event_context,
    order_url,
    render_message,
    template_problem,
    templates_for,
)
from orderhub.notify.routing import DefaultEndpoints, route
from orderhub.orders.models import HoldReason, OperationLog, Order

NOTIFY_MANAGERS = (Role.MANAGER, Role.ADMIN)


def deliveries_plan(*, order: Order, event: str, source: str, context: dict[str, Any]) -> list[Delivery]:
    """Route `event` and write one pending delivery per destination (idempotent per `source`)."""
    targets = route(order, event)
    if not targets:
        return []
    templates = templates_for(event)
    rendered = {
        ch: render_message(event=event, channel=ch, context=context, templates=templates)
        for ch in {t.channel for t in targets}
    }
    url = order_url(order.pk)
    rows = []
    for t in targets:
        msg = rendered[t.channel]
        address = ""
        if t.user is not None:
            address = t.user.mobile if t.channel == NotifyChannel.SMS else ""
            address = t.user.email if t.channel == NotifyChannel.EMAIL else address
        rows.append(
            Delivery(
                key=f"{source}:{t.channel}:{t.suffix}",
                source=source,
                event=event,
                channel=t.channel,
                endpoint=t.endpoint,
                user=t.user,
                address=address,
                mentions=list(t.mentions),
                order=order,
                title=msg.title,
                body=msg.body,
                url=url if t.channel in ROBOT_CHANNELS else "",
                sms_template=msg.sms_template,
                sms_params=msg.sms_params,
            )
        )
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return list(Delivery.objects.filter(key__in=[r.key for r in rows]).order_by("pk"))


def _enqueue_sends(deliveries: Iterable[Delivery]) -> int:
    """Enqueue batch send jobs for the deliveries not yet dispatched (in the caller's transaction)."""
    from orderhub.notify.tasks import send_batch

    ids = list(
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries], dispatched=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Delivery.objects.filter(pk__in=ids).update(dispatched=True)
    size = int(notify_conf("BATCH_SIZE"))
    for start in range(0, len(ids), size):
        send_batch.enqueue(ids[start : start + size])
    return len(ids)


def notify_event(
    *,
    event: str,
    order: Order,
    key: str,
    reason: str = "",
    actor: str = "",
    extra: dict[str, Any] | None = None,
) -> list[Delivery]:
    """Owe the notifications of `event` (an order state, "stalled", …) about `order`.

    Call inside the transaction of the change that owes them. `key` names this one notice
    (e.g. f"stall:{order.pk}:{event_id}"): calling again with the same key owes nothing more.
    `extra` adds template variables ({{ hours }}, {{ carrier }}, …).
    """
    context = event_context(order=order, event=event, actor=actor, reason=reason, extra=extra)
    with transaction.atomic():
        deliveries = deliveries_plan(order=order, event=event, source=key[:128], context=context)
        _enqueue_sends(deliveries)
    return deliveries


def _message_row(
    *,
    channel: str,
    key: str,
    title: str,
    body: str = "",
    user: User | None = None,
    address: str = "",
    endpoint: Endpoint | None = None,
    order: Order | None = None,
    mentions: Iterable[str] = (),
    sms_template: str = "",
    sms_params: dict[str, str] | None = None,
    url: str = "",
) -> Delivery:
    if channel not in NotifyChannel.values:
        raise ValidationFailed(_("未知的通知方式：%(c)s") % {"c": channel}, field="channel")
    if channel == NotifyChannel.INBOX and user is None:
        raise ValidationFailed(_("站内消息需要收件人"), field="user")
    return Delivery(
        key=key[:200],
        source=key[:128],
        event="message",
        channel=channel,
        endpoint=endpoint,
        user=user,
        address=address,
        order=order,
        mentions=list(mentions),
        title=title[:300],
        body=body,
        url=url,
        sms_template=sms_template,
        sms_params={k: str(v) for k, v in (sms_params or {}).items()},
    )


def message_send(**message: Any) -> Delivery:
    """Owe one message to one destination (an SMS to a receiver, a robot post), idempotent per
    `key`. Arguments: channel, key, title, and optionally body, user, address (mobile / e-mail),
    endpoint (default: the channel's default robot / SMS account), order, mentions,
    sms_template, sms_params, url. Call inside the transaction of the change that owes it."""
    return messages_send([message])[0]


def messages_send(messages: Iterable[dict[str, Any]]) -> list[Delivery]:
    """Owe many messages at once (each as for `message_send`): their rows and a few batch jobs."""
    defaults = DefaultEndpoints()
    rows = []
    for m in messages:
        if m.get("endpoint") is None and m.get("channel") in CHANNEL_PROVIDERS:
            m = {**m, "endpoint": defaults.default(m["channel"])}  # the channel's default robot/account
        rows.append(_message_row(**m))
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        by_key = {d.key: d for d in Delivery.objects.filter(key__in=[r.key for r in rows])}
        deliveries = [by_key[r.key] for r in rows]
        _enqueue_sends(deliveries)
    return deliveries


# --- transitions and holds --------------------------------------------------------------------


def _log_context(entry: OperationLog) -> dict[str, Any]:
    return event_context(
        order=entry.order,
        event=entry.to_status,
        actor=entry.actor_name,
        at=entry.at,
        reason=entry.reason,
        from_status=entry.from_status,
        status=entry.to_status,
    )


def notify_for_log_entries(entries: list[OperationLog]) -> None:
    """Owe transitions' notifications: one durable job each, committed with the transitions.

    Routing (who is responsible, their preferences, the templates) is planned by the job, not
    here: it reads several configuration tables and would double the cost of every transition.
    The job plans from the log entry (state, actor, reason, time) and the order as it then is.
    """
    from orderhub.notify.tasks import deliver_transition_notice

    if entries:  # one INSERT, cheaper than enqueue() even for a single job
        jobs_enqueue_many(deliver_transition_notice, [(entry.pk,) for entry in entries])


def _hold_source(order_id: int, reasons: list[str]) -> str:
    return f"hold:{order_id}:{','.join(sorted(reasons))}"[:128]


def _hold_plan(order: Order, reasons: list[str]) -> None:
    labels = "、".join(str(HoldReason(r).label) for r in reasons if r in HoldReason.values)
    context = event_context(order=order, event="hold", extra={"hold_labels": labels})
    deliveries_plan(order=order, event="hold", source=_hold_source(order.pk, reasons), context=context)


def notify_for_hold(order: Order, reasons: list[str]) -> None:
    from orderhub.notify.tasks import deliver_hold_notice

    _hold_plan(order, reasons)
    deliver_hold_notice.enqueue(order.pk, reasons)


def deliveries_dispatch(source: str) -> dict[str, int]:
    """Send a notice's deliveries now (the first attempt; failures get their own retry job)."""
    ids = list(
        Delivery.objects.filter(source=source, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Delivery.objects.filter(pk__in=ids).update(dispatched=True)
    return deliveries_send(ids) if ids else {}


def _inbox_written(source: str, before: set[int]) -> int:
    return InboxMessage.objects.filter(key=source).exclude(pk__in=before).count()


def transition_notice_deliver(log_id: int) -> int:
    """The job of a transition: plan (if the transition did not) and dispatch its deliveries."""
    entry = OperationLog.objects.select_related("order", "order__channel").get(pk=log_id)
    source = f"log:{log_id}"
    if not Delivery.objects.filter(source=source).exists():
        with transaction.atomic():
            deliveries_plan(
                order=entry.order, event=entry.to_status, source=source, context=_log_context(entry)
            )
    before = set(InboxMessage.objects.filter(key=source).values_list("pk", flat=True))
    deliveries_dispatch(source)
    return _inbox_written(source, before)


def hold_notice_deliver(order_id: int, reasons: list[str]) -> int:
    source = _hold_source(order_id, reasons)
    if not Delivery.objects.filter(source=source).exists():
        with transaction.atomic():
            _hold_plan(Order.objects.get(pk=order_id), reasons)
    before = set(InboxMessage.objects.filter(key=source).values_list("pk", flat=True))
    deliveries_dispatch(source)
    return _inbox_written(source, before)


# --- failed deliveries, templates, inbox ------------------------------------------------------


def _require_manager(actor: User) -> None:
    if not actor.has_role(*NOTIFY_MANAGERS):
        raise PermissionDenied(_("只有主管或管理员可以执行此操作"))


def delivery_retry(*, delivery_id: int, actor: User) -> Delivery:
    """Send a dead delivery again from scratch (a fresh set of attempts)."""
    from orderhub.notify.tasks import send_delivery

    _require_manager(actor)
    with transaction.atomic():
        d = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if d is None:
            raise NotFound(_("没有这条通知"))
        if d.status != DeliveryStatus.DEAD:
            raise Conflict(_("这条通知不是发送失败状态，无需重试"), code="not_dead")
        d.status = DeliveryStatus.PENDING
        d.attempts = 0
        d.dispatched = True
        d.last_error = f"{actor} 于 {timezone.localtime():%Y-%m-%d %H:%M} 手动重试；上次：{d.last_error}"[
            :2000
        ]
        d.save(update_fields=["status", "attempts", "dispatched", "last_error", "updated_at"])
        send_delivery.enqueue(d.pk)
    return d


def deliveries_retry_dead(*, actor: User, limit: int = 500) -> int:
    """Retry every dead delivery (oldest first, at most `limit`); returns how many."""
    _require_manager(actor)
    ids = list(
        Delivery.objects.filter(status=DeliveryStatus.DEAD)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for delivery_id in ids:
        try:
            delivery_retry(delivery_id=delivery_id, actor=actor)
        except Conflict:  # retried meanwhile by someone else
            continue
        done += 1
    return done


def user_preference_set(*, user: User, muted_channels: list[str], muted_events: list[str]) -> UserPreference:
    """A person chooses what not to hear about (the in-app inbox cannot be muted)."""
    channels = [c for c in muted_channels if c in NotifyChannel.values and c != NotifyChannel.INBOX]
    events = [e for e in muted_events if e in dict(EVENT_CHOICES)]
    pref, _created = UserPreference.objects.update_or_create(
        user=user, defaults={"muted_channels": channels, "muted_events": events}
    )
    return pref


def endpoints_simulated_ensure() -> list[Endpoint]:
    """For the offline demo: one simulated endpoint (it carries robots and SMS alike) when no
    endpoint is configured at all. Returns what it created."""
    if Endpoint.objects.filter(is_active=True).exists():
        return []
    return [
        Endpoint.objects.create(
            code="demo",
            name="演示端点（模拟，只记日志）",
            provider="simulated",
            is_default=True,
            rate_limit=0,
        )
    ]


def message_template_reset(*, actor: User, event: str, channel: str = "") -> int:
    """Back to the built-in text: remove the managers' template of (event, channel)."""
    _require_manager(actor)
    deleted, _rows = MessageTemplate.objects.filter(event=event, channel=channel).delete()
    return deleted


def message_template_save(
    *, actor: User, event: str, channel: str, title: str, body: str, template: MessageTemplate | None = None
) -> MessageTemplate:
    """Create or change a message template after checking that it renders."""
    _require_manager(actor)
    for name, source in (("title", title), ("body", body)):
        problem = template_problem(source)
        if problem:
            raise ValidationFailed(problem, field=name)
    template = template or MessageTemplate.objects.filter(event=event, channel=channel).first()
    template = template or MessageTemplate(event=event, channel=channel)
    template.title, template.body, template.updated_by, template.is_active = title, body, actor, True
    template.save()
    return template


def inbox_mark_read(*, user: User, message_id: int | None = None) -> int:
    """Mark one of the user's messages (or, without an id, all of them) read; returns rows changed.

    Scoped to the user: another user's message id changes nothing, like an absent one.
    """
    qs = InboxMessage.objects.filter(user=user, read_at__isnull=True)
    if message_id is not None:
        qs = qs.filter(pk=message_id)
    return qs.update(read_at=timezone.now())
