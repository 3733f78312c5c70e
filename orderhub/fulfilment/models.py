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


class ReviewRule(models.Model):
    """One automatic-review rule (自动审单规则); rules run in position order, all of them."""

    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("名称"), max_length=64)
    # One of fulfilment.review.RULES (validated by the admin form's choices).
    rule = models.CharField(_("规则"), max_length=32)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("审单规则")
        verbose_name_plural = _("审单规则")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class BlacklistEntry(models.Model):
    class Kind(models.TextChoices):
        PHONE = "phone", _("电话")
        CUSTOMER = "customer", _("客户编码")
        RECEIVER = "receiver", _("收货人")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    value = models.CharField(_("值"), max_length=64)
    note = models.CharField(_("原因"), max_length=255, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("黑名单")
        verbose_name_plural = _("黑名单")
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="blacklist_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class ReviewRun(models.Model):
    """One automatic review of one order: every rule's verdict and the inputs it looked at."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("自动通过")
        HELD = "held", _("拦截")

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="review_runs")
    at = models.DateTimeField(db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    results = models.JSONField(default=list)

    class Meta:
        verbose_name = _("自动审单记录")
        verbose_name_plural = _("自动审单记录")
        ordering = ["order_id", "at"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.outcome}"


class SplitRule(models.Model):
    """One split rule (拆单规则); rules refine the parcels in position order."""

    class Kind(models.TextChoices):
        BY_HANDLING = "by_handling", _("按商品属性（易碎/超大件/液体分开）")
        BY_WAREHOUSE = "by_warehouse", _("按仓库库存（单仓无法发全时）")
        MAX_WEIGHT = "max_weight", _("按包裹重量上限")

    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    kind = models.CharField(_("规则"), max_length=16, choices=Kind.choices)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("拆单规则")
        verbose_name_plural = _("拆单规则")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.get_kind_display()
