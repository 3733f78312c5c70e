"""POST /api/ingest/orders: a channel's raw order JSON + a preset → per-item results."""

from __future__ import annotations

import io
import json

from openpyxl import load_workbook

from orderhub.accounts.roles import Role
from orderhub.orders.models import HoldReason, Order

URL = "/api/ingest/orders"


def douyin_order(no: str, qty: int = 2, phone: str = "#3kQ9Y2bX0a#Zp1c==", sku: str = "BP-2231") -> dict:
    return {
        "主订单编号": no,
        "收件人": "赵**",
        "收件人手机号": phone,
        "省": "上海",
        "市": "上海市",
        "区": "浦东新区",
        "街道": "花木街道",
        "详细地址": "世纪大道1号",
        "订单提交时间": "2023-12-12 20:01:05",
        "运费": "0",
        "lines": [
            {
                "子订单编号": f"{no}-1",
                "商家编码": sku,
                "商品数量": qty,
                "商品单价": "88.00",
                "选购商品": "刹车片",
            },
            {"子订单编号": f"{no}-2", "商家编码": "OF-1102", "商品数量": 1, "商品单价": "35.00"},
        ],
    }


def post(client, body):
    return client.post(URL, data=json.dumps(body, ensure_ascii=False), content_type="application/json")


def test_bulk_intake_per_item_results_and_idempotency(api_client, staff, shop_channels, skus):
    client = api_client(staff[Role.CUSTOMER_SERVICE])
    body = {
        "preset": "抖店-订单导出",
        "orders": [douyin_order("DY1"), douyin_order("DY2", sku="NOPE"), douyin_order("DY3", qty="两件")],
    }

    r = post(client, body)

    assert r.status_code == 200, r.content
    data = r.json()
    items = data["items"]
    assert [i["outcome"] for i in items] == ["created", "held", "rejected"]
    assert items[0]["order_no"] and items[0]["channel_order_no"] == "DY1"
    assert items[1]["holds"] == [HoldReason.UNKNOWN_SKU]
    assert "两件" in items[2]["errors"][0] and items[2]["channel_order_no"] == "DY3"
    assert "抖店-订单导出" in data["mapping"]
    order = Order.objects.get(channel_order_no="DY1")
    assert order.lines.count() == 2 and order.district_code == "310115"

    again = post(client, body).json()
    assert [i["outcome"] for i in again["items"]] == ["unchanged", "unchanged", "rejected"]
    assert Order.objects.count() == 2

    batch = client.get(f"/api/ingest/batches/{data['batch_id']}").json()
    assert batch["source"] == "api" and batch["counts"]["created"] == 2  # rows: DY1's two lines
    assert batch["orders"] == {"created": 1, "held": 1}


def test_bulk_intake_errors_use_the_api_error_shape(api_client, staff, shop_channels):
    client = api_client(staff[Role.CUSTOMER_SERVICE])
    r = post(client, {"preset": "不存在", "orders": [{"a": 1}]})
    assert r.status_code == 404 and r.json()["field"] == "preset"
    r = post(client, {"preset": "抖店-订单导出", "orders": [{"a": 1}]})
    assert r.status_code == 422 and "渠道订单号" in r.json()["message"]
    sales = api_client(staff[Role.SALES])
    assert post(sales, {"preset": "抖店-订单导出", "orders": [douyin_order("X")]}).status_code == 403


def test_export_over_the_api(api_client, staff, shop_channels, skus):
    client = api_client(staff[Role.CUSTOMER_SERVICE])
    post(client, {"preset": "抖店-订单导出", "orders": [douyin_order("DY1")]})

    r = client.get("/api/ingest/orders/export", {"format": "xlsx", "channel": "douyin"})

    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws.max_row == 3  # header + two lines
    jl = client.get("/api/ingest/orders/export", {"format": "jsonl"})
    assert json.loads(jl.content.decode().splitlines()[0])["channel_order_no"] == "DY1"
