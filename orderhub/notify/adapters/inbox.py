"""The in-app inbox (站内消息): a row in our own database, at most one per (user, key)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from orderhub.notify.adapters.base import OutboundMessage, SendResult


class InboxAdapter:
    def send(self, message: OutboundMessage) -> SendResult:
        from orderhub.notify.models import InboxMessage

        if message.user_id is None:
            return SendResult.permanent("no_user", "站内消息需要收件人")
        try:
            with transaction.atomic():
                _, created = InboxMessage.objects.get_or_create(
                    user_id=message.user_id,
                    key=message.inbox_key or message.key,
                    defaults={
                        "order_id": message.order_id,
                        "title": message.title[:200],
                        "body": message.body,
                    },
                )
        except IntegrityError:  # a concurrent run wrote it first
            created = False
        return SendResult.accepted(code="created" if created else "exists", created=created)

    def interpret(self, status: int, body: bytes) -> SendResult:
        return SendResult.accepted(code=str(status))
