"""Customer self-service lookup (客户自助查询): one-time codes, rate-limit counters, the lookups
themselves (counted for the self-service share), and transit-time estimates per carrier and
destination province."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LookupCode(models.Model):
    """A one-time SMS code. Neither the phone nor the code is stored: only keyed hashes."""

    phone_digest = models.CharField(max_length=64, db_index=True)
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("查询验证码")
        verbose_name_plural = _("查询验证码")
        indexes = [models.Index(fields=["expires_at"], name="lookupcode_expires")]

    def __str__(self) -> str:
        return f"{self.phone_digest[:8]}… {self.created_at:%Y-%m-%d %H:%M}"


class RateCounter(models.Model):
    """Hits of one key (e.g. "code:phone:<digest>", "lookup:ip:<address>") in one fixed window.

    Rows live in the database so every web process shares them; old windows are pruned.
    """

    key = models.CharField(max_length=120)
    window_start = models.BigIntegerField()  # seconds since the epoch
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="ratecounter_unique_key_window")
        ]
        indexes = [models.Index(fields=["window_start"], name="ratecounter_window")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.count}"


class LookupKind(models.TextChoices):
    PHONE = "phone", _("手机号 + 验证码")
    ORDER_NO = "order_no", _("订单号 + 手机尾号")


class LookupEvent(models.Model):
    """One successful customer self-service lookup (the numerator of the self-service share)."""

    at = models.DateTimeField(_("查询时间"), db_index=True)
    kind = models.CharField(_("方式"), max_length=10, choices=LookupKind.choices)
    orders_found = models.PositiveIntegerField(_("订单数"), default=0)
    order_ids = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("自助查询记录")
        verbose_name_plural = _("自助查询记录")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"


class TransitEstimate(models.Model):
    """How long a carrier usually takes to deliver to a province, from OrderHub's own history
    (median hours from scan-out to signed-for). province_code "" = the carrier anywhere."""

    carrier = models.CharField(_("承运商"), max_length=32)
    province_code = models.CharField(_("目的省代码"), max_length=6, blank=True)
    median_hours = models.FloatField(_("中位时效（小时）"))
    samples = models.PositiveIntegerField(_("样本数"))
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("时效估计")
        verbose_name_plural = _("时效估计")
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "province_code"], name="transit_unique_carrier_province"
            )
        ]

    def __str__(self) -> str:
        return f"{self.carrier}/{self.province_code or '*'}: {self.median_hours:.1f} h"
