"""Reads: the in-app inbox (always the requesting user's own messages), the outbox, the templates."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from orderhub.accounts.models import User
from orderhub.notify.models import (
    EVENT_CHOICES,
    EVENT_STATUS,
    Delivery,
    DeliveryStatus,
    InboxMessage,
    MessageTemplate,
)
from orderhub.notify.rendering import default_texts
from orderhub.orders.models import Order


def inbox_list(*, user: User, unread_only: bool = False, limit: int = 100) -> list[InboxMessage]:
    """The user's newest messages first, with the order each one is about."""
    qs = InboxMessage.objects.filter(user=user).select_related("order")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs.order_by("-created_at", "-id")[:limit])


def inbox_unread_count(*, user: User) -> int:
    return InboxMessage.objects.filter(user=user, read_at__isnull=True).count()


def deliveries_failed(*, limit: int = 200) -> tuple[list[Delivery], int]:
    """Dead deliveries (retries used up, or refused for good), newest first, and how many there are."""
    qs = Delivery.objects.filter(status=DeliveryStatus.DEAD)
    rows = list(qs.select_related("endpoint", "user").order_by("-updated_at", "-pk")[:limit])
    return rows, qs.count()


def delivery_counts() -> dict[str, int]:
    """How many deliveries are in each status (for the page head)."""
    return dict(Delivery.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))


def templates_overview() -> list[dict[str, Any]]:
    """Each event's message words: the managers' own (for every channel) or the built-in ones."""
    custom = {t.event: t for t in MessageTemplate.objects.filter(channel="").select_related("updated_by")}
    per_channel: dict[str, list[str]] = {}
    for event, channel in MessageTemplate.objects.exclude(channel="").values_list("event", "channel"):
        per_channel.setdefault(event, []).append(channel)
    rows = []
    for event, label in EVENT_CHOICES:
        t = custom.get(event)
        title, body = (t.title, t.body) if t else default_texts(event)
        rows.append(
            {
                "event": event,
                "label": label,
                "title": title,
                "body": body,
                "custom": t is not None,
                "active": t.is_active if t else True,
                "updated_by": t.updated_by if t else None,
                "updated_at": t.updated_at if t else None,
                "channels": per_channel.get(event, []),
            }
        )
    return rows


def template_sample_order(event: str) -> Order | None:
    """The newest order in the event's state (else the newest order) to preview a template on."""
    status = EVENT_STATUS.get(event, event)
    qs = Order.objects.select_related("channel", "customer", "warehouse", "owner").order_by("-pk")
    return qs.filter(status=status).first() or qs.first()
