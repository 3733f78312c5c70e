"""Admin for notification configuration: endpoints, routing (谁负责), templates, preferences, and
a read-only view of the outbox. Managers (主管) may edit these without Django model permissions;
they still need staff access (is_staff) to open the admin site."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orderhub.core.errors import AppError
from orderhub.notify.models import (
    EVENT_CHOICES,
    Delivery,
    DeliveryStatus,
    Endpoint,
    InboxMessage,
    MessageTemplate,
    NotifyChannel,
    RoutingRule,
    UserPreference,
)
from orderhub.notify.rendering import FIELDS_HELP, template_problem
from orderhub.notify.services import NOTIFY_MANAGERS, delivery_retry


class ManagerEditable(admin.ModelAdmin):
    """Managers and admins (by role) may view and change these, besides Django permissions."""

    def _manager(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.has_role(*NOTIFY_MANAGERS))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._manager(request) or super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._manager(request) or super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._manager(request) or super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._manager(request) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._manager(request) or super().has_delete_permission(request, obj)


def _channel_list(value: Any) -> list[str]:
    unknown = [c for c in value or [] if c not in NotifyChannel.values]
    if not isinstance(value, list) or unknown:
        raise forms.ValidationError(_("通知方式只能是：%(v)s") % {"v": ", ".join(NotifyChannel.values)})
    return value


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=_("Webhook / 接口地址"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=Endpoint._meta.get_field("url").help_text,
    )
    # The stored secret is never shown again; leaving the field empty keeps it.
    secret = forms.CharField(
        label=_("密钥"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("留空则保留原密钥"),
    )

    class Meta:
        model = Endpoint
        fields = [
            "code",
            "name",
            "provider",
            "url",
            "secret",
            "access_key_id",
            "sign_name",
            "template_code",
            "keyword",
            "message_style",
            "env_prefix",
            "rate_limit",
            "rate_window_seconds",
            "is_default",
            "is_active",
        ]

    def clean_secret(self) -> str:
        value = self.cleaned_data.get("secret", "")
        return value or (self.instance.secret if self.instance.pk else "")


@admin.register(Endpoint)
class EndpointAdmin(ManagerEditable):
    form = EndpointForm
    list_display = ["name", "code", "provider", "rate_limit", "is_default", "is_active", "paused_until"]
    list_filter = ["provider", "is_active"]
    search_fields = ["name", "code"]


class RoutingRuleForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=_("通知方式"), choices=NotifyChannel.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = RoutingRule
        fields = [
            "event",
            "sales_channel",
            "warehouse",
            "customer_tier",
            "role",
            "user",
            "channels",
            "endpoint",
            "is_active",
            "note",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("role") and not data.get("user"):
            raise forms.ValidationError(_("请选择负责角色或负责人"))
        return data


@admin.register(RoutingRule)
class RoutingRuleAdmin(ManagerEditable):
    form = RoutingRuleForm
    list_display = [
        "event",
        "role",
        "user",
        "channel_list",
        "sales_channel",
        "warehouse",
        "customer_tier",
        "endpoint",
        "is_active",
    ]
    list_filter = ["event", "is_active", "role"]
    raw_id_fields = ["user"]

    @admin.display(description=_("通知方式"))
    def channel_list(self, obj: RoutingRule) -> str:
        labels = dict(NotifyChannel.choices)
        return "、".join(str(labels.get(c, c)) for c in obj.channels)


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["event", "channel", "title", "body", "sms_template_code", "sms_params", "is_active"]
        help_texts = {"title": _("可用字段：") + FIELDS_HELP}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("title", "body"):
            problem = template_problem(data.get(name) or "")
            if problem:
                self.add_error(name, problem)
        params = data.get("sms_params") or {}
        if not isinstance(params, dict):
            self.add_error("sms_params", _("短信参数应为 JSON 对象"))
        else:
            for key, value in params.items():
                problem = template_problem(str(value))
                if problem:
                    self.add_error("sms_params", f"{key}: {problem}")
        return data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ManagerEditable):
    form = MessageTemplateForm
    list_display = ["event", "channel", "title", "is_active", "updated_at", "updated_by"]
    list_filter = ["event", "channel", "is_active"]

    def save_model(self, request: HttpRequest, obj: MessageTemplate, form: Any, change: bool) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class UserPreferenceForm(forms.ModelForm):
    muted_channels = forms.MultipleChoiceField(
        label=_("不接收的通知方式"),
        choices=NotifyChannel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    muted_events = forms.MultipleChoiceField(
        label=_("不接收的事件"), choices=EVENT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = UserPreference
        fields = ["user", "muted_channels", "muted_events"]


@admin.register(UserPreference)
class UserPreferenceAdmin(ManagerEditable):
    form = UserPreferenceForm
    list_display = ["user", "muted_channels", "muted_events", "updated_at"]
    raw_id_fields = ["user"]


@admin.register(Delivery)
class DeliveryAdmin(ManagerEditable):
    list_display = ["title", "channel", "endpoint", "user", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "channel", "endpoint"]
    search_fields = ["key", "title", "address"]
    raw_id_fields = ["order", "user", "merged_into"]
    actions = ["retry_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the outbox is written by services only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("重试选中的失败通知"))
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        done = 0
        for delivery in queryset.filter(status=DeliveryStatus.DEAD):
            try:
                delivery_retry(delivery_id=delivery.pk, actor=request.user)
            except AppError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
            done += 1
        self.message_user(request, _("已重新发送 %(n)s 条") % {"n": done})


@admin.register(InboxMessage)
class InboxMessageAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "created_at", "read_at"]
    raw_id_fields = ["order"]
