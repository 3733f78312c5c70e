"""Pre-aggregated delivery-health figures: one row per local day and filter scope.

A day's row holds every summable figure of that day (counts, sums, per-operator step times) as
JSON, and the raw durations behind its percentiles (order → shipped, dwell per state, detection
lag, …) as packed sorted integers, so percentiles over any range of days stay exact.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DayRollup(models.Model):
    """The figures of one day (Asia/Shanghai) for one scope ("" = everything, or a filter key)."""

    day = models.DateField(_("日期"))
    scope = models.CharField(_("筛选范围"), max_length=120, blank=True)
    data = models.JSONField(default=dict)
    samples = models.BinaryField(default=b"")
    computed_at = models.DateTimeField(_("计算时间"))
    # Counted up to these ids (today's rows, stored every few minutes): the dashboard adds the
    # entries and orders after them. Null: the whole day.
    through_log_id = models.BigIntegerField(null=True, blank=True)
    through_order_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("交付健康度日汇总")
        verbose_name_plural = _("交付健康度日汇总")
        constraints = [models.UniqueConstraint(fields=["scope", "day"], name="dayrollup_unique_scope_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.scope or '*'}"


class RefreshMark(models.Model):
    """How far the periodic job has read the operation log and the orders (one row)."""

    name = models.CharField(max_length=32, unique=True)
    last_log_id = models.BigIntegerField(default=0)
    last_order_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: log {self.last_log_id}, orders {self.last_order_id}"
