"""The allocation-wave endpoint: a warehouse's screen or an integration allocates the next wave."""

from __future__ import annotations

from decimal import Decimal

from orderhub.accounts.roles import Role
from orderhub.inventory.models import Stock
from orderhub.orders.services import LineDraft
from orderhub.orders.states import OrderStatus


def test_the_next_wave_via_api(api_client, staff, warehouses, skus, stock_in, approved, make_order) -> None:
    # Given 30 brake pads in Guangzhou and three orders waiting: two of 20, one of 5
    stock_in(warehouses["GZ"], skus["BP-2231"], 30)
    first, second = approved(), approved()
    small = approved(lines=[LineDraft("BP-2231", 5, Decimal("88.00"))])
    make_order()  # still in 待审核: not part of any wave

    # When the warehouse asks for the next wave
    r = api_client(staff[Role.WAREHOUSE]).post(
        "/api/fulfilment/allocation-waves", {"limit": 50}, content_type="application/json"
    )

    # Then the first and the small one are allocated to Guangzhou, the second is held naming the shortfall
    assert r.status_code == 200, r.content
    body = r.json()
    assert [(a["order_id"], a["status"], a["warehouse"]) for a in body["allocated"]] == [
        (first.pk, OrderStatus.ALLOCATING, "GZ"),
        (small.pk, OrderStatus.ALLOCATING, "GZ"),
    ]
    assert body["allocated"][0]["details"]["ranking"][0]["warehouse"] == "GZ"
    [held] = body["held"]
    assert (held["order_id"], held["status"], held["allocated"]) == (
        second.pk,
        OrderStatus.PENDING_REVIEW,
        False,
    )
    assert held["details"]["shortfalls"] == [{"sku_code": "BP-2231", "needed": 20, "available": 10}]
    assert body["skipped"] == []
    assert Stock.objects.get(warehouse=warehouses["GZ"]).reserved == 25


def test_named_orders_and_what_was_left(api_client, staff, warehouses, skus, stock_in, approved) -> None:
    stock_in(warehouses["HZ"], skus["BP-2231"], 100)
    order = approved()
    client = api_client(staff[Role.CUSTOMER_SERVICE])
    r = client.post(
        "/api/fulfilment/allocation-waves", {"order_ids": [order.pk, 987654]}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    assert [a["order_no"] for a in r.json()["allocated"]] == [order.order_no]
    assert r.json()["skipped"] == [{"order_id": 987654, "code": "not_found", "message": "订单 987654 不存在"}]
    # A second wave over the same order leaves it where it is, saying why
    again = client.post(
        "/api/fulfilment/allocation-waves", {"order_ids": [order.pk]}, content_type="application/json"
    ).json()
    assert again["allocated"] == [] and again["skipped"][0]["order_id"] == order.pk
    assert "不在「已拆单」状态" in again["skipped"][0]["message"]


def test_sales_may_not_allocate_a_wave(api_client, staff, warehouses) -> None:
    r = api_client(staff[Role.SALES]).post(
        "/api/fulfilment/allocation-waves", {"limit": 10}, content_type="application/json"
    )
    assert r.status_code == 403
    r = api_client(staff[Role.WAREHOUSE]).post(
        "/api/fulfilment/allocation-waves", {"limit": 0}, content_type="application/json"
    )
    assert r.status_code == 422
