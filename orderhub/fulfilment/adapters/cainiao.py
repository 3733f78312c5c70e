"""Cainiao LINK e-waybill (菜鸟电子面单) TMS_WAYBILL_GET / TMS_WAYBILL_DISCARD.

Form POST of msg_type, logistic_provider_id (the merchant's token), logistics_interface (the JSON
body as sent) and data_digest = base64(raw MD5(logistics_interface + appSecret)).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings

from orderhub.fulfilment.adapters.waybill import Address, WaybillError, WaybillRequest, WaybillResult

PRODUCTION_URL = "https://link.cainiao.com/gateway/link.do"


def data_digest(content: str, app_secret: str) -> str:
    return base64.b64encode(hashlib.md5((content + app_secret).encode("utf-8")).digest()).decode()  # noqa: S324


def _addr(a: Address) -> dict[str, Any]:
    return {
        "name": a.name,
        "mobile": a.mobile,
        "phone": "",
        "address": {
            "province": a.province,
            "city": a.city,
            "district": a.district,
            "town": "",
            "detail": a.detail,
        },
    }


def _config() -> dict[str, Any]:
    conf = dict(getattr(settings, "ORDERHUB_CAINIAO", {}) or {})
    conf.setdefault("URL", os.environ.get("ORDERHUB_CAINIAO_URL", PRODUCTION_URL))
    conf.setdefault("TOKEN", os.environ.get("ORDERHUB_CAINIAO_TOKEN", ""))
    conf.setdefault("APP_SECRET", os.environ.get("ORDERHUB_CAINIAO_APP_SECRET", ""))
    conf.setdefault("TEMPLATE_URL", os.environ.get("ORDERHUB_CAINIAO_TEMPLATE_URL", ""))
    conf.setdefault("USER_ID", int(os.environ.get("ORDERHUB_CAINIAO_USER_ID", "0") or 0))
    conf.setdefault("TIMEOUT", 10.0)
    return conf


class CainiaoWaybillProvider:
    name = "cainiao"
    batch_size = 10  # tradeOrderInfoDtos holds at most 10 entries per call

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.conf = {**_config(), **(config or {})}

    def _call(self, msg_type: str, body: dict[str, Any]) -> dict[str, Any]:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        form = {
            "msg_type": msg_type,
            "logistic_provider_id": self.conf["TOKEN"],
            "logistics_interface": content,
            "data_digest": data_digest(content, self.conf["APP_SECRET"]),
        }
        req = urllib.request.Request(  # noqa: S310 - the gateway URL comes from configuration
            self.conf["URL"],
            data=urllib.parse.urlencode(form).encode("utf-8"),
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=self.conf["TIMEOUT"]) as resp:  # noqa: S310
                data = json.loads(resp.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, ValueError) as e:
            raise WaybillError(f"菜鸟接口不可用：{e}", code="unreachable", retryable=True) from e
        if str(data.get("success")).lower() != "true":
            raise WaybillError(
                f"菜鸟返回错误 {data.get('errorCode', '')}：{data.get('errorMsg', '')}",
                code=str(data.get("errorCode", "")),
            )
        return data

    def issue(self, carrier_code: str, requests: list[WaybillRequest]) -> list[WaybillResult]:
        if not requests:
            return []
        if len(requests) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} waybills per call")
        body = {
            "cpCode": carrier_code,
            "sender": _addr(requests[0].sender),
            "tradeOrderInfoDtos": [
                {
                    "objectId": r.object_id,
                    "orderInfo": {"orderChannelsType": r.channel_type, "tradeOrderList": [r.order_no]},
                    "packageInfo": {
                        "id": r.object_id,
                        "items": [{"count": c, "name": n} for n, c in r.items],
                        "volume": 1,
                        "weight": r.weight_g,
                    },
                    "recipient": _addr(r.recipient),
                    "templateUrl": self.conf["TEMPLATE_URL"],
                    "userId": self.conf["USER_ID"],
                    "logisticsServices": "",
                }
                for r in requests
            ],
            "needEncrypt": False,
            "resourceCode": "",
            "dmsSorting": False,
        }
        data = self._call("TMS_WAYBILL_GET", body)
        by_id = {str(x.get("objectId")): x for x in data.get("waybillCloudPrintResponseList") or []}
        out = []
        for r in requests:
            got = by_id.get(r.object_id)
            if not got or not got.get("waybillCode"):
                raise WaybillError(f"菜鸟未返回 {r.order_no} 的面单号", code="missing_result")
            out.append(WaybillResult(r.object_id, str(got["waybillCode"]), str(got.get("printData", ""))))
        return out

    def void(self, carrier_code: str, number: str) -> None:
        self._call("TMS_WAYBILL_DISCARD", {"cpCode": carrier_code, "waybillCode": number})


def provider_for(name: str) -> Any:
    from orderhub.fulfilment.adapters.simulated import SimulatedWaybillProvider

    if name == "cainiao":
        return CainiaoWaybillProvider()
    return SimulatedWaybillProvider()
