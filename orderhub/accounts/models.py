"""Users, legal entities and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from orderhub.accounts.roles import UNSCOPED_ROLES


class User(AbstractUser):
    display_name = models.CharField(_("显示名"), max_length=64, blank=True)
    mobile = models.CharField(_("手机号"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @cached_property
    def role_names(self) -> frozenset[str]:
        """The role codes this user holds (cached for the request; groups rarely change)."""
        if self.is_superuser:
            from orderhub.accounts.roles import ALL_ROLES

            return ALL_ROLES
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_names.intersection(roles))

    @property
    def sees_all_orders(self) -> bool:
        """Sales staff see only the orders they own; every other role sees all."""
        return bool(self.role_names & UNSCOPED_ROLES)


class LegalEntity(models.Model):
    """A company that sells, ships or invoices (one group may trade through several)."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    tax_id = models.CharField(_("统一社会信用代码"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("法人主体")
        verbose_name_plural = _("法人主体")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


def hash_token(raw: str) -> str:
    """Tokens are random and long, so a plain SHA-256 is enough to keep them unusable at rest."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("用途"), max_length=64, blank=True)
    prefix = models.CharField(_("前缀"), max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def generate() -> str:
        return "oh_" + secrets.token_urlsafe(32)
