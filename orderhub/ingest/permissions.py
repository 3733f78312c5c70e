"""Who may import and manage presets."""

from __future__ import annotations

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.core.errors import PermissionDenied

IMPORT_ROLES = frozenset({Role.CUSTOMER_SERVICE, Role.MANAGER, Role.ADMIN, Role.SYSTEM})
STOCK_ROLES = IMPORT_ROLES | {Role.WAREHOUSE}


def can_import(user: User, kind: str = "orders") -> bool:
    roles = STOCK_ROLES if kind == "stock" else IMPORT_ROLES
    return bool(user.is_authenticated and (user.is_superuser or user.role_names & roles))


def require_import(user: User, kind: str = "orders") -> None:
    if not can_import(user, kind):
        raise PermissionDenied("您的角色不能导入数据 / your role cannot import data")
