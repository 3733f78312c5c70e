"""What each role sees first: the board's column order, whether "only my orders" starts on,
and what the landing page shows."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.orders.states import STATUS_ORDER
from orderhub.orders.states import OrderStatus as S


@dataclass(frozen=True)
class Preset:
    key: str
    title: str | Promise
    columns: tuple[str, ...]
    mine_default: bool = False


def _first(*statuses: str) -> tuple[str, ...]:
    """The given columns first, then the rest in the standard order (cancelled stays last)."""
    rest = [s for s in STATUS_ORDER if s not in statuses]
    return (*statuses, *rest)


PRESETS: dict[str, Preset] = {
    "manager": Preset("manager", _("主管视图：全部订单"), STATUS_ORDER),
    # Customer service resolves holds and answers for exceptions: those columns come first.
    "customer_service": Preset(
        "customer_service", _("客服视图：拦截与异常优先"), _first(S.PENDING_REVIEW, S.EXCEPTION)
    ),
    "warehouse": Preset(
        "warehouse",
        _("仓库视图：本仓待处理"),
        _first(S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED),
        mine_default=True,
    ),
    "logistics": Preset("logistics", _("物流视图：在途与异常"), _first(S.SHIPPED, S.EXCEPTION)),
    "sales": Preset("sales", _("销售视图：我的订单与承诺时间"), STATUS_ORDER, mine_default=True),
}

# Who wins when a person holds several roles: the broadest view first.
_PRECEDENCE: tuple[tuple[str, str], ...] = (
    (Role.ADMIN, "manager"),
    (Role.MANAGER, "manager"),
    (Role.CUSTOMER_SERVICE, "customer_service"),
    (Role.WAREHOUSE, "warehouse"),
    (Role.LOGISTICS, "logistics"),
    (Role.SALES, "sales"),
)


def preset_for(user: User) -> Preset:
    roles = user.role_names
    for role, key in _PRECEDENCE:
        if role in roles:
            return PRESETS[key]
    return PRESETS["manager"]
