"""Writes of the workspace: staff inquiries, and bulk moves of board cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.core.errors import AppError, PermissionDenied, ValidationFailed
from orderhub.fulfilment.models import Waybill
from orderhub.orders.models import Order
from orderhub.orders.permissions import scope_orders
from orderhub.orders.services import order_transition, order_transition_many
from orderhub.orders.states import OrderStatus
from orderhub.web.models import StaffInquiry

LABEL_ROLES = frozenset({Role.WAREHOUSE, Role.LOGISTICS, Role.MANAGER, Role.ADMIN})
BULK_TARGETS = {"approve": OrderStatus.SPLIT, "cancel": OrderStatus.CANCELLED}
MAX_BULK = 200


def staff_inquiry_record(
    *, actor: User, order: Order, query: str, matched_by: str, now: datetime | None = None
) -> StaffInquiry:
    """Count one lookup made on behalf of a customer (代客查询): who, when, which order, what was asked."""
    return StaffInquiry.objects.create(
        user=actor, order=order, query=query[:64], matched_by=matched_by[:20], at=now or timezone.now()
    )


@dataclass
class BulkItem:
    order_id: int
    expected_version: int | None


@dataclass
class BulkOutcome:
    order_id: int
    order_no: str
    ok: bool
    message: str


def parse_selection(values: list[str]) -> list[BulkItem]:
    """Selected cards as sent by the board: "id:version" (the version the person saw)."""
    items: dict[int, BulkItem] = {}
    for raw in values:
        pk_text, _sep, version_text = raw.partition(":")
        try:
            pk = int(pk_text)
            version = int(version_text) if version_text else None
        except ValueError:
            continue
        if 0 < pk < 2**63:
            items.setdefault(pk, BulkItem(pk, version))
    if len(items) > MAX_BULK:
        raise ValidationFailed(_("一次最多处理 %(n)s 张卡片") % {"n": MAX_BULK}, field="sel")
    return list(items.values())


def _order_numbers(actor: User, items: list[BulkItem]) -> dict[int, str]:
    ids = [i.order_id for i in items]
    return dict(scope_orders(Order.objects.filter(pk__in=ids), actor).values_list("pk", "order_no"))


def board_bulk_transition(
    *, actor: User, items: list[BulkItem], action: str, reason: str = ""
) -> list[BulkOutcome]:
    """Apply one action to each selected card; one refusal (a hold, a stale card, a role) never
    blocks the others.

    The cards move together through the bulk transition service (each checked, logged and
    notified on its own); should a side effect refuse one of them (stock records out of step,
    say), they are taken again one transaction per card, so only that card stays behind.
    """
    to = BULK_TARGETS.get(action)
    if to is None:
        raise ValidationFailed(_("未知的批量操作"), field="action")
    numbers = _order_numbers(actor, items)
    errors: dict[int, str] = {}
    try:
        batch = order_transition_many(
            order_ids=[i.order_id for i in items if i.order_id in numbers],
            to=to,
            actor=actor,
            expected_versions={
                i.order_id: i.expected_version for i in items if i.expected_version is not None
            },
            reason=reason,
        )
        errors = {order_id: exc.message for order_id, exc in batch.refused}
    except AppError:
        errors = _one_by_one(actor, [i for i in items if i.order_id in numbers], to, reason)
    label = OrderStatus(to).label
    out = []
    for item in items:
        no = numbers.get(item.order_id)
        if no is None:
            out.append(BulkOutcome(item.order_id, f"#{item.order_id}", False, _("订单不存在")))
        elif item.order_id in errors:
            out.append(BulkOutcome(item.order_id, no, False, errors[item.order_id]))
        else:
            out.append(BulkOutcome(item.order_id, no, True, _("已变为「%(s)s」") % {"s": label}))
    return out


def _one_by_one(actor: User, items: list[BulkItem], to: str, reason: str) -> dict[int, str]:
    """Each card in its own transaction; the refusals' messages by order id."""
    errors = {}
    for item in items:
        try:
            order_transition(
                order_id=item.order_id,
                to=to,
                actor=actor,
                expected_version=item.expected_version,
                reason=reason,
            )
        except AppError as exc:
            errors[item.order_id] = exc.message
    return errors


def labels_check(*, actor: User, items: list[BulkItem]) -> list[BulkOutcome]:
    """Which selected cards have a live e-waybill to print (the PDF itself comes from fulfilment)."""
    if not actor.role_names & LABEL_ROLES:
        raise PermissionDenied(_("您的角色不能打印面单"))
    numbers = _order_numbers(actor, items)
    live = dict(
        Waybill.objects.filter(order_id__in=list(numbers), status=Waybill.Status.ACTIVE).values_list(
            "order_id", "number"
        )
    )
    out = []
    for item in items:
        no = numbers.get(item.order_id)
        if no is None:
            out.append(BulkOutcome(item.order_id, f"#{item.order_id}", False, _("订单不存在")))
        elif item.order_id in live:
            out.append(BulkOutcome(item.order_id, no, True, _("面单 %(n)s") % {"n": live[item.order_id]}))
        else:
            out.append(BulkOutcome(item.order_id, no, False, _("没有有效面单（需先在「分仓中」取号打单）")))
    return out
