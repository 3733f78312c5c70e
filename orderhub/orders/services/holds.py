"""Interceptions (拦截): holding an order in 待审核 and releasing it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.core.errors import InvalidTransition, NotFound, PermissionDenied
from orderhub.orders.audit import log_append
from orderhub.orders.errors import order_not_found
from orderhub.orders.models import HoldReason, LogAction, Order, OrderHold
from orderhub.orders.permissions import can_see
from orderhub.orders.states import OrderStatus

HOLD_ROLES = frozenset({Role.CUSTOMER_SERVICE, Role.MANAGER, Role.ADMIN, Role.SYSTEM})


def _locked(order_id: int, actor: User) -> Order:
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or not can_see(actor, order):
        raise order_not_found(order_id)
    if not actor.role_names & HOLD_ROLES:
        raise PermissionDenied(_("您的角色不能拦截或放行订单"))
    return order


def _save_head(order: Order, actor: User, now: datetime) -> None:
    order.version += 1
    Order.objects.filter(pk=order.pk).update(
        version=order.version,
        last_operator=actor,
        updated_at=now,
        log_seq=order.log_seq,
        log_head=order.log_head,
    )


def order_hold(
    *, order_id: int, reason: str, actor: User, detail: str = "", now: datetime | None = None
) -> OrderHold:
    """Hold an order in 待审核 with a reason; forward moves are refused until released."""
    now = now or timezone.now()
    if reason not in HoldReason.values:
        raise InvalidTransition(_("未知拦截原因：%(r)s") % {"r": reason}, field="reason")
    with transaction.atomic():
        order = _locked(order_id, actor)
        if order.status != OrderStatus.PENDING_REVIEW:
            raise InvalidTransition(_("只有待审核的订单可以拦截"), field="status")
        hold, created = OrderHold.objects.get_or_create(
            order=order, reason=reason, resolved_at=None, defaults={"detail": detail, "created_by": actor}
        )
        if created:
            log_append(
                order=order,
                action=LogAction.HOLD,
                actor=actor,
                at=now,
                reason=detail,
                details={"hold": reason},
            )
            _save_head(order, actor, now)
        return hold


def order_hold_release(
    *, order_id: int, hold_id: int, actor: User, resolution: str = "", now: datetime | None = None
) -> OrderHold:
    """Resolve one hold, recording who resolved it and how."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order_id, actor)
        hold = OrderHold.objects.filter(pk=hold_id, order=order, resolved_at__isnull=True).first()
        if hold is None:
            raise NotFound(_("该拦截不存在或已处理"), field="hold_id")
        hold.resolved_at = now
        hold.resolved_by = actor
        hold.resolution = resolution
        hold.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        log_append(
            order=order,
            action=LogAction.RELEASE,
            actor=actor,
            at=now,
            reason=resolution,
            details={"hold": hold.reason},
        )
        _save_head(order, actor, now)
        return hold
