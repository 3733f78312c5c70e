"""Warehouses, stock per warehouse and SKU, reservations and the stock ledger."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Warehouse(models.Model):
    code = models.CharField(_("仓库编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    province = models.CharField(_("省"), max_length=32)
    province_code = models.CharField(_("省代码"), max_length=6, blank=True)
    city = models.CharField(_("市"), max_length=32, blank=True)
    district = models.CharField(_("区县"), max_length=32, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    contact_name = models.CharField(_("发件人"), max_length=64, blank=True)
    contact_phone = models.CharField(_("发件电话"), max_length=32, blank=True)
    owner_entity = models.ForeignKey(
        "accounts.LegalEntity",
        verbose_name=_("所属主体"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    priority = models.PositiveSmallIntegerField(_("优先级"), default=100)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("仓库")
        verbose_name_plural = _("仓库")
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return self.name


class Stock(models.Model):
    """On-hand and reserved units; changed only by conditional UPDATEs with a ledger row."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stocks")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="stocks")
    on_hand = models.IntegerField(_("在库"), default=0)
    reserved = models.IntegerField(_("已占用"), default=0)
    bin_location = models.CharField(_("库位"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("库存")
        verbose_name_plural = _("库存")
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "sku"], name="stock_unique_wh_sku"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_lte_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse_id}/{self.sku_id}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovementKind(models.TextChoices):
    RECEIPT = "receipt", _("入库")
    COUNT = "count", _("盘点")
    RESERVE = "reserve", _("占用")
    RELEASE = "release", _("释放")
    SHIP = "ship", _("出库")


class StockMovement(models.Model):
    """Ledger: every change of a stock counter, so counters reconcile with history."""

    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=StockMovementKind.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("库存流水")
        verbose_name_plural = _("库存流水")

    def __str__(self) -> str:
        return f"{self.kind} {self.on_hand_delta:+d}/{self.reserved_delta:+d}"


class Reservation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("占用中")
        RELEASED = "released", _("已释放")
        CONSUMED = "consumed", _("已出库")

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="reservations")
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("库存占用")
        verbose_name_plural = _("库存占用")
        indexes = [models.Index(fields=["order", "status"])]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.quantity}"


class StockAdjustment(models.Model):
    """A receipt (入库) or a stock count (盘点) slip; applied only by `stock_adjust`."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("入库")
        COUNT = "count", _("盘点")

    warehouse = models.ForeignKey(Warehouse, verbose_name=_("仓库"), on_delete=models.PROTECT)
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("商品"), on_delete=models.PROTECT)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    # Receipt: units received. Count: units counted on the shelf (the new on-hand).
    quantity = models.IntegerField(_("数量"))
    note = models.CharField(_("说明"), max_length=255, blank=True)
    movement = models.OneToOneField(
        StockMovement, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment"
    )
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("库存调整")
        verbose_name_plural = _("库存调整")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stockadj_quantity_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sku_id} {self.quantity}"
