"""Notification adapters, one module per provider, all behind `base.NotificationAdapter`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orderhub.notify.adapters.aliyun_sms import AliyunSmsAdapter
from orderhub.notify.adapters.base import EndpointConfig, NotificationAdapter
from orderhub.notify.adapters.dingtalk import DingTalkAdapter
from orderhub.notify.adapters.email import EmailAdapter
from orderhub.notify.adapters.feishu import FeishuAdapter
from orderhub.notify.adapters.inbox import InboxAdapter
from orderhub.notify.adapters.simulated import SimulatedAdapter
from orderhub.notify.adapters.wecom import WeComAdapter

if TYPE_CHECKING:
    from orderhub.notify.models import Endpoint


class NotConfigured(Exception):
    """A channel that needs an endpoint has none (or one of the wrong provider)."""


def adapter_for(channel: str, endpoint: Endpoint | None) -> NotificationAdapter:
    if channel == "inbox":
        return InboxAdapter()
    if channel == "email":
        return EmailAdapter()
    if endpoint is None:
        raise NotConfigured(f"没有为「{channel}」配置机器人或短信账号")
    config = EndpointConfig.of(endpoint)
    provider = endpoint.provider
    if provider == "simulated":
        return SimulatedAdapter(channel)
    if provider == "dingtalk" and channel == "dingtalk":
        return DingTalkAdapter(config)
    if provider == "wecom" and channel == "wecom":
        return WeComAdapter(config)
    if provider == "feishu" and channel == "feishu":
        return FeishuAdapter(config)
    if provider == "aliyun_sms" and channel == "sms":
        return AliyunSmsAdapter(config)
    raise NotConfigured(f"端点「{endpoint}」（{provider}）不能发送「{channel}」")
