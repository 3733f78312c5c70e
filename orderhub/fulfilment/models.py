"""Fulfilment configuration (rules a manager edits) and fulfilment records."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AllocationPolicy(models.Model):
    """Ordered allocation strategies (分仓策略); the one with no selling entity is the default."""

    name = models.CharField(_("名称"), max_length=64)
    selling_entity = models.OneToOneField(
        "accounts.LegalEntity",
        verbose_name=_("适用销售主体"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("留空：默认策略"),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("分仓策略")
        verbose_name_plural = _("分仓策略")

    def __str__(self) -> str:
        return self.name


class AllocationStep(models.Model):
    policy = models.ForeignKey(AllocationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    # One of fulfilment.allocation.STRATEGIES (validated by the admin form's choices).
    strategy = models.CharField(_("策略"), max_length=32)

    class Meta:
        verbose_name = _("策略步骤")
        verbose_name_plural = _("策略步骤")
        ordering = ["policy_id", "position", "pk"]

    def __str__(self) -> str:
        return self.strategy


class ProvincePreference(models.Model):
    """Region proximity: for receivers in a province, which warehouses to prefer (lower rank first)."""

    province = models.CharField(_("收货省份"), max_length=32, db_index=True)
    warehouse = models.ForeignKey("inventory.Warehouse", verbose_name=_("仓库"), on_delete=models.CASCADE)
    rank = models.PositiveSmallIntegerField(_("优先顺序"), default=1)

    class Meta:
        verbose_name = _("就近发货")
        verbose_name_plural = _("就近发货")
        ordering = ["province", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["province", "warehouse"], name="provpref_unique"),
            models.CheckConstraint(condition=Q(rank__gte=0), name="provpref_rank_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.province} → {self.warehouse_id} #{self.rank}"
