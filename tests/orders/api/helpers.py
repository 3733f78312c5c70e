"""Helpers for the orders API tests: realistic request bodies and JSON calls."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client


def order_body(**overrides: Any) -> dict[str, Any]:
    """An order as a dealer's ERP would send it: known SKUs, complete address."""
    body: dict[str, Any] = {
        "channel": "manual",
        "channel_order_no": "U8-20241212-0001",
        "ordered_at": "2024-12-12T09:30:00+08:00",
        "customer_code": "D0001",
        "receiver_name": "王师傅",
        "receiver_phone": "13812345678",
        "province": "浙江省",
        "province_code": "330000",
        "city": "台州市",
        "city_code": "331000",
        "district": "椒江区",
        "district_code": "331002",
        "address_detail": "东环大道88号",
        "lines": [
            {"sku_code": "BP-2231", "quantity": 20, "unit_price": "88.00", "name": "陶瓷刹车片 前轮"},
            {"sku_code": "OF-1102", "quantity": 50, "unit_price": "12.50"},
        ],
        "remark": "双十二活动价",
        "promised_at": "2024-12-15T18:00:00+08:00",
        "owner": "sales1",
    }
    body.update(overrides)
    return body


def post_json(client: Client, url: str, body: Any, **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)
