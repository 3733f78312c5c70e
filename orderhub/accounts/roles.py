"""Staff roles. Each role is a Django group of the same name; a user may hold several."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SALES = "sales", _("销售")
    CUSTOMER_SERVICE = "customer_service", _("客服")
    WAREHOUSE = "warehouse", _("仓库")
    LOGISTICS = "logistics", _("物流")
    FINANCE = "finance", _("财务")
    MANAGER = "manager", _("主管")
    ADMIN = "admin", _("管理员")
    # The account that automatic rules and the worker act as.
    SYSTEM = "system", _("系统")


ALL_ROLES: frozenset[str] = frozenset(Role.values)
# Roles that see every order; everyone else is scoped (sales: only the orders they own).
UNSCOPED_ROLES: frozenset[str] = frozenset(
    {
        Role.CUSTOMER_SERVICE,
        Role.WAREHOUSE,
        Role.LOGISTICS,
        Role.FINANCE,
        Role.MANAGER,
        Role.ADMIN,
        Role.SYSTEM,
    }
)
