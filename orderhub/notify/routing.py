"""Who is responsible for an order in each state (谁负责). Configurable routing comes later;
these defaults follow DESIGN.md's "usually moved on by" column."""

from __future__ import annotations

from django.db.models import Q

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.orders.models import Order
from orderhub.orders.states import OrderStatus

RESPONSIBLE_ROLES: dict[str, tuple[str, ...]] = {
    OrderStatus.PENDING_REVIEW: (Role.CUSTOMER_SERVICE,),
    OrderStatus.SPLIT: (Role.WAREHOUSE,),
    OrderStatus.ALLOCATING: (Role.WAREHOUSE,),
    OrderStatus.LABEL_PRINTED: (Role.WAREHOUSE,),
    OrderStatus.SHIPPED: (Role.LOGISTICS,),
    OrderStatus.EXCEPTION: (Role.LOGISTICS, Role.CUSTOMER_SERVICE),
    OrderStatus.COMPLETED: (),
    OrderStatus.CANCELLED: (Role.WAREHOUSE,),
}
# States in which the order's own salesperson is told as well.
OWNER_INFORMED: frozenset[str] = frozenset(
    {OrderStatus.EXCEPTION, OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.PENDING_REVIEW}
)


def responsible_users(order: Order, status: str) -> list[User]:
    """Active users who must act on (or hear about) this order in `status`."""
    cond = Q(groups__name__in=RESPONSIBLE_ROLES.get(status, ()))
    if status in OWNER_INFORMED and order.owner_id:
        cond |= Q(pk=order.owner_id)
    return list(User.objects.filter(cond, is_active=True).distinct().order_by("pk"))
