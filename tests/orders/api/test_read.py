"""GET /api/orders, /api/orders/{id} and /api/orders/{id}/timeline: what each role sees."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.notify.services import transition_notice_deliver
from orderhub.orders.models import HoldReason, OperationLog, Order
from orderhub.orders.services import order_hold, order_hold_release, order_transition

SHANGHAI = ZoneInfo("Asia/Shanghai")
ApiClient = Callable[[User], Client]
MakeOrder = Callable[..., Order]


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2024, 12, day, hour, 0, tzinfo=SHANGHAI)


def cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["items"]]


# --- one order -----------------------------------------------------------------------------------


def test_order_card_shows_lines_status_version_holds_owner_and_channel(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order(channel_code="pdd", channel_order_no="240612-118822")
    order_hold(
        order_id=order.pk, reason=HoldReason.MANUAL, actor=staff[Role.CUSTOMER_SERVICE], detail="客户要求暂缓"
    )

    response = api_client(staff[Role.CUSTOMER_SERVICE]).get(f"/api/orders/{order.pk}")

    assert response.status_code == 200
    card = response.json()
    assert card["id"] == order.pk
    assert card["order_no"] == order.order_no
    assert card["channel"] == {"code": "pdd", "name": "拼多多"}
    assert card["channel_order_no"] == "240612-118822"
    assert card["status"] == {"code": "pending_review", "label": "待审核"}
    assert card["version"] == 2  # the hold moved the version on
    assert card["owner"] == {"username": "sales1", "display_name": "sales1"}
    assert card["lines"] == [
        {
            "line_no": 1,
            "sku_code": "BP-2231",
            "name": "陶瓷刹车片 前轮",
            "quantity": 20,
            "unit_price": "88.00",
        }
    ]
    assert [(h["reason"], h["label"], h["detail"]) for h in card["holds"]] == [
        ("manual", "人工拦截", "客户要求暂缓")
    ]
    assert card["address_detail"] == "东环大道88号"
    # Held: approving is not offered until the hold is released.
    assert card["allowed_transitions"] == [
        {
            "to": "cancelled",
            "to_label": "已取消",
            "name": "cancel",
            "label": "取消订单",
            "requires_reason": True,
        }
    ]


def test_resolved_holds_are_not_shown_and_approval_becomes_available(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    cs = staff[Role.CUSTOMER_SERVICE]
    order = make_order()
    hold = order_hold(order_id=order.pk, reason=HoldReason.MANUAL, actor=cs, detail="核对地址")
    order_hold_release(order_id=order.pk, hold_id=hold.pk, actor=cs, resolution="已电话确认")

    card = api_client(cs).get(f"/api/orders/{order.pk}").json()

    assert card["holds"] == []
    assert [t["name"] for t in card["allowed_transitions"]] == ["approve", "cancel"]


@pytest.mark.parametrize(
    ("role", "moves"),
    [
        (Role.CUSTOMER_SERVICE, ["split", "cancelled"]),
        (Role.MANAGER, ["split", "cancelled"]),
        (Role.SALES, ["cancelled"]),  # sales1 owns the order
        (Role.WAREHOUSE, []),
        (Role.FINANCE, []),
    ],
)
def test_allowed_transitions_depend_on_the_callers_role(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder, role: str, moves: list[str]
) -> None:
    order = make_order()

    card = api_client(staff[role]).get(f"/api/orders/{order.pk}").json()

    assert [t["to"] for t in card["allowed_transitions"]] == moves


def test_another_salespersons_order_looks_exactly_like_a_missing_one(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    order = make_order()  # owned by sales1
    sales2 = api_client(staff["sales2"])

    theirs = sales2.get(f"/api/orders/{order.pk}")
    missing = sales2.get("/api/orders/987654")

    assert theirs.status_code == 404
    assert theirs.json() == {"code": "not_found", "message": f"订单 {order.pk} 不存在", "field": "id"}
    assert missing.status_code == 404
    assert missing.json() == {"code": "not_found", "message": "订单 987654 不存在", "field": "id"}
    assert sales2.get(f"/api/orders/{order.pk}/timeline").status_code == 404
    assert api_client(staff[Role.SALES]).get(f"/api/orders/{order.pk}").status_code == 200


def test_a_malformed_id_is_422_and_an_unknown_api_path_is_a_json_404(
    api_client: ApiClient, staff: dict[str, User]
) -> None:
    client = api_client(staff[Role.MANAGER])

    malformed = client.get("/api/orders/OH2412120001")
    unknown = client.get("/api/order-cards/1")

    assert malformed.status_code == 422
    assert malformed.json()["code"] == "validation_error"
    assert malformed.json()["field"] == "id"
    assert unknown.status_code == 404
    assert unknown.json() == {"code": "not_found", "message": "没有这个 API 地址", "field": None}


# --- the list ------------------------------------------------------------------------------------


@pytest.fixture
def four_orders(staff: dict[str, User], make_order: MakeOrder) -> dict[str, Order]:
    """Four orders over four days, two channels, four tiers, two salespeople, three states."""
    cs = staff[Role.CUSTOMER_SERVICE]
    o1 = make_order(ordered_at=at(10), customer_tier="a")
    o2 = make_order(channel_code="pdd", ordered_at=at(11), customer_tier="vip", owner_username="sales2")
    o3 = make_order(ordered_at=at(12), customer_tier="b")
    o4 = make_order(channel_code="pdd", ordered_at=at(13), customer_tier="c", owner_username="sales2")
    order_transition(order_id=o3.pk, to="split", actor=cs, expected_version=1)
    order_transition(order_id=o4.pk, to="cancelled", actor=cs, expected_version=1, reason="客户取消")
    return {"o1": o1, "o2": o2, "o3": o3, "o4": o4}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["o4", "o3", "o2", "o1"]),
        ({"status": "pending_review"}, ["o2", "o1"]),
        ({"status": ["split", "cancelled"]}, ["o4", "o3"]),
        ({"channel": "pdd"}, ["o4", "o2"]),
        ({"channel": ["pdd", "manual"]}, ["o4", "o3", "o2", "o1"]),
        ({"customer_tier": ["vip", "b"]}, ["o3", "o2"]),
        ({"owner": "sales2"}, ["o4", "o2"]),
        ({"owner": "me"}, []),
        (
            {"ordered_from": "2024-12-11T00:00:00+08:00", "ordered_to": "2024-12-13T00:00:00+08:00"},
            ["o3", "o2"],
        ),
        ({"ordered_from": "2024-12-12T10:00:00+08:00"}, ["o4", "o3"]),  # from is inclusive
        ({"ordered_to": "2024-12-12T10:00:00+08:00"}, ["o2", "o1"]),  # to is exclusive
        ({"channel": "manual", "status": "pending_review"}, ["o1"]),
    ],
)
def test_list_filters(
    api_client: ApiClient,
    staff: dict[str, User],
    four_orders: dict[str, Order],
    query: dict[str, Any],
    expected: list[str],
) -> None:
    response = api_client(staff[Role.MANAGER]).get("/api/orders", query)

    assert ids(response) == [four_orders[name].pk for name in expected]


def test_list_items_carry_status_label_lines_and_holds(
    api_client: ApiClient, staff: dict[str, User], four_orders: dict[str, Order]
) -> None:
    items = api_client(staff[Role.MANAGER]).get("/api/orders", {"status": "split"}).json()["items"]

    assert len(items) == 1
    assert items[0]["status"] == {"code": "split", "label": "已拆单"}
    assert items[0]["customer_tier"] == "b"
    assert items[0]["lines"][0]["sku_code"] == "BP-2231"
    assert items[0]["holds"] == []


def test_sales_list_only_their_own_orders(
    api_client: ApiClient, staff: dict[str, User], four_orders: dict[str, Order]
) -> None:
    sales2 = api_client(staff["sales2"])

    assert ids(sales2.get("/api/orders")) == [four_orders["o4"].pk, four_orders["o2"].pk]
    assert ids(sales2.get("/api/orders", {"owner": "me"})) == [four_orders["o4"].pk, four_orders["o2"].pk]
    # Asking for a colleague's orders does not widen the scope.
    assert ids(sales2.get("/api/orders", {"owner": "sales1"})) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "status.0"),
        ({"customer_tier": "gold"}, "customer_tier.0"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"ordered_from": "yesterday"}, "ordered_from"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": cursor_of("9999-12-31T23:59:59-12:00|5")}, "cursor"),  # beyond the calendar in UTC
        ({"cursor": cursor_of("2024-12-12T10:00:00+08:00|99999999999999999999")}, "cursor"),
        ({"cursor": cursor_of("2024-12-12T10:00:00|5")}, "cursor"),  # we only issue aware times
    ],
)
def test_bad_list_parameters_are_422_naming_the_parameter(
    api_client: ApiClient, staff: dict[str, User], query: dict[str, str], field: str
) -> None:
    response = api_client(staff[Role.MANAGER]).get("/api/orders", query)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["field"] == field


def test_keyset_pages_cover_every_order_once_even_with_equal_times_and_new_arrivals(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    # 23 orders; every three share one ordered_at, so the id must break ties.
    for i in range(23):
        make_order(ordered_at=at(1) + timedelta(hours=i // 3))
    expected = list(Order.objects.order_by("-ordered_at", "-pk").values_list("pk", flat=True))
    client = api_client(staff[Role.MANAGER])

    seen: list[int] = []
    pages = 0
    params: dict[str, Any] = {"limit": 5}
    while True:
        body = client.get("/api/orders", params).json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        if pages == 1:
            # An order arriving while the client pages must not shift later pages.
            make_order(ordered_at=at(20))
        if body["next_cursor"] is None:
            break
        params = {"limit": 5, "cursor": body["next_cursor"]}

    assert pages == 5
    assert seen == expected
    assert len(set(seen)) == 23


def test_keyset_pages_respect_filters(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    for i in range(7):
        make_order(ordered_at=at(2, 8 + i), channel_code="pdd" if i % 2 else "manual")
    expected = list(
        Order.objects.filter(channel__code="manual").order_by("-ordered_at").values_list("pk", flat=True)
    )
    client = api_client(staff[Role.MANAGER])

    first = client.get("/api/orders", {"channel": "manual", "limit": 3}).json()
    second = client.get(
        "/api/orders", {"channel": "manual", "limit": 3, "cursor": first["next_cursor"]}
    ).json()

    assert [o["id"] for o in first["items"]] + [o["id"] for o in second["items"]] == expected
    assert second["next_cursor"] is None


def test_list_query_count_does_not_grow_with_the_page(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    client = api_client(staff[Role.MANAGER])
    client.get("/api/orders")  # the first call also stamps the token's last use
    make_order()

    with CaptureQueriesContext(connection) as small:
        assert client.get("/api/orders").status_code == 200
    for _ in range(12):
        make_order()
    with CaptureQueriesContext(connection) as large:
        assert len(client.get("/api/orders").json()["items"]) == 13

    # token, the caller's roles, the orders, their lines, their open holds
    assert len(small.captured_queries) == 5
    assert len(large.captured_queries) == 5


# --- timeline ------------------------------------------------------------------------------------


def test_timeline_tells_the_orders_story_oldest_first(
    api_client: ApiClient, staff: dict[str, User], make_order: MakeOrder
) -> None:
    cs = staff[Role.CUSTOMER_SERVICE]
    order = make_order()
    hold = order_hold(order_id=order.pk, reason=HoldReason.MANUAL, actor=cs, detail="核对地址")
    order_hold_release(order_id=order.pk, hold_id=hold.pk, actor=cs, resolution="已电话确认")
    order_transition(order_id=order.pk, to="split", actor=cs, expected_version=3)
    order_transition(
        order_id=order.pk,
        to="pending_review",
        actor=staff[Role.WAREHOUSE],
        expected_version=4,
        reason="型号待确认",
    )
    # The worker delivers the notice owed for the approval (站内消息 to the warehouse).
    approval = OperationLog.objects.get(order=order, transition="approve")
    transition_notice_deliver(approval.pk)

    response = api_client(staff[Role.SALES]).get(f"/api/orders/{order.pk}/timeline")

    assert response.status_code == 200
    timeline = response.json()
    assert timeline["order_id"] == order.pk
    assert timeline["order_no"] == order.order_no
    assert timeline["status"] == {"code": "pending_review", "label": "待审核"}
    story = [(e["kind"], e["title"], e["actor"]) for e in timeline["events"]]
    assert story[:5] == [
        ("create", "创建", "customer_service1"),
        ("hold", "拦截", "customer_service1"),
        ("release", "解除拦截", "customer_service1"),
        ("transition", "审核通过", "customer_service1"),
        ("transition", "驳回重审", "warehouse1"),
    ]
    rejection = timeline["events"][4]
    assert rejection["from_status"] == {"code": "split", "label": "已拆单"}
    assert rejection["to_status"] == {"code": "pending_review", "label": "待审核"}
    assert rejection["reason"] == "型号待确认"
    notices = [e for e in timeline["events"] if e["kind"] == "notification"]
    assert [n["title"] for n in notices] == [f"订单 {order.order_no} 已进入「已拆单」"]
    assert notices[0]["automatic"] is True
    assert notices[0]["details"]["recipient"] == "warehouse1"
    times = [e["at"] for e in timeline["events"]]
    assert times == sorted(times)
