"""One contract every HTTP provider adapter passes: accepted, 5xx and timeouts retryable (a
timeout marked unclear), its own permanent error permanent, nothing sent twice by itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orderhub.notify.adapters.aliyun_sms import AliyunSmsAdapter
from orderhub.notify.adapters.base import EndpointConfig, NotificationAdapter, OutboundMessage, Outcome
from orderhub.notify.adapters.dingtalk import DingTalkAdapter
from orderhub.notify.adapters.feishu import FeishuAdapter
from orderhub.notify.adapters.wecom import WeComAdapter

MESSAGE = OutboundMessage(
    key="contract-1",
    title="订单 SO1 已进入「已发货」",
    body="正文",
    address="13812345678",
    sms_params={"order_no": "SO1"},
)

PROVIDERS: dict[str, tuple[Callable[[EndpointConfig], NotificationAdapter], dict, str]] = {
    # kind: (adapter factory, a permanent error body of that provider, its code)
    "dingtalk": (DingTalkAdapter, {"errcode": 300001, "errmsg": "token is not exist"}, "300001"),
    "wecom": (WeComAdapter, {"errcode": 93000, "errmsg": "invalid webhook url"}, "93000"),
    "feishu": (FeishuAdapter, {"code": 19024, "msg": "Key Words Not Found", "data": {}}, "19024"),
    "aliyun": (
        AliyunSmsAdapter,
        {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "模板不合法"},
        "isv.SMS_TEMPLATE_ILLEGAL",
    ),
}


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request, fake):
    kind = request.param
    factory, permanent_body, permanent_code = PROVIDERS[kind]
    server = fake(kind, secret="s3cret")
    config = EndpointConfig(
        url=server.url, secret="s3cret", access_key_id="testId", sign_name="签名", template_code="SMS_1"
    )
    return server, factory(config), permanent_body, permanent_code


def test_accepted(provider) -> None:
    server, adapter, _body, _code = provider
    assert adapter.send(MESSAGE).outcome == Outcome.ACCEPTED
    assert server.problems == [] and server.counts["contract-1"] == 1


def test_5xx_is_retryable(provider) -> None:
    server, adapter, _body, _code = provider
    server.answer(("status", 502))
    result = adapter.send(MESSAGE)
    assert (result.outcome, result.code, result.unclear) == (Outcome.RETRYABLE, "http_502", False)


def test_a_timeout_is_retryable_and_unclear(provider) -> None:
    server, adapter, _body, _code = provider
    server.answer(("sleep", 1.2))  # longer than READ_TIMEOUT_SECONDS = 0.5
    result = adapter.send(MESSAGE)
    assert (result.outcome, result.code, result.unclear) == (Outcome.RETRYABLE, "timeout", True)
    assert server.counts["contract-1"] == 1  # the adapter itself never retries


def test_the_providers_own_permanent_error(provider) -> None:
    server, adapter, body, code = provider
    server.answer(("json", body))
    result = adapter.send(MESSAGE)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, code)


def test_a_refused_connection_is_retryable(provider) -> None:
    server, adapter, _body, _code = provider
    server.__exit__(None, None, None)
    result = adapter.send(MESSAGE)
    assert result.outcome == Outcome.RETRYABLE
