"""Channel ship-notification adapters (发货回传): simulated, Pinduoduo, Taobao (TOP); Douyin and
1688 live in douyin.py and alibaba1688.py beside this module.

Each adapter takes a ShipNotice and returns the receiver's answer, or raises ShipReportError
(`retryable` for transport failures, not for a business refusal that retrying cannot fix).
Credentials come from settings.ORDERHUB_CHANNEL_CREDENTIALS[channel code] or the environment
(ORDERHUB_CHANNEL_<CODE>_<KEY>), never from code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from django.conf import settings

PDD_URL = "https://gw-api.pinduoduo.com/api/router"
TAOBAO_URL = "https://eco.taobao.com/router/rest"
CHINA = timezone(timedelta(hours=8))  # Beijing time, as the platforms' timestamps


class ShipReportError(Exception):
    def __init__(self, message: str, *, retryable: bool, response: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.response = response or {}


@dataclass
class ShipLine:
    """One shipped line: the channel's own sub-order id (when the import kept it), units, kilograms."""

    channel_line_id: str
    quantity: int
    weight_kg: float


@dataclass
class ShipNotice:
    channel_code: str
    channel_order_no: str
    carrier_code: str
    taobao_code: str
    pdd_logistics_id: str
    tracking_number: str
    carrier_name: str = ""
    douyin_code: str = ""
    alibaba_code: str = ""
    lines: list[ShipLine] = field(default_factory=list)


@dataclass
class ShipAnswer:
    request: dict[str, Any]  # what was sent, without secrets
    response: dict[str, Any]


class ShipReporter(Protocol):
    name: str

    def ship(self, notice: ShipNotice) -> ShipAnswer: ...


def credentials(channel_code: str) -> dict[str, str]:
    conf = dict((getattr(settings, "ORDERHUB_CHANNEL_CREDENTIALS", {}) or {}).get(channel_code, {}))
    prefix = f"ORDERHUB_CHANNEL_{channel_code.upper()}_"
    for key, value in os.environ.items():
        if key.startswith(prefix):
            conf.setdefault(key[len(prefix) :], value)
    return conf


def post_form(url: str, form: dict[str, str], timeout: float) -> dict[str, Any]:
    return post(
        url,
        urllib.parse.urlencode(form).encode("utf-8"),
        "application/x-www-form-urlencoded;charset=utf-8",
        timeout,
    )


