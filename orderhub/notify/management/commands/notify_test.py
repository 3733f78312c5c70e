"""`orderhub notify_test CODE [--to MOBILE]`: send one test message through a configured robot or
SMS account now, and print what the provider answered (for setting up a robot's secret)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from orderhub.notify.adapters import NotConfigured, adapter_for
from orderhub.notify.adapters.base import OutboundMessage, Outcome
from orderhub.notify.models import Endpoint

CHANNEL_OF = {
    "dingtalk": "dingtalk",
    "wecom": "wecom",
    "feishu": "feishu",
    "aliyun_sms": "sms",
    "simulated": "dingtalk",
}


class Command(BaseCommand):
    help = "Send a test message through one notification endpoint and show the provider's answer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="the endpoint's code (see the admin: 通知端点)")
        parser.add_argument("--to", default="", help="mobile number, for an SMS account")
        parser.add_argument("--mention", action="append", default=[], help="mobile to @ in a group")

    def handle(self, *args: Any, **opts: Any) -> None:
        endpoint = Endpoint.objects.filter(code=opts["code"]).first()
        if endpoint is None:
            raise CommandError(f"no endpoint with code {opts['code']!r}")
        now = timezone.localtime()
        message = OutboundMessage(
            key=f"notify-test:{endpoint.pk}:{now:%Y%m%d%H%M%S}",
            title="OrderHub 测试消息",
            body=f"这是一条测试消息，发送于 {now:%Y-%m-%d %H:%M:%S}。",
            address=opts["to"],
            mentions=tuple(opts["mention"]),
            sms_params={"order_no": "TEST0001", "status": "测试"},
        )
        try:
            result = adapter_for(CHANNEL_OF[endpoint.provider], endpoint).send(message)
        except NotConfigured as exc:
            raise CommandError(str(exc)) from exc
        line = f"{endpoint.name}: {result.outcome} [{result.code}] {result.message}"
        if result.response:
            line += f"\n{result.response}"
        if result.outcome != Outcome.ACCEPTED:
            raise CommandError(line)
        self.stdout.write(line)
