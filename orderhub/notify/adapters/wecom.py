"""企业微信群机器人 (WeCom group robot): no signing, the `key` in the URL is the credential.

Protocol: integrations.md §2. text (≤ 2048 bytes, @ by `mentioned_mobile_list`) or markdown
(≤ 4096 bytes, cannot @ by mobile): a message that must @ someone goes as text.
"""

from __future__ import annotations

from typing import Any

from orderhub.notify.adapters.base import (
    EndpointConfig,
    OutboundMessage,
    SendResult,
    clip,
    http_send,
    markdown_text,
    message_headers,
    parse_json,
    plain_text,
    truncate_utf8,
    unexpected,
    with_keyword,
)

TEXT_LIMIT = 2048
MARKDOWN_LIMIT = 4096
TOO_FAST = 45009
WINDOW_SECONDS = 60.0  # 20 messages per minute per robot: after "too fast", wait out the minute
PERMANENT_CODES = {93000: "Webhook 地址或 key 无效", 40008: "消息类型无效", 44004: "消息内容为空"}


def wecom_payload(message: OutboundMessage, *, style: str, keyword: str = "") -> dict[str, Any]:
    mobiles = list(dict.fromkeys(message.mentions))
    if style == "text" or mobiles:
        content = truncate_utf8(with_keyword(plain_text(message), keyword), TEXT_LIMIT)
        text: dict[str, Any] = {"content": content}
        if mobiles:
            text["mentioned_mobile_list"] = mobiles
        return {"msgtype": "text", "text": text}
    content = truncate_utf8(with_keyword(markdown_text(message, heading="###"), keyword), MARKDOWN_LIMIT)
    return {"msgtype": "markdown", "markdown": {"content": content}}


class WeComAdapter:
    def __init__(self, config: EndpointConfig) -> None:
        self.config = config

    def send(self, message: OutboundMessage) -> SendResult:
        if not self.config.url:
            return SendResult.permanent("no_url", "机器人未配置 Webhook 地址")
        reply = http_send(
            "POST",
            self.config.url,
            json=wecom_payload(message, style=self.config.style, keyword=self.config.keyword),
            headers=message_headers(message),
        )
        return reply if isinstance(reply, SendResult) else self.interpret(*reply)

    def interpret(self, status: int, body: bytes) -> SendResult:
        data = parse_json(body)
        if data is None or "errcode" not in data:
            return unexpected(status, body)
        code, errmsg = data.get("errcode"), str(data.get("errmsg", ""))
        if code == 0:
            return SendResult.accepted(code="0", response=clip(body))
        if code == TOO_FAST:
            return SendResult.retryable(
                str(code),
                f"发送过快：{errmsg}",
                response=clip(body),
                throttled=True,
                retry_after=WINDOW_SECONDS,
            )
        reason = (
            PERMANENT_CODES.get(code, "企业微信拒绝了消息") if isinstance(code, int) else "企业微信拒绝了消息"
        )
        return SendResult.permanent(str(code), f"{reason}：{errmsg}", response=clip(body))
