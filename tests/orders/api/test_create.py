"""POST /api/orders: creating orders, idempotently, as an integration would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.orders.models import IdempotencyRecord, OperationLog, Order
from tests.orders.api.helpers import order_body, post_json
from tests.support import run_at_once

pytestmark = pytest.mark.usefixtures("channels", "skus", "customer")

ApiClient = Callable[[User], Client]


@pytest.fixture
def cs(api_client: ApiClient, staff: dict[str, User]) -> Client:
    return api_client(staff[Role.CUSTOMER_SERVICE])


def test_create_answers_201_with_the_new_order_card(cs: Client) -> None:
    response = post_json(cs, "/api/orders", order_body())

    assert response.status_code == 201
    order = response.json()
    assert order["order_no"].startswith("OH24121")
    assert order["channel"] == {"code": "manual", "name": "手工"}
    assert order["channel_order_no"] == "U8-20241212-0001"
    assert order["ordered_at"] == "2024-12-12T09:30:00+08:00"
    assert order["status"] == {"code": "pending_review", "label": "待审核"}
    assert order["version"] == 1
    assert order["customer"] == {"code": "D0001", "name": "椒江恒通汽配"}
    assert order["customer_tier"] == "a"
    assert order["owner"] == {"username": "sales1", "display_name": "sales1"}
    assert order["last_operator"]["username"] == "customer_service1"
    assert [(ln["line_no"], ln["sku_code"], ln["quantity"], ln["unit_price"]) for ln in order["lines"]] == [
        (1, "BP-2231", 20, "88.00"),
        (2, "OF-1102", 50, "12.50"),
    ]
    assert order["lines"][1]["name"] == "机油滤清器"  # filled from the catalogue
    assert order["goods_amount"] == "2385.00"
    assert order["total_amount"] == "2385.00"
    assert order["holds"] == []
    assert [t["to"] for t in order["allowed_transitions"]] == ["split", "cancelled"]
    assert Order.objects.filter(pk=order["id"]).exists()


def test_each_lines_channel_sub_order_number_is_kept_for_reporting_back(cs: Client) -> None:
    body = order_body(
        lines=[
            {"sku_code": "BP-2231", "quantity": 2, "sub_order_no": "206026099675498521"},
            {"sku_code": "OF-1102", "quantity": 1},
        ]
    )
    response = post_json(cs, "/api/orders", body)

    assert response.status_code == 201
    assert Order.objects.get(pk=response.json()["id"]).sub_order_nos() == ["206026099675498521", ""]


def test_problems_in_the_order_become_holds_not_refusals(cs: Client) -> None:
    body = order_body(
        channel_order_no=None,
        address_detail="",
        lines=[{"sku_code": "ZZ-404", "quantity": 0}, {"sku_code": "BP-2231", "quantity": 4}],
    )

    response = post_json(cs, "/api/orders", body)

    assert response.status_code == 201
    holds = {h["reason"]: (h["label"], h["detail"]) for h in response.json()["holds"]}
    assert holds == {
        "unknown_sku": ("未知商品", "ZZ-404"),
        "bad_quantity": ("数量错误", "ZZ-404"),
        "incomplete_address": ("地址不完整", "省/市/详细地址缺失"),
    }
    # Held orders cannot be approved: only cancelling is offered.
    assert [t["to"] for t in response.json()["allowed_transitions"]] == ["cancelled"]


def test_same_idempotency_key_returns_the_same_order_with_200(cs: Client) -> None:
    body = order_body(channel_order_no=None)

    first = post_json(cs, "/api/orders", body, **{"Idempotency-Key": "erp-batch-7-row-1"})
    again = post_json(cs, "/api/orders", body, **{"Idempotency-Key": "erp-batch-7-row-1"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["order_no"] == first.json()["order_no"]
    assert Order.objects.count() == 1
    assert OperationLog.objects.filter(action="create").count() == 1


def test_same_channel_order_number_returns_the_same_order_with_200(cs: Client) -> None:
    first = post_json(cs, "/api/orders", order_body())
    # Re-imported from the channel later, without a key, even with a changed remark.
    again = post_json(cs, "/api/orders", order_body(remark="重新导入"))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["remark"] == "双十二活动价"
    assert Order.objects.count() == 1


def test_same_channel_order_number_on_another_channel_is_another_order(cs: Client) -> None:
    first = post_json(cs, "/api/orders", order_body())
    other = post_json(cs, "/api/orders", order_body(channel="pdd"))

    assert (first.status_code, other.status_code) == (201, 201)
    assert other.json()["id"] != first.json()["id"]


def test_reusing_a_key_for_a_different_body_is_refused(cs: Client) -> None:
    key = {"Idempotency-Key": "erp-batch-7-row-2"}
    first = post_json(cs, "/api/orders", order_body(channel_order_no=None), **key)

    changed = order_body(channel_order_no=None, lines=[{"sku_code": "HL-8810", "quantity": 2}])
    response = post_json(cs, "/api/orders", changed, **key)

    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "idempotency_key_reused"
    assert error["field"] == "Idempotency-Key"
    assert "erp-batch-7-row-2" in error["message"]
    assert "不同内容" in error["message"]
    assert error["details"] == {"order_id": first.json()["id"]}
    assert Order.objects.count() == 1


def test_idempotency_keys_belong_to_one_user(
    api_client: ApiClient, staff: dict[str, User], cs: Client
) -> None:
    body = order_body(channel_order_no=None)
    mine = post_json(cs, "/api/orders", body, **{"Idempotency-Key": "row-1"})
    theirs = post_json(api_client(staff[Role.MANAGER]), "/api/orders", body, **{"Idempotency-Key": "row-1"})

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert IdempotencyRecord.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field", "message_part"),
    [
        ({"lines": []}, "lines", "at least 1 item"),
        ({"lines": [{"sku_code": "BP-2231", "quantity": "二十"}]}, "lines.0.quantity", "valid integer"),
        (
            {"lines": [{"sku_code": "BP-2231", "quantity": 1, "unit_price": "8.999"}]},
            "lines.0.unit_price",
            "decimal places",
        ),
        ({"channel_order_no": "X" * 65}, "channel_order_no", "at most 64"),
        ({"ordered_at": "12/12/2024"}, "ordered_at", "datetime"),
        ({"receiver_name": "王\x00师傅"}, "receiver_name", "NUL"),
    ],
)
def test_invalid_input_is_422_naming_the_field(
    cs: Client, change: dict[str, Any], field: str, message_part: str
) -> None:
    response = post_json(cs, "/api/orders", order_body(**change))

    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "validation_error"
    assert error["field"] == field
    assert message_part in error["message"]
    assert Order.objects.count() == 0


def test_missing_channel_is_422(cs: Client) -> None:
    body = order_body()
    del body["channel"]

    response = post_json(cs, "/api/orders", body)

    assert response.status_code == 422
    assert response.json()["field"] == "channel"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"channel": "jd"}, "channel", "渠道「jd」不存在"),
        ({"customer_code": "D9999"}, "customer_code", "客户「D9999」不存在"),
        ({"owner": "nobody"}, "owner", "销售「nobody」不存在"),
    ],
)
def test_unknown_references_are_404_naming_the_field(
    cs: Client, change: dict[str, Any], field: str, message: str
) -> None:
    response = post_json(cs, "/api/orders", order_body(**change))

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": message, "field": field}
    assert Order.objects.count() == 0


def test_a_body_that_is_not_json_is_400(cs: Client) -> None:
    response = cs.post("/api/orders", "{'channel': manual", content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"code": "bad_request", "message": "Cannot parse request body", "field": None}


def _post_concurrently(clients: list[Client], body: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    """Fire the same request from several threads at once; each thread has its own connection."""
    jobs = [lambda c=c: post_json(c, "/api/orders", body, **headers) for c in clients]
    return run_at_once(jobs, timeout=120)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_one_key_make_exactly_one_order(
    api_client: ApiClient, staff: dict[str, User]
) -> None:
    # No channel order number: only the Idempotency-Key can stop the duplicates.
    body = order_body(channel_order_no=None)
    clients = [api_client(staff[Role.CUSTOMER_SERVICE]) for _ in range(8)]

    results = _post_concurrently(clients, body, {"Idempotency-Key": "retry-storm-1"})

    assert all(not isinstance(r, BaseException) for r in results), results
    assert sorted(r.status_code for r in results) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in results}) == 1
    assert Order.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert OperationLog.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_channel_order_make_exactly_one_order(
    api_client: ApiClient, staff: dict[str, User]
) -> None:
    clients = [api_client(staff[Role.CUSTOMER_SERVICE]) for _ in range(8)]

    results = _post_concurrently(clients, order_body(), {})

    assert all(not isinstance(r, BaseException) for r in results), results
    assert sorted(r.status_code for r in results) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in results}) == 1
    assert Order.objects.count() == 1
