"""SKUs, customers and their tiers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerTier(models.TextChoices):
    VIP = "vip", _("VIP")
    A = "a", _("A类")
    B = "b", _("B类")
    C = "c", _("C类")


class Sku(models.Model):
    code = models.CharField(_("商家编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    spec = models.CharField(_("规格"), max_length=128, blank=True)
    barcode = models.CharField(_("条码"), max_length=64, blank=True, db_index=True)
    weight_g = models.PositiveIntegerField(_("重量(克)"), default=0)
    pack_size = models.PositiveIntegerField(_("每箱数量"), default=1)
    fragile = models.BooleanField(_("易碎"), default=False)
    oversize = models.BooleanField(_("超大件"), default=False)
    liquid = models.BooleanField(_("液体"), default=False)
    unit_price = models.DecimalField(_("单价"), max_digits=12, decimal_places=2, default=0)
    aliases = models.JSONField(_("别名"), default=list, blank=True)
    active = models.BooleanField(_("在售"), default=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Customer(models.Model):
    code = models.CharField(_("客户编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=128)
    phone = models.CharField(_("电话"), max_length=32, blank=True, db_index=True)
    tier = models.CharField(_("客户等级"), max_length=8, choices=CustomerTier.choices, default=CustomerTier.C)
    is_dealer = models.BooleanField(_("经销商"), default=True)
    credit_limit = models.DecimalField(_("信用额度"), max_digits=14, decimal_places=2, default=0)
    province = models.CharField(_("省"), max_length=32, blank=True)
    city = models.CharField(_("市"), max_length=32, blank=True)
    district = models.CharField(_("区县"), max_length=32, blank=True)
    address_detail = models.CharField(_("详细地址"), max_length=255, blank=True)
    owner = models.ForeignKey(
        "accounts.User",
        verbose_name=_("负责销售"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
