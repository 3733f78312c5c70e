"""Notifications: the in-app inbox (站内消息), the robots and SMS accounts we send through, who is
responsible for what (谁负责), message templates, and the outbox of owed deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orderhub.accounts.roles import Role
from orderhub.catalog.models import CustomerTier
from orderhub.orders.states import OrderStatus


class InboxMessage(models.Model):
    """One message for one user. `key` makes delivery idempotent: a retried job never doubles."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox")
    key = models.CharField(max_length=128)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="inbox_unique_user_key")]
        indexes = [models.Index(fields=["user", "read_at"], name="inbox_user_unread")]

    def __str__(self) -> str:
        return self.title


class NotifyChannel(models.TextChoices):
    """How a message reaches people. Robots post to a group; the others reach one person."""

    INBOX = "inbox", _("站内消息")
    DINGTALK = "dingtalk", _("钉钉机器人")
    WECOM = "wecom", _("企业微信机器人")
    FEISHU = "feishu", _("飞书机器人")
    SMS = "sms", _("短信")
    EMAIL = "email", _("邮件")


ROBOT_CHANNELS: frozenset[str] = frozenset(
    {NotifyChannel.DINGTALK, NotifyChannel.WECOM, NotifyChannel.FEISHU}
)
PERSONAL_CHANNELS: frozenset[str] = frozenset({NotifyChannel.INBOX, NotifyChannel.SMS, NotifyChannel.EMAIL})


class Provider(models.TextChoices):
    DINGTALK = "dingtalk", _("钉钉自定义机器人")
    WECOM = "wecom", _("企业微信群机器人")
    FEISHU = "feishu", _("飞书自定义机器人")
    ALIYUN_SMS = "aliyun_sms", _("阿里云短信")
    SIMULATED = "simulated", _("模拟（演示/离线）")


# Which providers can carry which channel (the simulated one carries any, for the offline demo).
CHANNEL_PROVIDERS: dict[str, frozenset[str]] = {
    NotifyChannel.DINGTALK: frozenset({Provider.DINGTALK, Provider.SIMULATED}),
    NotifyChannel.WECOM: frozenset({Provider.WECOM, Provider.SIMULATED}),
    NotifyChannel.FEISHU: frozenset({Provider.FEISHU, Provider.SIMULATED}),
    NotifyChannel.SMS: frozenset({Provider.ALIYUN_SMS, Provider.SIMULATED}),
}

# Events beyond the order states that other apps raise (the stall monitor: "stalled").
EXTRA_EVENTS: tuple[tuple[str, str], ...] = (("hold", _("订单被拦截")), ("stalled", _("物流停滞")))
EVENT_CHOICES: list[tuple[str, str]] = [*OrderStatus.choices, *EXTRA_EVENTS]
# The order state whose default responsibles hear about a non-state event.
EVENT_STATUS: dict[str, str] = {"hold": OrderStatus.PENDING_REVIEW, "stalled": OrderStatus.EXCEPTION}

OWNER = "owner"
RESPONSIBLE_CHOICES: list[tuple[str, str]] = [
    *[(r.value, r.label) for r in Role if r != Role.SYSTEM],
    (OWNER, _("订单负责销售")),
]


