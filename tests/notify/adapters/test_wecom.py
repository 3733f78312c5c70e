"""企业微信 robot: the key in the URL, text with mentioned_mobile_list, markdown, error codes."""

from __future__ import annotations

from orderhub.notify.adapters.base import EndpointConfig, OutboundMessage, Outcome
from orderhub.notify.adapters.wecom import WeComAdapter

MESSAGE = OutboundMessage(
    key="log:7:wecom:e2", title="订单 SO1 已进入「已发货」", body="仓库老李 于 10:00 操作"
)


def test_markdown_goes_to_the_robot_of_the_key(fake) -> None:
    server = fake("wecom", key="693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa")
    result = WeComAdapter(EndpointConfig(url=server.url)).send(MESSAGE)

    assert result.outcome == Outcome.ACCEPTED
    req = server.requests[0]
    assert (req.path, req.query["key"]) == ("/cgi-bin/webhook/send", "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa")
    assert req.json == {
        "msgtype": "markdown",
        "markdown": {"content": "### 订单 SO1 已进入「已发货」\n\n仓库老李 于 10:00 操作"},
    }
    assert req.message_id == "log:7:wecom:e2"


def test_a_message_that_must_mention_someone_goes_as_text(fake) -> None:
    server = fake("wecom")
    message = OutboundMessage(key="k", title="标题", body="正文", mentions=("13800001111", "13800001111"))
    WeComAdapter(EndpointConfig(url=server.url)).send(message)
    assert server.requests[0].json == {
        "msgtype": "text",
        "text": {"content": "标题\n正文", "mentioned_mobile_list": ["13800001111"]},
    }


def test_text_is_cut_to_2048_bytes(fake) -> None:
    server = fake("wecom")
    long = OutboundMessage(key="k", title="长", body="汉" * 1500)
    assert WeComAdapter(EndpointConfig(url=server.url, style="text")).send(long).outcome == Outcome.ACCEPTED
    assert len(server.requests[0].json["text"]["content"].encode()) <= 2048
    assert server.problems == []


def test_an_unknown_key_is_permanent_and_too_fast_is_retryable(fake) -> None:
    server = fake("wecom", key="right")
    wrong = WeComAdapter(EndpointConfig(url=server.url.replace("right", "wrong"))).send(MESSAGE)
    assert (wrong.outcome, wrong.code) == (Outcome.PERMANENT, "93000")
    server.answer(("json", {"errcode": 45009, "errmsg": "api freq out of limit"}))
    fast = WeComAdapter(EndpointConfig(url=server.url)).send(MESSAGE)
    assert (fast.outcome, fast.throttled, fast.retry_after) == (Outcome.RETRYABLE, True, 60.0)