def post(url: str, body: bytes, content_type: str, timeout: float) -> dict[str, Any]:
    """POST and read a JSON answer; transport trouble, 5xx and 429 are retryable, other HTTP errors not."""
    req = urllib.request.Request(  # noqa: S310 - gateway URL from configuration
        url, data=body, headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        text = e.read().decode("utf-8", "replace")[:500]
        raise ShipReportError(
            f"HTTP {e.code} {text}".strip(), retryable=e.code >= 500 or e.code == 429, response={"body": text}
        ) from e
    except (urllib.error.URLError, TimeoutError, ValueError) as e:
        raise ShipReportError(f"接口不可用：{e}", retryable=True) from e


def error_text(who: str, err: dict[str, Any], code: str, msg: str) -> str:
    codes = " ".join(str(err.get(k, "")) for k in (code, "sub_code") if err.get(k, ""))
    text = " ".join(str(err.get(k, "")) for k in (msg, "sub_msg") if err.get(k, ""))
    return f"{who}返回错误 {codes}：{text or '无说明'}"


class SimulatedReporter:
    name = "simulated"

    def ship(self, notice: ShipNotice) -> ShipAnswer:
        req = {
            "order": notice.channel_order_no,
            "carrier": notice.carrier_code,
            "tracking": notice.tracking_number,
        }
        return ShipAnswer(req, {"simulated": True, "is_success": True})


# --- Pinduoduo ----------------------------------------------------------------------------------


def pdd_sign(params: dict[str, str], client_secret: str) -> str:
    """UPPER(MD5(secret + k1v1k2v2… (sorted by key, every param but sign) + secret))."""
    s = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hashlib.md5((client_secret + s + client_secret).encode("utf-8")).hexdigest().upper()  # noqa: S324


class PinduoduoReporter:
    name = "pinduoduo"

    def __init__(self, conf: dict[str, str]) -> None:
        self.conf = conf

    def ship(self, notice: ShipNotice) -> ShipAnswer:
        if not notice.pdd_logistics_id:
            raise ShipReportError(f"快递 {notice.carrier_code} 未配置拼多多物流公司 ID", retryable=False)
        params = {
            "type": "pdd.logistics.online.send",
            "client_id": self.conf.get("CLIENT_ID", ""),
            "access_token": self.conf.get("ACCESS_TOKEN", ""),
            "timestamp": str(int(time.time())),
            "data_type": "JSON",
            "order_sn": notice.channel_order_no,
            "logistics_id": notice.pdd_logistics_id,
            "tracking_number": notice.tracking_number,
        }
        params["sign"] = pdd_sign(params, self.conf.get("CLIENT_SECRET", ""))
        data = post_form(self.conf.get("URL", PDD_URL), params, float(self.conf.get("TIMEOUT", 10)))
        shown = {k: v for k, v in params.items() if k not in {"access_token", "sign"}}
        ok = (data.get("logistics_online_send_response") or {}).get("is_success") is True
        if not ok:
            err = data.get("error_response") or {}
            raise ShipReportError(
                error_text("拼多多", err, "error_code", "error_msg"),
                retryable=False,
                response=data,
            )
        return ShipAnswer(shown, data)


# --- Taobao (TOP) -------------------------------------------------------------------------------


def top_sign(params: dict[str, str], secret: str, method: str = "md5") -> str:
    """TOP sign over sorted k1v1k2v2… of non-empty params except sign: md5 / hmac (HMAC-MD5) / hmac-sha256."""
    s = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    if method == "md5":
        return hashlib.md5((secret + s + secret).encode("utf-8")).hexdigest().upper()  # noqa: S324
    digest = hashlib.md5 if method == "hmac" else hashlib.sha256
    return hmac.new(secret.encode("utf-8"), s.encode("utf-8"), digest).hexdigest().upper()


class TaobaoReporter:
    name = "taobao"

    def __init__(self, conf: dict[str, str]) -> None:
        self.conf = conf

    def ship(self, notice: ShipNotice) -> ShipAnswer:
        if not notice.taobao_code:
            raise ShipReportError(f"快递 {notice.carrier_code} 未配置淘宝物流公司编码", retryable=False)
        method = self.conf.get("SIGN_METHOD", "md5")
        params = {
            "method": "taobao.logistics.offline.send",
            "app_key": self.conf.get("APP_KEY", ""),
            "session": self.conf.get("SESSION", ""),
            "timestamp": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "format": "json",
            "v": "2.0",
            "sign_method": method,
            "tid": notice.channel_order_no,
            "out_sid": notice.tracking_number,
            "company_code": notice.taobao_code,
        }
        params["sign"] = top_sign(params, self.conf.get("APP_SECRET", ""), method)
        data = post_form(self.conf.get("URL", TAOBAO_URL), params, float(self.conf.get("TIMEOUT", 10)))
        shown = {k: v for k, v in params.items() if k not in {"session", "sign"}}
        shipping = (data.get("logistics_offline_send_response") or {}).get("shipping") or {}
        if shipping.get("is_success") is not True:
            err = data.get("error_response") or {}
            raise ShipReportError(
                error_text("淘宝", err, "code", "msg"),
                # isp.* sub codes are the platform's own trouble: worth retrying.
                retryable=str(err.get("sub_code", "")).startswith("isp."),
                response=data,
            )
        return ShipAnswer(shown, data)


def reporter_for(channel_kind: str, channel_code: str) -> ShipReporter:
    from orderhub.fulfilment.adapters.alibaba1688 import Alibaba1688Reporter
    from orderhub.fulfilment.adapters.douyin import DouyinReporter

    conf = credentials(channel_code)
    if conf.get("ADAPTER") == "simulated":
        return SimulatedReporter()
    reporters: dict[str, type] = {
        "pinduoduo": PinduoduoReporter,
        "taobao": TaobaoReporter,
        "douyin": DouyinReporter,
        "1688": Alibaba1688Reporter,
    }
    if channel_kind in reporters:
        return reporters[channel_kind](conf)
    return SimulatedReporter()
