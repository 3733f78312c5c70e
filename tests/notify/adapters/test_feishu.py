"""飞书 bot: the reversed signing (worked example), timestamp and sign in the body, 19021."""

from __future__ import annotations

from orderhub.notify.adapters.base import EndpointConfig, OutboundMessage, Outcome
from orderhub.notify.adapters.feishu import FeishuAdapter, feishu_sign

# integrations.md §3, test vector: secret testsecret, timestamp 1700000000.
VECTOR = "AOc8oJ7//5OlQlfWC3nRL0R+IkuzcD1FKcAyibRK9Q8="
MESSAGE = OutboundMessage(
    key="log:9:feishu:e3", title="订单 SO9 物流异常", body="中通 26 小时无轨迹", url="https://x/o/9/"
)


def test_the_signature_reproduces_the_documented_example() -> None:
    assert feishu_sign("testsecret", 1_700_000_000) == VECTOR


def test_timestamp_and_sign_travel_in_the_body(fake) -> None:
    server = fake("feishu", secret="testsecret", clock=1_700_000_000.0)
    adapter = FeishuAdapter(
        EndpointConfig(url=server.url, secret="testsecret"), clock=lambda: 1_700_000_000.0
    )

    assert adapter.send(MESSAGE).outcome == Outcome.ACCEPTED

    req = server.requests[0]
    assert server.problems == [] and req.raw_query == ""
    assert req.path == "/open-apis/bot/v2/hook/hook-abc"
    assert req.json == {
        "timestamp": "1700000000",
        "sign": VECTOR,
        "msg_type": "post",
        "content": {
            "post": {
                "zh_cn": {
                    "title": "订单 SO9 物流异常",
                    "content": [
                        [{"tag": "text", "text": "中通 26 小时无轨迹"}],
                        [{"tag": "a", "text": "查看订单", "href": "https://x/o/9/"}],
                    ],
                }
            }
        },
    }


def test_text_style(fake) -> None:
    server = fake("feishu")
    FeishuAdapter(EndpointConfig(url=server.url, style="text")).send(MESSAGE)
    assert server.requests[0].json == {
        "msg_type": "text",
        "content": {"text": "订单 SO9 物流异常\n中通 26 小时无轨迹\nhttps://x/o/9/"},
    }


def test_signing_the_dingtalk_way_is_refused_with_19021(fake) -> None:
    server = fake("feishu", secret="testsecret")
    result = FeishuAdapter(EndpointConfig(url=server.url, secret="not-the-secret")).send(MESSAGE)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "19021")
    assert "timestamp is not within one hour" in result.message


def test_frequency_limited_is_retryable(fake) -> None:
    server = fake("feishu")
    server.answer(("json", {"code": 11232, "msg": "frequency limited", "data": {}}))
    result = FeishuAdapter(EndpointConfig(url=server.url)).send(MESSAGE)
    assert (result.outcome, result.throttled) == (Outcome.RETRYABLE, True)
