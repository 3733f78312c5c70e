"""Drafts: an order read from a chat message or screenshots, waiting for a person's confirmation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DraftStatus(models.TextChoices):
    DRAFT = "draft", _("待确认")
    DUPLICATE = "duplicate", _("疑似重复")
    CONFIRMED = "confirmed", _("已下单")
    DISCARDED = "discarded", _("已作废")


class DraftSource(models.TextChoices):
    TEXT = "text", _("文字消息")
    IMAGE = "image", _("截图/照片")


class Draft(models.Model):
    source = models.CharField(_("来源"), max_length=8, choices=DraftSource.choices)
    # The message as received, or the OCR text of the images in reading order.
    text = models.TextField(_("原文"), blank=True)
    parsed = models.JSONField(_("识别结果"), default=dict)
    status = models.CharField(
        _("状态"), max_length=12, choices=DraftStatus.choices, default=DraftStatus.DRAFT, db_index=True
    )
    customer = models.ForeignKey(
        "catalog.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    receiver_phone = models.CharField(_("收货电话"), max_length=32, blank=True, db_index=True)
    # Customer key + sorted (SKU, quantity): equal fingerprints within the window are duplicates.
    fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    duplicate_order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="draft"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), db_index=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("订单草稿")
        verbose_name_plural = _("订单草稿")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"


class DraftImage(models.Model):
    """An uploaded screenshot or photo, kept as received (the OCR text is on the draft)."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="drafts/%Y/%m/")
    name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=64, blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    ocr_lines = models.JSONField(default=list)  # [{"text", "score", "box"}]

    class Meta:
        ordering = ["draft", "position"]
        constraints = [models.UniqueConstraint(fields=["draft", "position"], name="draft_image_position")]

    def __str__(self) -> str:
        return self.name or self.file.name
