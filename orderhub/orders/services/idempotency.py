"""Idempotent order creation: one `Idempotency-Key` (per user) creates at most one order."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.core.errors import ValidationFailed
from orderhub.orders.models import IdempotencyRecord, Order
from orderhub.orders.services.create import OrderDraft, order_create

IDEMPOTENCY_KEY_MAX_LENGTH = 128


def draft_fingerprint(draft: OrderDraft) -> str:
    """SHA-256 of the draft in canonical JSON: the same request always hashes the same."""
    payload = json.dumps(
        dataclasses.asdict(draft),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _replay(*, actor: User, key: str, request_hash: str) -> Order | None:
    """The order an earlier request with this key created, if the request is the same one."""
    record = IdempotencyRecord.objects.select_related("order").filter(user=actor, key=key).first()
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise ValidationFailed(
            _(
                "Idempotency-Key「%(key)s」已用于另一份不同内容的请求（订单 %(no)s）；"
                "新订单请使用新的 Idempotency-Key"
            )
            % {"key": key, "no": record.order.order_no},
            code="idempotency_key_reused",
            field="Idempotency-Key",
            details={"order_id": record.order_id},
        )
    return record.order


def order_create_idempotent(
    *,
    draft: OrderDraft,
    actor: User,
    idempotency_key: str | None,
    now: datetime | None = None,
) -> tuple[Order, bool]:
    """Create an order once per (user, key) and once per channel order number.

    Returns (order, created). Repeating a request returns the first order; reusing a key for a
    different request is refused. Without a key only the channel order number deduplicates.
    """
    if not idempotency_key:
        return order_create(draft=draft, actor=actor, now=now)
    if len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH or not idempotency_key.isprintable():
        raise ValidationFailed(
            _("Idempotency-Key 须为不超过 %(n)s 个可打印字符") % {"n": IDEMPOTENCY_KEY_MAX_LENGTH},
            field="Idempotency-Key",
        )
    request_hash = draft_fingerprint(draft)
    existing = _replay(actor=actor, key=idempotency_key, request_hash=request_hash)
    if existing is not None:
        return existing, False
    try:
        # The order and its key commit together: a duplicate key rolls back the order as well.
        with transaction.atomic():
            order, created = order_create(draft=draft, actor=actor, now=now)
            IdempotencyRecord.objects.create(
                user=actor, key=idempotency_key, request_hash=request_hash, order=order
            )
    except IntegrityError:
        # A concurrent request with the same key committed first: answer with its order.
        existing = _replay(actor=actor, key=idempotency_key, request_hash=request_hash)
        if existing is None:
            raise
        return existing, False
    return order, created
