"""Fixtures for the notification tests: short provider timeouts, endpoints on fake servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from orderhub.notify.models import Endpoint
from tests.notify.fakes import FakeProvider

PROVIDER_OF = {"dingtalk": "dingtalk", "wecom": "wecom", "feishu": "feishu", "aliyun": "aliyun_sms"}


@pytest.fixture(autouse=True)
def short_timeouts(settings: Any) -> None:
    settings.ORDERHUB_NOTIFY = {
        "CONNECT_TIMEOUT_SECONDS": 1.0,
        "READ_TIMEOUT_SECONDS": 0.5,
        "MAX_ATTEMPTS": 3,
    }


@pytest.fixture
def fake() -> Iterator[Callable[..., FakeProvider]]:
    """Start fake providers on 127.0.0.1; all are stopped after the test."""
    started: list[FakeProvider] = []

    def start(kind: str, **kwargs: Any) -> FakeProvider:
        server = FakeProvider(kind, **kwargs).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


@pytest.fixture
def endpoint_for(db: Any) -> Callable[..., Endpoint]:
    """An Endpoint row pointing at a fake provider, as an admin would configure it."""

    def make(server: FakeProvider, **overrides: Any) -> Endpoint:
        values: dict[str, Any] = {
            "code": f"{server.kind}-{Endpoint.objects.count() + 1}",
            "name": f"{server.kind} 测试机器人",
            "provider": PROVIDER_OF[server.kind],
            "url": server.url,
            "secret": server.secret,
            "access_key_id": server.access_key_id if server.kind == "aliyun" else "",
            "sign_name": "阿里云短信测试专用" if server.kind == "aliyun" else "",
            "template_code": "SMS_71390007" if server.kind == "aliyun" else "",
            "rate_limit": 0,
            "is_default": True,
        }
        values.update(overrides)
        return Endpoint.objects.create(**values)

    return make
