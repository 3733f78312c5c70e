"""Workspace data: which warehouse a staff member works in, per-state time targets of the board,
and staff inquiries (lookups made on behalf of a customer)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from orderhub.orders.states import OrderStatus


class UserWarehouse(models.Model):
    """A staff member works in a warehouse: their "only my orders" is that warehouse's queue."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("员工"), on_delete=models.CASCADE, related_name="+"
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("仓库"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("员工仓库")
        verbose_name_plural = _("员工仓库")
        constraints = [
            models.UniqueConstraint(fields=["user", "warehouse"], name="userwarehouse_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.warehouse}"


class StateTarget(models.Model):
    """How long an order should stay in one state (看板时效): amber from `amber_percent`, red past it."""

    status = models.CharField(_("状态"), max_length=20, choices=OrderStatus.choices, unique=True)
    target_minutes = models.PositiveIntegerField(_("目标时长（分钟）"), validators=[MinValueValidator(1)])
    amber_percent = models.PositiveSmallIntegerField(
        _("黄灯起点（%）"), default=75, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("状态时效目标")
        verbose_name_plural = _("状态时效目标")
        ordering = ["status"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} ≤ {self.target_minutes} min"


class StaffInquiry(models.Model):
    """A staff member looked an order up for a customer (代客查询); the dashboard counts these."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("员工"), on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("订单"), on_delete=models.CASCADE, related_name="+"
    )
    query = models.CharField(_("查询内容"), max_length=64)
    matched_by = models.CharField(_("匹配方式"), max_length=20)
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("代客查询")
        verbose_name_plural = _("代客查询")
        indexes = [models.Index(fields=["user", "at"], name="staffinquiry_user_at")]

    def __str__(self) -> str:
        return f"{self.user} {self.query} @ {self.at:%Y-%m-%d %H:%M}"
