"""钉钉自定义机器人 (DingTalk custom group robot): 加签 signing, text / markdown / actionCard, @mobiles.

Protocol: integrations.md §1. 20 messages per minute per robot; more and it is throttled for
10 minutes (errcode 130101), so the endpoint's rate limit queues and merges before that happens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

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
    unexpected,
    with_keyword,
)
from orderhub.notify.conf import notify_conf

# errcodes after which retrying the same request cannot succeed.
PERMANENT_CODES = {
    310000: "安全设置校验失败（签名、时间戳、关键词或 IP 白名单）",
    40035: "缺少参数 access_token",
    300001: "机器人 access_token 不存在",
    400102: "机器人已停用",
}
TOO_FAST = 130101


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """加签: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), not yet URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    if not secret:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={timestamp_ms}&sign={quote_plus(dingtalk_sign(secret, timestamp_ms))}"


def dingtalk_payload(message: OutboundMessage, *, style: str, keyword: str = "") -> dict[str, Any]:
    """The JSON body: @-mentions go in `at.atMobiles` and, for the highlight, in the text too."""
    mobiles = list(dict.fromkeys(message.mentions))
    at_text = " ".join(f"@{m}" for m in mobiles)
    at = {"atMobiles": mobiles, "atUserIds": [], "isAtAll": False}
    if style == "action_card" and message.url and not mobiles:  # actionCard cannot @ anyone
        text = with_keyword(f"#### {message.title}\n\n{message.body}".strip(), keyword)
        return {
            "msgtype": "actionCard",
            "actionCard": {
                "title": message.title,
                "text": text,
                "singleTitle": "查看订单",
                "singleURL": message.url,
            },
        }
    if style == "text":
        content = plain_text(message) + (f"\n{at_text}" if at_text else "")
        return {"msgtype": "text", "text": {"content": with_keyword(content, keyword)}, "at": at}
    text = markdown_text(message) + (f"\n\n{at_text}" if at_text else "")
    title = with_keyword(message.title, keyword) if keyword and keyword not in text else message.title
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": with_keyword(text, keyword)},
        "at": at,
    }


class DingTalkAdapter:
    def __init__(self, config: EndpointConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock

    def send(self, message: OutboundMessage) -> SendResult:
        if not self.config.url:
            return SendResult.permanent("no_url", "机器人未配置 Webhook 地址")
        url = dingtalk_signed_url(self.config.url, self.config.secret, int(self.clock() * 1000))
        payload = dingtalk_payload(message, style=self.config.style, keyword=self.config.keyword)
        reply = http_send(
            "POST",
            url,
            json=payload,
            headers={"Content-Type": "application/json;charset=utf-8", **message_headers(message)},
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
                f"发送过快，机器人被限流：{errmsg}",
                response=clip(body),
                throttled=True,
                retry_after=notify_conf("THROTTLE_PAUSE_SECONDS"),
            )
        reason = PERMANENT_CODES.get(code, "钉钉拒绝了消息") if isinstance(code, int) else "钉钉拒绝了消息"
        return SendResult.permanent(str(code), f"{reason}：{errmsg}", response=clip(body))
