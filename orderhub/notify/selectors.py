"""Reads: the in-app inbox (always the requesting user's own messages) and the outbox."""

from __future__ import annotations

from django.db.models import Count

from orderhub.accounts.models import User
from orderhub.notify.models import Delivery, DeliveryStatus, InboxMessage


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
