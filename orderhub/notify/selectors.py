"""Reads on the in-app inbox (站内消息): always the requesting user's own messages."""

from __future__ import annotations

from orderhub.accounts.models import User
from orderhub.notify.models import InboxMessage


def inbox_list(*, user: User, unread_only: bool = False, limit: int = 100) -> list[InboxMessage]:
    """The user's newest messages first, with the order each one is about."""
    qs = InboxMessage.objects.filter(user=user).select_related("order")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs.order_by("-created_at", "-id")[:limit])


def inbox_unread_count(*, user: User) -> int:
    return InboxMessage.objects.filter(user=user, read_at__isnull=True).count()
