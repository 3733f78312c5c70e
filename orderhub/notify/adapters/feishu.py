"""飞书自定义机器人 (Feishu / Lark custom bot) with 签名校验.

Protocol: integrations.md §3. The signing is the reverse of DingTalk's: the string
f"{timestamp}\\n{secret}" is the HMAC *key* and the message is empty; timestamp (seconds) and
sign go in the JSON body, not the URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from orderhub.notify.adapters.base import (
    EndpointConfig,
    OutboundMessage,
    SendResult,
    clip,
    http_send,
    message_headers,
    parse_json,
    plain_text,
    unexpected,
    with_keyword,
)
from orderhub.notify.conf import notify_conf

TOO_FAST = 11232
PERMANENT_CODES = {
    19021: "签名校验失败或时间戳超出一小时",
    19022: "IP 不在白名单",
    19024: "消息不含安全关键词",
    9499: "请求格式错误",
}


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def feishu_payload(message: OutboundMessage, *, style: str, keyword: str = "") -> dict[str, Any]:
    if style == "text":
        return {"msg_type": "text", "content": {"text": with_keyword(plain_text(message), keyword)}}
    lines: list[list[dict[str, str]]] = [[{"tag": "text", "text": line}] for line in message.body.split("\n")]
    if message.url:
        lines.append([{"tag": "a", "text": "查看订单", "href": message.url}])
    title = with_keyword(message.title, keyword)
    return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": lines}}}}


class FeishuAdapter:
    def __init__(self, config: EndpointConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock

    def send(self, message: OutboundMessage) -> SendResult:
        if not self.config.url:
            return SendResult.permanent("no_url", "机器人未配置 Webhook 地址")
        payload = feishu_payload(message, style=self.config.style, keyword=self.config.keyword)
        if self.config.secret:
            ts = int(self.clock())
            payload = {"timestamp": str(ts), "sign": feishu_sign(self.config.secret, ts), **payload}
        reply = http_send("POST", self.config.url, json=payload, headers=message_headers(message))
        return reply if isinstance(reply, SendResult) else self.interpret(*reply)

    def interpret(self, status: int, body: bytes) -> SendResult:
        data = parse_json(body)
        if data is None or ("code" not in data and "StatusCode" not in data):
            return unexpected(status, body)
        code = data.get("code", data.get("StatusCode"))
        msg = str(data.get("msg", data.get("StatusMessage", "")))
        if code == 0:
            return SendResult.accepted(code="0", response=clip(body))
        if code == TOO_FAST:
            return SendResult.retryable(
                str(code),
                f"发送过快：{msg}",
                response=clip(body),
                throttled=True,
                retry_after=min(60.0, notify_conf("THROTTLE_PAUSE_SECONDS")),
            )
        reason = PERMANENT_CODES.get(code, "飞书拒绝了消息") if isinstance(code, int) else "飞书拒绝了消息"
        return SendResult.permanent(str(code), f"{reason}：{msg}", response=clip(body))