class Endpoint(models.Model):
    """A robot (钉钉/企业微信/飞书 group webhook) or an SMS account we send through.

    Credentials live here or in the environment (`env_prefix`: PREFIX_URL, PREFIX_SECRET,
    PREFIX_ACCESS_KEY_ID override the stored values), never in code.
    """

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    provider = models.CharField(_("服务商"), max_length=16, choices=Provider.choices)
    url = models.URLField(
        _("Webhook / 接口地址"),
        max_length=500,
        blank=True,
        help_text=_("钉钉、企业微信、飞书：机器人的完整 Webhook 地址；阿里云短信：留空即用官方地址"),
    )
    secret = models.CharField(
        _("密钥"),
        max_length=200,
        blank=True,
        help_text=_("钉钉加签 SEC…、飞书签名密钥、阿里云 AccessKeySecret；企业微信无需填写"),
    )
    access_key_id = models.CharField(_("AccessKeyId"), max_length=64, blank=True)
    sign_name = models.CharField(_("短信签名"), max_length=32, blank=True)
    template_code = models.CharField(_("默认短信模板编号"), max_length=32, blank=True)
    keyword = models.CharField(
        _("安全关键词"),
        max_length=32,
        blank=True,
        help_text=_("机器人开启了“自定义关键词”时填写，消息会带上它"),
    )
    message_style = models.CharField(
        _("消息样式"),
        max_length=16,
        default="markdown",
        choices=[
            ("text", _("文本")),
            ("markdown", "Markdown"),
            ("action_card", _("卡片（钉钉 actionCard）")),
        ],
    )
    env_prefix = models.CharField(
        _("环境变量前缀"),
        max_length=64,
        blank=True,
        help_text=_("例如 ORDERHUB_DINGTALK_OPS：读取 ORDERHUB_DINGTALK_OPS_URL / _SECRET / _ACCESS_KEY_ID"),
    )
    rate_limit = models.PositiveIntegerField(
        _("每窗口最多条数"), default=20, help_text=_("钉钉、企业微信：每分钟 20 条；0 表示不限")
    )
    rate_window_seconds = models.PositiveIntegerField(_("限流窗口（秒）"), default=60)
    is_default = models.BooleanField(_("同类默认"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    # Set when the provider itself throttled us (钉钉 130101): nothing is sent before then.
    paused_until = models.DateTimeField(_("暂停至"), null=True, blank=True)
    # When the pending digest flush of this endpoint is due (one flush job at a time).
    flush_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("通知端点（机器人/短信账号）")
        verbose_name_plural = _("通知端点（机器人/短信账号）")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """For an event (usually an order state), who is responsible and through which channels.

    Optional conditions narrow a rule to a sales channel, a warehouse or a customer tier. Of the
    rules that match an order, only the most specific ones (most conditions set) apply, so a
    rule for 杭州仓 replaces the general rule for that state instead of adding to it.
    """

    event = models.CharField(_("事件/状态"), max_length=32, choices=EVENT_CHOICES, db_index=True)
    sales_channel = models.ForeignKey(
        "ingest.Channel",
        verbose_name=_("来源渠道"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        verbose_name=_("发货仓"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    customer_tier = models.CharField(_("客户等级"), max_length=8, choices=CustomerTier.choices, blank=True)
    role = models.CharField(_("负责角色"), max_length=20, choices=RESPONSIBLE_CHOICES, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    channels = models.JSONField(_("通知方式"), default=list, help_text=_('例如 ["inbox", "dingtalk"]'))
    endpoint = models.ForeignKey(
        Endpoint,
        verbose_name=_("机器人/短信账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rules",
        help_text=_("留空则用该类的默认端点"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("通知路由（谁负责）")
        verbose_name_plural = _("通知路由（谁负责）")
        ordering = ["event", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="") | Q(user__isnull=False), name="routingrule_role_or_user"
            ),
        ]

    def __str__(self) -> str:
        who = self.get_role_display() if self.role else str(self.user)
        return f"{self.get_event_display()} → {who}"

    @property
    def specificity(self) -> int:
        return sum(
            (self.sales_channel_id is not None, self.warehouse_id is not None, bool(self.customer_tier))
        )


class UserPreference(models.Model):
    """A person's own choices: channels and events they do not want to hear about."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notify_preference"
    )
    muted_channels = models.JSONField(_("不接收的通知方式"), default=list, blank=True)
    muted_events = models.JSONField(_("不接收的事件"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("个人通知偏好")
        verbose_name_plural = _("个人通知偏好")

    def __str__(self) -> str:
        return str(self.user)


class MessageTemplate(models.Model):
    """The words of a message (Django template syntax over the order's fields), per event and
    optionally per channel; managers edit these."""

    event = models.CharField(_("事件/状态"), max_length=32, choices=EVENT_CHOICES)
    channel = models.CharField(
        _("通知方式"), max_length=16, choices=NotifyChannel.choices, blank=True, help_text=_("留空：所有方式")
    )
    title = models.CharField(_("标题模板"), max_length=300)
    body = models.TextField(_("正文模板"), blank=True)
    sms_template_code = models.CharField(_("短信模板编号"), max_length=32, blank=True)
    sms_params = models.JSONField(
        _("短信模板参数"),
        default=dict,
        blank=True,
        help_text=_('参数名 → 模板，例如 {"order_no": "{{ order.order_no }}"}'),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        ordering = ["event", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["event", "channel"], name="messagetemplate_unique_event_channel")
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} / {self.get_channel_display() or _('所有方式')}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    THROTTLED = "throttled", _("限流排队")
    FAILED = "failed", _("失败待重试")
    SENT = "sent", _("已送达")
    MERGED = "merged", _("已合并汇总")
    DEAD = "dead", _("发送失败")


# A delivery in one of these will not be sent again by any job.
DELIVERY_FINAL: frozenset[str] = frozenset({DeliveryStatus.SENT, DeliveryStatus.MERGED, DeliveryStatus.DEAD})


class Delivery(models.Model):
    """One message to one destination (a person's inbox/phone/mailbox, or a group robot): the
    outbox row. `key` is its idempotency key: once a provider accepted it, it is never re-sent."""

    key = models.CharField(_("幂等键"), max_length=200, unique=True)
    source = models.CharField(_("来源"), max_length=128, db_index=True)
    event = models.CharField(_("事件"), max_length=32, blank=True)
    channel = models.CharField(_("通知方式"), max_length=16, choices=NotifyChannel.choices)
    endpoint = models.ForeignKey(
        Endpoint,
        verbose_name=_("端点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收件人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    address = models.CharField(_("地址"), max_length=254, blank=True)
    mentions = models.JSONField(_("@手机号"), default=list, blank=True)
    # The outbox outlives what it talks about: no database constraint ties it to an order.
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    title = models.CharField(_("标题"), max_length=300)
    body = models.TextField(_("正文"), blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    sms_template = models.CharField(max_length=32, blank=True)
    sms_params = models.JSONField(default=dict, blank=True)
    is_digest = models.BooleanField(_("汇总消息"), default=False)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并到"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    # Its send job has been enqueued (so a re-run of the job that fans deliveries out adds none).
    dispatched = models.BooleanField(default=False)
    # A digest gets its send slot when it is made, so new arrivals cannot starve it.
    slot_reserved = models.BooleanField(default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最后错误"), blank=True)
    provider_code = models.CharField(_("服务商返回码"), max_length=64, blank=True)
    provider_response = models.TextField(_("服务商响应"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    last_attempt_at = models.DateTimeField(_("最后尝试"), null=True, blank=True)
    sent_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知投递")
        verbose_name_plural = _("通知投递")
        indexes = [
            models.Index(fields=["endpoint", "status"], name="delivery_endpoint_status"),
            models.Index(fields=["status", "-updated_at"], name="delivery_status_updated"),
            models.Index(fields=["order", "created_at"], name="delivery_order_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.title}"


class EndpointSlot(models.Model):
    """One request made to a rate-limited endpoint: the sliding window counts these."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["endpoint", "at"], name="slot_endpoint_at")]

    def __str__(self) -> str:
        return f"{self.endpoint_id}@{self.at:%H:%M:%S}"
