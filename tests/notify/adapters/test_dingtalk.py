"""钉钉 robot: the 加签 worked example, message shapes, @mobiles, and its error codes."""

from __future__ import annotations

from orderhub.notify.adapters.base import EndpointConfig, OutboundMessage, Outcome
from orderhub.notify.adapters.dingtalk import DingTalkAdapter, dingtalk_sign, dingtalk_signed_url

# integrations.md §1, test vector: secret SECtestsecret, timestamp 1700000000000.
VECTOR_B64 = "7LVwF0dAF3/+MRRulbpE4y72Ogzykc6bS2nG4I99T4s="
VECTOR_URLENCODED = "7LVwF0dAF3%2F%2BMRRulbpE4y72Ogzykc6bS2nG4I99T4s%3D"
AT_VECTOR_TIME = 1_700_000_000.0

MESSAGE = OutboundMessage(
    key="log:42:dingtalk:e1",
    title="订单 SO20261125001 已进入「已拆单」",
    body="客服小王 于 2026-11-25 10:00 操作",
    url="https://orderhub.example.com/orders/42/",
    mentions=("13800001111",),
)


def test_the_signature_reproduces_the_documented_example() -> None:
    assert dingtalk_sign("SECtestsecret", 1_700_000_000_000) == VECTOR_B64
    url = dingtalk_signed_url(
        "https://oapi.dingtalk.com/robot/send?access_token=XXXX", "SECtestsecret", 1_700_000_000_000
    )
    assert url == (
        "https://oapi.dingtalk.com/robot/send?access_token=XXXX"
        f"&timestamp=1700000000000&sign={VECTOR_URLENCODED}"
    )


def test_a_markdown_message_arrives_signed_with_the_mobiles_to_mention(fake) -> None:
    server = fake("dingtalk", secret="SECtestsecret", clock=AT_VECTOR_TIME)
    adapter = DingTalkAdapter(
        EndpointConfig(url=server.url, secret="SECtestsecret"), clock=lambda: AT_VECTOR_TIME
    )

    result = adapter.send(MESSAGE)

    assert result.outcome == Outcome.ACCEPTED and server.problems == []
    (req,) = server.requests
    assert req.method == "POST" and req.path == "/robot/send"
    assert req.raw_query == f"access_token=tok123&timestamp=1700000000000&sign={VECTOR_URLENCODED}"
    assert req.headers["content-type"] == "application/json;charset=utf-8"
    assert req.message_id == "log:42:dingtalk:e1"
    assert req.json == {
        "msgtype": "markdown",
        "markdown": {
            "title": "订单 SO20261125001 已进入「已拆单」",
            "text": "#### 订单 SO20261125001 已进入「已拆单」\n\n客服小王 于 2026-11-25 10:00 操作\n\n"
            "[查看订单](https://orderhub.example.com/orders/42/)\n\n@13800001111",
        },
        "at": {"atMobiles": ["13800001111"], "atUserIds": [], "isAtAll": False},
    }


def test_text_style_puts_the_mention_in_the_content_too(fake) -> None:
    server = fake("dingtalk", secret="SECtestsecret")
    adapter = DingTalkAdapter(
        EndpointConfig(url=server.url, secret="SECtestsecret", style="text", keyword="订单")
    )

    assert adapter.send(MESSAGE).outcome == Outcome.ACCEPTED

    body = server.requests[0].json
    assert body["msgtype"] == "text"
    assert body["text"]["content"].endswith("@13800001111")
    assert body["at"]["atMobiles"] == ["13800001111"]


def test_action_card_links_to_the_order(fake) -> None:
    server = fake("dingtalk")
    adapter = DingTalkAdapter(EndpointConfig(url=server.url, style="action_card"))
    message = OutboundMessage(
        key="k1", title="订单 A 物流停滞", body="顺丰 30 小时无轨迹", url="https://x/orders/1/"
    )

    assert adapter.send(message).outcome == Outcome.ACCEPTED

    card = server.requests[0].json["actionCard"]
    assert card == {
        "title": "订单 A 物流停滞",
        "text": "#### 订单 A 物流停滞\n\n顺丰 30 小时无轨迹",
        "singleTitle": "查看订单",
        "singleURL": "https://x/orders/1/",
    }
    assert "timestamp" not in server.requests[0].query  # no secret configured: no signing


def test_a_keyword_robot_gets_its_keyword(fake) -> None:
    server = fake("dingtalk")
    adapter = DingTalkAdapter(EndpointConfig(url=server.url, keyword="OrderHub"))
    adapter.send(MESSAGE)
    assert "OrderHub" in server.requests[0].json["markdown"]["text"]


def test_a_wrong_secret_is_refused_by_the_robot_and_is_permanent(fake) -> None:
    server = fake("dingtalk", secret="SECtheRealOne")
    adapter = DingTalkAdapter(EndpointConfig(url=server.url, secret="SECmistyped"))

    result = adapter.send(MESSAGE)

    assert result.outcome == Outcome.PERMANENT
    assert result.code == "310000" and "sign not match" in result.message


def test_send_too_fast_is_retryable_and_says_how_long_to_hold_back(fake) -> None:
    server = fake("dingtalk")
    server.answer(("json", {"errcode": 130101, "errmsg": "send too fast"}))
    result = DingTalkAdapter(EndpointConfig(url=server.url)).send(MESSAGE)
    assert (result.outcome, result.throttled, result.retry_after) == (Outcome.RETRYABLE, True, 600.0)


def test_a_missing_token_is_permanent(fake) -> None:
    server = fake("dingtalk")
    result = DingTalkAdapter(EndpointConfig(url=f"{server.base}/robot/send")).send(MESSAGE)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "40035")
