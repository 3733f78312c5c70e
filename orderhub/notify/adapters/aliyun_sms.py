"""阿里云短信 SendSms (dysmsapi 2017-05-25) with the V2 RPC signature (HMAC-SHA1).

Protocol: integrations.md §4. Business errors come back with HTTP 200 and a `Code` other than
"OK"; only "OK" means accepted. Our idempotency key travels as `OutId` (echoed in receipts).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

from orderhub.notify.adapters.base import (
    EndpointConfig,
    OutboundMessage,
    SendResult,
    clip,
    http_send,
    message_headers,
    parse_json,
    unexpected,
)

DEFAULT_URL = "https://dysmsapi.aliyuncs.com/"
# Worth another try later; every other Code is permanent (bad number, template, account, …).
RETRYABLE_CODES = {
    "isp.SYSTEM_ERROR",
    "SignatureNonceUsed",
    "Throttling",
    "Throttling.User",
    "ServiceUnavailable",
}
EXPLAINED = {
    "isv.BUSINESS_LIMIT_CONTROL": "触发号码频率限制（每号码每日/每小时上限）",
    "isv.MOBILE_NUMBER_ILLEGAL": "手机号码格式错误",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板缺少变量",
    "isv.INVALID_JSON_PARAM": "模板变量必须是字符串",
    "isv.SMS_TEMPLATE_ILLEGAL": "短信模板未审核通过",
    "isv.SMS_SIGNATURE_ILLEGAL": "短信签名未审核通过",
    "isv.AMOUNT_NOT_ENOUGH": "账户余额不足",
    "isv.OUT_OF_SERVICE": "业务停机",
    "SignatureDoesNotMatch": "签名不匹配（AccessKeySecret 错误？）",
    "InvalidTimeStamp.Expired": "时间戳过期（服务器时钟偏差超过 15 分钟）",
    "InvalidAccessKeyId.NotFound": "AccessKeyId 不存在",
}


def percent_encode(value: str) -> str:
    """RFC 3986: space → %20, * → %2A, ~ kept (Aliyun's percentEncode)."""
    return quote(value, safe="~")


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def aliyun_string_to_sign(params: dict[str, str], method: str) -> str:
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def aliyun_signature(params: dict[str, str], secret: str, method: str) -> str:
    """base64(HMAC-SHA1(key=secret + "&", StringToSign)); `Signature` itself is not signed."""
    to_sign = aliyun_string_to_sign({k: v for k, v in params.items() if k != "Signature"}, method)
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def out_id(key: str) -> str:
    return key if len(key) <= 64 else hashlib.sha1(key.encode()).hexdigest()  # noqa: S324 (an id, not security)


class AliyunSmsAdapter:
    def __init__(
        self,
        config: EndpointConfig,
        *,
        method: str = "POST",
        response_format: str = "JSON",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        nonce: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.config = config
        self.method = method
        self.response_format = response_format
        self.now = now
        self.nonce = nonce

    def params(self, message: OutboundMessage) -> dict[str, str]:
        """Every request parameter except `Signature`, values as strings."""
        template_params = {k: str(v) for k, v in message.sms_params.items()}
        return {
            "AccessKeyId": self.config.access_key_id,
            "Action": "SendSms",
            "Format": self.response_format,
            "OutId": out_id(message.key),
            "PhoneNumbers": message.address,
            "RegionId": "cn-hangzhou",
            "SignName": self.config.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self.nonce(),
            "SignatureVersion": "1.0",
            "TemplateCode": message.sms_template or self.config.template_code,
            "TemplateParam": json.dumps(
                template_params, ensure_ascii=False, separators=(",", ":"), sort_keys=True
            ),
            "Timestamp": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }

    def send(self, message: OutboundMessage) -> SendResult:
        if not message.address:
            return SendResult.permanent("no_mobile", "收件人没有手机号")
        missing = [
            n
            for n, v in (
                ("AccessKeyId", self.config.access_key_id),
                ("AccessKeySecret", self.config.secret),
                ("签名", self.config.sign_name),
            )
            if not v
        ]
        if missing or not (message.sms_template or self.config.template_code):
            return SendResult.permanent(
                "not_configured", "短信账号未配置：" + "、".join(missing or ["模板编号"])
            )
        params = self.params(message)
        signature = aliyun_signature(params, self.config.secret, self.method)
        url = self.config.url or DEFAULT_URL
        headers = message_headers(message)
        if self.method == "GET":
            query = f"Signature={percent_encode(signature)}&{canonical_query(params)}"
            reply = http_send("GET", f"{url}?{query}", headers=headers)
        else:
            reply = http_send("POST", url, data={"Signature": signature, **params}, headers=headers)
        return reply if isinstance(reply, SendResult) else self.interpret(*reply)

    def interpret(self, status: int, body: bytes) -> SendResult:
        data = parse_json(body)
        if data is not None:
            code, msg = str(data.get("Code", "")), str(data.get("Message", ""))
        else:  # Format=XML
            text = body.decode("utf-8", errors="replace")
            found = re.search(r"<Code>([^<]*)</Code>", text)
            code = found.group(1) if found else ""
            msg_found = re.search(r"<Message>([^<]*)</Message>", text)
            msg = msg_found.group(1) if msg_found else ""
        if not code:
            return unexpected(status, body)
        if code == "OK":
            return SendResult.accepted(code="OK", response=clip(body))
        if code in RETRYABLE_CODES:
            return SendResult.retryable(code, f"阿里云暂时无法处理：{msg}", response=clip(body))
        reason = EXPLAINED.get(code, "阿里云拒绝了短信")
        return SendResult.permanent(code, f"{reason}：{msg}", response=clip(body))
