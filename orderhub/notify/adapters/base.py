"""What every notification adapter offers, and what it answers.

An adapter turns one `OutboundMessage` into one provider request and classifies the answer:
accepted (never send it again), retryable (5xx, timeouts, "too fast": the job worker retries with
backoff) or permanent (bad signature, unknown robot, illegal number: retrying cannot help).
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import requests

from orderhub.notify.conf import notify_conf


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    RETRYABLE = "retryable"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    code: str = ""
    message: str = ""
    response: str = ""
    # The provider said we send too fast; `retry_after` seconds is how long to hold back.
    throttled: bool = False
    retry_after: float | None = None
    # We cannot know whether the provider got it (the request left, no answer came back).
    unclear: bool = False
    # Inbox only: False when the message was already there (a re-run after an unclear outcome).
    created: bool = True

    @classmethod
    def accepted(cls, *, code: str = "ok", response: str = "", created: bool = True) -> SendResult:
        return cls(Outcome.ACCEPTED, code=code, message="ok", response=response, created=created)

    @classmethod
    def retryable(cls, code: str, message: str, *, response: str = "", **extra: Any) -> SendResult:
        return cls(Outcome.RETRYABLE, code=code, message=message, response=response, **extra)

    @classmethod
    def permanent(cls, code: str, message: str, *, response: str = "") -> SendResult:
        return cls(Outcome.PERMANENT, code=code, message=message, response=response)


@dataclass(frozen=True)
class OutboundMessage:
    """One rendered message for one destination; `key` is its idempotency key."""

    key: str
    title: str
    body: str = ""
    url: str = ""
    mentions: tuple[str, ...] = ()  # mobiles to @ in a group
    address: str = ""  # mobile (SMS) or e-mail address
    user_id: int | None = None
    order_id: int | None = None
    inbox_key: str = ""
    sms_template: str = ""
    sms_params: dict[str, str] = field(default_factory=dict)
    is_digest: bool = False


@dataclass(frozen=True)
class EndpointConfig:
    """Credentials and options of a robot or SMS account, resolved from the DB and environment."""

    url: str = ""
    secret: str = ""
    access_key_id: str = ""
    sign_name: str = ""
    template_code: str = ""
    keyword: str = ""
    style: str = "markdown"

    @classmethod
    def of(cls, endpoint: Any) -> EndpointConfig:
        prefix = endpoint.env_prefix.strip()

        def pick(name: str, stored: str) -> str:
            return (os.environ.get(f"{prefix}_{name}", "") or stored) if prefix else stored

        return cls(
            url=pick("URL", endpoint.url),
            secret=pick("SECRET", endpoint.secret),
            access_key_id=pick("ACCESS_KEY_ID", endpoint.access_key_id),
            sign_name=endpoint.sign_name,
            template_code=endpoint.template_code,
            keyword=endpoint.keyword,
            style=endpoint.message_style,
        )


class NotificationAdapter(Protocol):
    """A provider: send one message; classify one raw answer (kept apart so tests can pin it)."""

    def send(self, message: OutboundMessage) -> SendResult: ...

    def interpret(self, status: int, body: bytes) -> SendResult: ...


# --- HTTP -------------------------------------------------------------------------------------

_local = threading.local()


def http_session() -> requests.Session:
    """One pooled session per thread: keep-alive matters at a few hundred sends a second."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        session.trust_env = False  # intranet robots and test servers: no proxy from the environment
    return session


def http_send(method: str, url: str, **kwargs: Any) -> tuple[int, bytes] | SendResult:
    """Make one provider request with short timeouts. Transport failures and 5xx/429 come back as
    a retryable SendResult; any other answer as (status, body) for the adapter to interpret."""
    timeout = (notify_conf("CONNECT_TIMEOUT_SECONDS"), notify_conf("READ_TIMEOUT_SECONDS"))
    try:
        reply = http_session().request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.ConnectTimeout as exc:  # nothing reached the provider
        return SendResult.retryable("connect_timeout", f"连接超时：{redact(str(exc))}")
    except requests.Timeout as exc:
        return SendResult.retryable("timeout", f"等待响应超时（结果不明）：{redact(str(exc))}", unclear=True)
    except requests.ConnectionError as exc:
        return SendResult.retryable("connection_error", f"连接失败：{redact(str(exc))}", unclear=True)
    body = reply.content
    if reply.status_code >= 500:
        return SendResult.retryable(f"http_{reply.status_code}", "服务商暂时不可用", response=_clip(body))
    if reply.status_code == 429:
        after = reply.headers.get("Retry-After", "")
        return SendResult.retryable(
            "http_429",
            "服务商限流",
            response=_clip(body),
            throttled=True,
            retry_after=float(after) if after.isdigit() else None,
        )
    return reply.status_code, body


_CREDENTIALS = re.compile(r"(access_token|key|sign|Signature|AccessKeyId|hook)(=|/)[^&\s)'\"]+")


def redact(text: str) -> str:
    """Error texts end up on the failed-deliveries page: keep robot tokens and signatures out."""
    return _CREDENTIALS.sub(r"\1\2***", text)


def parse_json(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _clip(body: bytes, limit: int = 2000) -> str:
    return body[:limit].decode("utf-8", errors="replace")


def clip(body: bytes) -> str:
    return _clip(body)


def unexpected(status: int, body: bytes) -> SendResult:
    """An answer that is not the provider's JSON: a 4xx is our fault, anything else may pass."""
    if 400 <= status < 500:
        return SendResult.permanent(f"http_{status}", "请求被拒绝", response=_clip(body))
    return SendResult.retryable(f"http_{status}", "无法识别的响应", response=_clip(body), unclear=True)


def truncate_utf8(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` UTF-8 bytes without splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


def plain_text(message: OutboundMessage) -> str:
    parts = [message.title]
    if message.body:
        parts.append(message.body)
    if message.url:
        parts.append(message.url)
    return "\n".join(parts)


def markdown_text(message: OutboundMessage, *, heading: str = "####") -> str:
    parts = [f"{heading} {message.title}"]
    if message.body:
        parts.append(message.body)
    if message.url:
        parts.append(f"[查看订单]({message.url})")
    return "\n\n".join(parts)


def with_keyword(text: str, keyword: str) -> str:
    """Robots with 自定义关键词 drop messages that lack it; put it in front when missing."""
    if keyword and keyword not in text:
        return f"【{keyword}】{text}"
    return text


def message_headers(message: OutboundMessage) -> dict[str, str]:
    # Providers ignore it; our test servers and proxies' logs count sends by it.
    return {"X-OrderHub-Message-Id": message.key}
