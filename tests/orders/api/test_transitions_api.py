"""POST /api/orders/{id}/transitions: moving an order card, and every way it is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.orders.models import HoldReason, OperationLog, Order
from orderhub.orders.services import order_hold
from tests.orders.api.helpers import post_json

ApiClient = Callable[[User], Client]
MakeOrder = Callable[..., Order]


def move(client: Client, order: Order, to: str, version: int, reason: str = "") -> Any:
    body = {"to": to, "expected_version": version, "reason": reason}
    return post_json(client, f"/api/orders/{order.pk}/transitions", body)


def assert_unchanged(order: Order) -> None:
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.status, fresh.version) == (order.status, order.version)
    assert OperationLog.objects.filter(order=order, action="transition").count() == 0


def test_approving_moves_the_order_and_answers_with_the_new_card(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order()

    response = move(api_client(staff[Role.CUSTOMER_SERVICE]), order, "split", 1)

    assert response.status_code == 200
    card = response.json()
    assert card["status"] == {"code": "split", "label": "已拆单"}
    assert card["version"] == 2
    assert card["last_operator"]["username"] == "customer_service1"
    assert [t["name"] for t in card["allowed_transitions"]] == ["allocate", "reject_split", "cancel"]
    entry = OperationLog.objects.get(order=order, action="transition")
    assert (entry.transition, entry.from_status, entry.to_status) == ("approve", "pending_review", "split")


def test_a_stale_version_is_409_and_changes_nothing(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order()
    cs = api_client(staff[Role.CUSTOMER_SERVICE])
    assert move(cs, order, "split", 1).status_code == 200

    # A colleague still looking at version 1 tries to cancel.
    response = move(api_client(staff[Role.MANAGER]), order, "cancelled", 1, reason="客户取消")

    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "version_conflict"
    assert error["field"] == "expected_version"
    assert error["message"] == (
        f"订单 {order.order_no} 已被他人修改（当前版本 2，您看到的是 1），请刷新后重试"
    )
    assert error["details"] == {"current_version": 2, "current_status": "split"}
    assert Order.objects.get(pk=order.pk).status == "split"


def test_a_move_outside_the_role_is_403(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order()

    response = move(api_client(staff[Role.WAREHOUSE]), order, "split", 1)

    assert response.status_code == 403
    assert response.json() == {"code": "forbidden", "message": "您的角色不能执行「审核通过」", "field": "to"}
    assert_unchanged(order)


def test_a_move_the_state_table_does_not_allow_is_422(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order()

    response = move(api_client(staff[Role.MANAGER]), order, "shipped", 1)

    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_transition",
        "message": f"订单 {order.order_no} 当前为「待审核」，不能变为「已发货」",
        "field": "to",
    }
    assert_unchanged(order)


def test_approving_a_held_order_is_422_naming_the_hold(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order()
    order_hold(order_id=order.pk, reason=HoldReason.STOCK_CONFLICT, actor=staff[Role.CUSTOMER_SERVICE])
    order.refresh_from_db()

    response = move(api_client(staff[Role.CUSTOMER_SERVICE]), order, "split", order.version)

    assert response.status_code == 422
    assert response.json() == {
        "code": "guard_failed",
        "message": "订单被拦截，需先处理：库存冲突",
        "field": "to",
    }
    assert_unchanged(order)


def test_cancelling_without_a_reason_is_422_on_the_reason(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order()

    response = move(api_client(staff[Role.CUSTOMER_SERVICE]), order, "cancelled", 1, reason="  ")

    assert response.status_code == 422
    assert response.json() == {
        "code": "validation_error",
        "message": "「取消订单」需要填写原因",
        "field": "reason",
    }
    assert_unchanged(order)


def test_an_unknown_target_state_is_422_on_to(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order()

    response = move(api_client(staff[Role.MANAGER]), order, "teleported", 1)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["field"] == "to"
    assert "pending_review" in response.json()["message"]  # lists the states that exist
    assert_unchanged(order)


@pytest.mark.parametrize("body", [{"to": "split"}, {"to": "split", "expected_version": 0}])
def test_expected_version_is_required_and_positive(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder, body: dict[str, Any]
) -> None:
    order = make_order()

    response = post_json(api_client(staff[Role.MANAGER]), f"/api/orders/{order.pk}/transitions", body)

    assert response.status_code == 422
    assert response.json()["field"] == "expected_version"
    assert_unchanged(order)


def test_sales_may_cancel_their_own_order_but_another_salespersons_is_404(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order()  # owned by sales1

    theirs = move(api_client(staff["sales2"]), order, "cancelled", 1, reason="客户取消")
    missing = post_json(
        api_client(staff["sales2"]),
        "/api/orders/424242/transitions",
        {"to": "cancelled", "expected_version": 1, "reason": "x"},
    )

    assert theirs.status_code == 404
    assert theirs.json() == {"code": "not_found", "message": f"订单 {order.pk} 不存在", "field": "id"}
    assert missing.json() == {"code": "not_found", "message": "订单 424242 不存在", "field": "id"}
    assert_unchanged(order)

    own = move(api_client(staff[Role.SALES]), order, "cancelled", 1, reason="客户取消")

    assert own.status_code == 200
    assert own.json()["status"] == {"code": "cancelled", "label": "已取消"}
    assert own.json()["allowed_transitions"] == []


def test_the_whole_forward_path_through_the_api(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order()
    steps = [
        (Role.CUSTOMER_SERVICE, "split"),
        (Role.WAREHOUSE, "allocating"),
        (Role.WAREHOUSE, "label_printed"),
        (Role.WAREHOUSE, "shipped"),
        (Role.LOGISTICS, "completed"),
    ]
    version = 1
    for role, to in steps:
        response = move(api_client(staff[role]), order, to, version)
        assert response.status_code == 200, response.json()
        version = response.json()["version"]

    assert version == 6
    assert Order.objects.get(pk=order.pk).status == "completed"


def test_a_bulk_move_answers_for_each_order(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    fine, stale, held = make_order(), make_order(), make_order()
    order_hold(order_id=held.pk, reason=HoldReason.DUPLICATE, actor=staff[Role.CUSTOMER_SERVICE])
    body = {
        "to": "split",
        "orders": [
            {"id": fine.pk, "expected_version": 1},
            {"id": stale.pk, "expected_version": 7},
            {"id": held.pk, "expected_version": 2},
            {"id": 999999999, "expected_version": 1},
        ],
    }

    response = post_json(api_client(staff[Role.CUSTOMER_SERVICE]), "/api/orders/transitions", body)

    assert response.status_code == 200
    result = response.json()
    assert result["moved"] == [{"id": fine.pk, "order_no": fine.order_no, "status": "split", "version": 2}]
    refused = {r["id"]: r["error"] for r in result["refused"]}
    assert refused[stale.pk]["code"] == "version_conflict"
    assert refused[held.pk]["code"] == "guard_failed" and "疑似重复" in refused[held.pk]["message"]
    assert refused[999999999]["code"] == "not_found"
    assert_unchanged(stale)
    assert Order.objects.get(pk=held.pk).status == "pending_review"


def test_a_bulk_move_refuses_more_than_200_orders_before_touching_any(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order()
    body = {"to": "split", "orders": [{"id": order.pk + i, "expected_version": 1} for i in range(201)]}

    response = post_json(api_client(staff[Role.CUSTOMER_SERVICE]), "/api/orders/transitions", body)

    assert response.status_code == 422
    assert_unchanged(order)
