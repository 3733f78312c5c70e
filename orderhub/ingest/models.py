"""Sales channels. Importers and presets join later."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    PINDUODUO = "pinduoduo", _("拼多多")
    DOUYIN = "douyin", _("抖店")
    ALIBABA_1688 = "1688", _("1688")
    TAOBAO = "taobao", _("淘宝/天猫")
    KUAISHOU = "kuaishou", _("快手")
    ERP = "erp", _("ERP")
    WECHAT = "wechat", _("微信")
    MANUAL = "manual", _("手工")
    API = "api", _("API")
    SIMULATED = "simulated", _("模拟")


class Channel(models.Model):
    code = models.CharField(_("渠道编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=ChannelKind.choices)
    # Marketplaces mask or virtualise the buyer's phone; OrderHub must not "repair" it.
    masks_phone = models.BooleanField(_("平台隐藏手机号"), default=False)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("渠道")
        verbose_name_plural = _("渠道")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
