"""Shipments (one parcel of an order part), their carrier events, stall thresholds and the
receipts of Kuaidi100 callbacks."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orderhub.tracking.carriers import TrackingStatus


class Alert(models.TextChoices):
    NONE = "", _("无")
    STALLED = "stalled", _("物流停滞")
    CARRIER_PROBLEM = "carrier_problem", _("承运商异常")


class Shipment(models.Model):
    """One waybill of one order part, tracked from scan-out until it is signed for.

    `quiet_since` is when the parcel last showed life (scan-out, its newest carrier event, or a
    person's resolution); `stall_due_at` = quiet_since + the threshold for its carrier and
    destination province, precomputed so the stall monitor is one indexed range scan. It is
    NULL whenever the parcel is not watched (delivered, already alerted, order closed).
    """

    order = models.ForeignKey(
        "orders.Order", verbose_name=_("订单"), on_delete=models.PROTECT, related_name="shipments"
    )
    carrier = models.CharField(_("承运商"), max_length=32)
    tracking_no = models.CharField(_("运单号"), max_length=40)
    provider = models.CharField(_("跟踪来源"), max_length=20)
    province_code = models.CharField(_("目的省代码"), max_length=6, blank=True)
    status = models.CharField(
        _("物流状态"), max_length=20, choices=TrackingStatus.choices, default=TrackingStatus.PENDING
    )
    carrier_state = models.CharField(_("承运商原始状态"), max_length=16, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"))
    last_event_at = models.DateTimeField(_("最新物流时间"), null=True, blank=True)
    last_event_desc = models.CharField(_("最新物流"), max_length=500, blank=True)
    quiet_since = models.DateTimeField(_("静默起点"))
    stall_due_at = models.DateTimeField(_("停滞判定时间"), null=True, blank=True)
    alert = models.CharField(_("异常"), max_length=20, choices=Alert.choices, default=Alert.NONE, blank=True)
    alert_reason = models.CharField(_("异常原因"), max_length=500, blank=True)
    alerted_at = models.DateTimeField(_("异常时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    # Still followed (polled, callbacks applied); False once signed for or the order is closed.
    active = models.BooleanField(_("跟踪中"), default=True)
    subscribed_at = models.DateTimeField(null=True, blank=True)
    subscribe_error = models.CharField(max_length=255, blank=True)
    resubscribe_count = models.PositiveSmallIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    poll_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("运单跟踪")
        verbose_name_plural = _("运单跟踪")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "tracking_no"], name="shipment_unique_waybill"),
        ]
        indexes = [
            # The stall monitor: WHERE stall_due_at <= now, over watched parcels only.
            models.Index(
                fields=["stall_due_at"],
                condition=Q(stall_due_at__isnull=False),
                name="shipment_stall_due",
            ),
            # The poller: active parcels of one provider, least recently polled first.
            models.Index(
                fields=["provider", "last_polled_at"],
                condition=Q(active=True),
                name="shipment_poll_due",
            ),
            models.Index(fields=["tracking_no"], name="shipment_tracking_no"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_no}"


class TrackingEvent(models.Model):
    """One carrier event. Unique on its content, so a re-delivered callback never duplicates."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("物流时间"))
    status = models.CharField(_("物流状态"), max_length=20, choices=TrackingStatus.choices)
    carrier_state = models.CharField(_("承运商原始状态"), max_length=16, blank=True)
    description = models.CharField(_("物流描述"), max_length=500)
    area = models.CharField(_("地区"), max_length=100, blank=True)
    source = models.CharField(_("来源"), max_length=16)
    received_at = models.DateTimeField(_("接收时间"))

    class Meta:
        verbose_name = _("物流事件")
        verbose_name_plural = _("物流事件")
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "at", "status", "description"], name="tracking_event_unique"
            ),
        ]
        indexes = [models.Index(fields=["shipment", "-at"], name="tracking_event_latest")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.description}"


class StallThreshold(models.Model):
    """How long a parcel may stay silent before it counts as stalled (物流停滞).

    Blank carrier or province means "any". The most specific rule wins: carrier and province,
    then the more patient of a carrier-only and a province-only rule, then the any/any rule,
    then settings.TRACKING["STALL_HOURS"].
    """

    carrier = models.CharField(_("承运商"), max_length=32, blank=True)
    province_code = models.CharField(_("目的省代码"), max_length=6, blank=True)
    hours = models.DecimalField(_("停滞阈值（小时）"), max_digits=6, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("停滞阈值")
        verbose_name_plural = _("停滞阈值")
        constraints = [
            models.UniqueConstraint(fields=["carrier", "province_code"], name="stall_threshold_unique"),
            models.CheckConstraint(condition=Q(hours__gt=0), name="stall_threshold_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier or '*'}/{self.province_code or '*'}: {self.hours} h"


class CallbackOutcome(models.TextChoices):
    APPLIED = "applied", _("已处理")
    UNKNOWN_SHIPMENT = "unknown_shipment", _("未知运单")
    REPLAYED = "replayed", _("重放，已拒绝")


class CallbackReceipt(models.Model):
    """Each accepted Kuaidi100 push, by digest of its signed payload: a second delivery of the
    same bytes (a replay) is recognised and never applied again."""

    digest = models.CharField(max_length=64, unique=True)
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.SET_NULL, related_name="callbacks"
    )
    push_status = models.CharField(max_length=16, blank=True)
    outcome = models.CharField(max_length=20, choices=CallbackOutcome.choices)
    events_added = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(db_index=True)
    replays = models.PositiveIntegerField(default=0)
    last_replay_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("快递100推送")
        verbose_name_plural = _("快递100推送")

    def __str__(self) -> str:
        return f"{self.digest[:12]} {self.outcome}"
