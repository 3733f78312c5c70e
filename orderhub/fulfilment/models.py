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


class Carrier(models.Model):
    """A carrier (快递公司) and how its e-waybill numbers are obtained."""

    class Provider(models.TextChoices):
        SIMULATED = "simulated", _("模拟（本地号段）")
        CAINIAO = "cainiao", _("菜鸟电子面单")

    code = models.CharField(_("编码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=32)
    provider = models.CharField(
        _("面单来源"), max_length=16, choices=Provider.choices, default=Provider.SIMULATED
    )
    cp_code = models.CharField(_("菜鸟 cpCode"), max_length=16, blank=True)
    taobao_code = models.CharField(_("淘宝物流公司编码"), max_length=16, blank=True)
    pdd_logistics_id = models.CharField(_("拼多多物流公司 ID"), max_length=16, blank=True)
    douyin_code = models.CharField(
        _("抖店物流公司编码"),
        max_length=32,
        blank=True,
        help_text=_("/order/logisticsCompanyList 的 code，如 zhongtong"),
    )
    alibaba_code = models.CharField(
        _("1688 物流公司编码"),
        max_length=32,
        blank=True,
        help_text=_("1688「物流公司列表-自联物流」的 companyNo，如 SF"),
    )
    # Simulated provider: numbers prefix + [range_start, range_end], handed out in order.
    number_prefix = models.CharField(_("单号前缀"), max_length=8, blank=True)
    range_start = models.BigIntegerField(_("号段起"), default=1)
    range_end = models.BigIntegerField(_("号段止"), default=9_999_999_999)
    next_number = models.BigIntegerField(_("下一个号"), default=1)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("快递公司")
        verbose_name_plural = _("快递公司")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(next_number__gte=models.F("range_start")), name="carrier_next_gte_start"
            ),
            # One past the end means the range is used up; never beyond.
            models.CheckConstraint(
                condition=Q(next_number__lte=models.F("range_end") + 1), name="carrier_next_lte_end_plus_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CarrierRule(models.Model):
    """Carrier strategy (快递策略): the first active rule whose conditions all hold picks the carrier."""

    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("名称"), max_length=64)
    provinces = models.CharField(
        _("收货省份"),
        max_length=255,
        blank=True,
        help_text=_("逗号或顿号分隔，如：浙江省、江苏省、上海市；留空=不限"),
    )
    customer_tiers = models.CharField(
        _("客户等级"), max_length=64, blank=True, help_text=_("如 vip；留空=不限")
    )
    channels = models.CharField(_("渠道编码"), max_length=255, blank=True, help_text=_("留空=不限"))
    min_weight_kg = models.DecimalField(
        _("重量大于(kg)"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    max_weight_kg = models.DecimalField(
        _("重量不超过(kg)"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    carrier = models.ForeignKey(Carrier, verbose_name=_("快递"), on_delete=models.PROTECT)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("快递策略")
        verbose_name_plural = _("快递策略")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class Waybill(models.Model):
    """An e-waybill number (电子面单号) obtained for an order from its carrier's provider."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        VOIDED = "voided", _("已作废")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="waybills")
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="waybills")
    number = models.CharField(_("运单号"), max_length=40)
    provider = models.CharField(max_length=16)
    rule = models.CharField(_("快递策略"), max_length=64, blank=True)
    print_data = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(db_index=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("电子面单")
        verbose_name_plural = _("电子面单")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "number"], name="waybill_unique_number"),
            # At most one live waybill per order.
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="active"), name="waybill_one_active"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Wave(models.Model):
    """A pick wave (波次): orders of one warehouse picked and printed together."""

    code = models.CharField(_("波次号"), max_length=32, unique=True)
    warehouse = models.ForeignKey("inventory.Warehouse", verbose_name=_("仓库"), on_delete=models.PROTECT)
    orders = models.ManyToManyField("orders.Order", related_name="waves", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("波次")
        verbose_name_plural = _("波次")

    def __str__(self) -> str:
        return self.code


class LabelPrint(models.Model):
    """Every time a label was rendered for printing; reprints (补打) are counted and say who."""

    waybill = models.ForeignKey(Waybill, on_delete=models.PROTECT, related_name="prints")
    wave = models.ForeignKey(Wave, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reprint = models.BooleanField(default=False)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("面单打印记录")
        verbose_name_plural = _("面单打印记录")

    def __str__(self) -> str:
        return f"{self.waybill_id} @ {self.at}"


class ShipReport(models.Model):
    """Ship notification to the sales channel (发货回传): carrier and tracking number, once per order."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待回传")
        SENT = "sent", _("已回传")
        FAILED = "failed", _("回传失败")

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="ship_report")
    adapter = models.CharField(_("接口"), max_length=16)
    channel_order_no = models.CharField(_("渠道订单号"), max_length=64)
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="+")
    tracking_number = models.CharField(_("运单号"), max_length=40)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    request = models.JSONField(default=dict, blank=True)  # parameters sent, secrets left out
    response = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("发货回传")
        verbose_name_plural = _("发货回传")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.channel_order_no} {self.tracking_number}"


class PackSession(models.Model):
    """One order packed at the packing station (打包台): from scanning its label to shipping it."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="pack_sessions")
    waybill = models.ForeignKey(Waybill, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("打包记录")
        verbose_name_plural = _("打包记录")

    def __str__(self) -> str:
        return f"{self.order_id} {self.started_at}"


class PackScan(models.Model):
    """Every scan at the station, accepted or refused (wrong item, too many): the 错发 evidence."""

    session = models.ForeignKey(PackSession, on_delete=models.CASCADE, related_name="scans")
    code = models.CharField(_("扫描内容"), max_length=64)
    sku_code = models.CharField(max_length=64, blank=True)
    accepted = models.BooleanField()
    message = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("扫描记录")
        verbose_name_plural = _("扫描记录")
        ordering = ["session_id", "at", "pk"]

    def __str__(self) -> str:
        return self.code


class EntityRule(models.Model):
    """Which legal entity sells, ships and invoices (主体规则); per role, the first matching rule wins."""

    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("名称"), max_length=64)
    channels = models.CharField(_("渠道编码"), max_length=255, blank=True, help_text=_("留空=不限"))
    provinces = models.CharField(_("收货省份"), max_length=255, blank=True, help_text=_("留空=不限"))
    warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("发货仓"), null=True, blank=True, on_delete=models.CASCADE
    )
    customer_tiers = models.CharField(_("客户等级"), max_length=64, blank=True, help_text=_("留空=不限"))
    selling_entity = models.ForeignKey(
        "accounts.LegalEntity",
        verbose_name=_("销售主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    shipping_entity = models.ForeignKey(
        "accounts.LegalEntity",
        verbose_name=_("发货主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    invoicing_entity = models.ForeignKey(
        "accounts.LegalEntity",
        verbose_name=_("开票主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("主体规则")
        verbose_name_plural = _("主体规则")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name
