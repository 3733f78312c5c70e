"""One order's card: its fields, holds, timeline, and exactly the moves the user may make."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.orders.models import OperationLog, Order
from orderhub.orders.services import order_transition
from tests.web.conftest import page_text, transition_buttons

pytestmark = pytest.mark.django_db


def url(order: Order) -> str:
    return f"/orders/{order.pk}/"


def post_transition(client: Client, order: Order, **data: Any) -> Any:
    return client.post(f"/orders/{order.pk}/transition/", data, follow=True)


def test_detail_shows_the_anchor_fields_and_a_masked_phone(
    cs_client: Client, make_order: Callable[..., Order]
) -> None:
    order = make_order(remark="请周五前送到")

    response = cs_client.get(url(order))
    text = page_text(response)

    assert response.status_code == 200
    for shown in (
        order.order_no,
        "手工",
        "A类",
        "BP-2231",
        "陶瓷刹车片 前轮",
        "待审核",
        "customer_service1",
        "椒江恒通汽配",
        "王师傅",
        "浙江省台州市椒江区 东环大道88号",
        "¥1760.00",
        "请周五前送到",
        "sales1",
    ):
        assert shown in text, shown
    assert "138****5678" in text
    assert "13812345678" not in response.content.decode()
    assert "创建" in text  # the timeline's first entry


def test_sales_cannot_open_another_salespersons_order(
    client_for: Callable[[str], Client], make_order: Callable[..., Order]
) -> None:
    order = make_order()  # owned by sales1

    assert client_for(Role.SALES).get(url(order)).status_code == 200
    assert client_for("sales2").get(url(order)).status_code == 404
    assert client_for(Role.SALES).get("/orders/999999/").status_code == 404


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.CUSTOMER_SERVICE, {"approve", "cancel"}),
        (Role.SALES, {"cancel"}),
        (Role.MANAGER, {"approve", "cancel"}),
        (Role.WAREHOUSE, set()),
        (Role.LOGISTICS, set()),
        (Role.FINANCE, set()),
    ],
)
def test_pending_order_offers_exactly_the_allowed_buttons(
    role: str,
    expected: set[str],
    client_for: Callable[[str], Client],
    make_order: Callable[..., Order],
) -> None:
    order = make_order()

    response = client_for(role).get(url(order))

    assert transition_buttons(response) == expected
    text = page_text(response)
    assert ("审核通过" in text) == ("approve" in expected)
    if not expected:
        assert "当前没有您可以执行的操作" in text


def test_held_order_shows_its_reasons_and_no_approve_button(
    cs_client: Client, make_order: Callable[..., Order]
) -> None:
    order = make_order(address_detail="")

    response = cs_client.get(url(order))

    assert transition_buttons(response) == {"cancel"}
    text = page_text(response)
    assert "拦截原因" in text
    assert "地址不完整" in text


def test_reason_field_appears_only_for_moves_that_need_one(
    client_for: Callable[[str], Client], make_order: Callable[..., Order], staff: dict[str, User]
) -> None:
    order = make_order()
    order_transition(order_id=order.pk, to="split", actor=staff[Role.CUSTOMER_SERVICE])

    html = client_for(Role.WAREHOUSE).get(url(order)).content.decode()

    allocate = html.split('data-transition="allocate"')[0].rsplit("<form", 1)[1]
    reject = html.split('data-transition="reject_split"')[0].rsplit("<form", 1)[1]
    assert 'name="reason"' not in allocate
    assert 'name="reason" required' in reject


def test_approving_moves_the_order_and_writes_the_timeline(
    cs_client: Client, make_order: Callable[..., Order]
) -> None:
    order = make_order()

    response = post_transition(cs_client, order, to="split", expected_version=order.version)

    order.refresh_from_db()
    assert order.status == "split"
    assert order.version == 2
    entry = OperationLog.objects.filter(order=order).latest("seq")
    assert (entry.transition, entry.actor_name) == ("approve", "customer_service1")
    assert response.redirect_chain == [(url(order), 302)]
    text = page_text(response)
    assert f"订单 {order.order_no} 已变为「已拆单」" in text
    assert "审核通过 待审核 → 已拆单" in text  # the new timeline entry
    assert transition_buttons(response) == {"allocate", "reject_split", "cancel"}


def test_stale_version_shows_the_conflict_and_changes_nothing(
    cs_client: Client, make_order: Callable[..., Order], staff: dict[str, User]
) -> None:
    order = make_order()
    seen_version = order.version
    # Someone else cancels the order while this clerk still has the old page open.
    order_transition(order_id=order.pk, to="cancelled", actor=staff[Role.SALES], reason="客户不要了")
    entries = OperationLog.objects.filter(order=order).count()

    response = post_transition(cs_client, order, to="split", expected_version=seen_version)

    assert "已被他人修改" in page_text(response)
    assert "请刷新后重试" in page_text(response)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.version == seen_version + 1
    assert OperationLog.objects.filter(order=order).count() == entries


def test_backward_move_without_a_reason_is_refused(
    client_for: Callable[[str], Client], make_order: Callable[..., Order], staff: dict[str, User]
) -> None:
    order = make_order()
    order = order_transition(order_id=order.pk, to="split", actor=staff[Role.CUSTOMER_SERVICE])
    warehouse = client_for(Role.WAREHOUSE)

    refused = post_transition(
        warehouse, order, to="pending_review", expected_version=order.version, reason="  "
    )

    assert "「驳回重审」需要填写原因" in page_text(refused)
    order.refresh_from_db()
    assert order.status == "split"

    done = post_transition(
        warehouse, order, to="pending_review", expected_version=order.version, reason="缺货，等补货"
    )

    order.refresh_from_db()
    assert order.status == "pending_review"
    assert "原因：缺货，等补货" in page_text(done)


def test_role_without_the_right_is_told_so(
    client_for: Callable[[str], Client], make_order: Callable[..., Order]
) -> None:
    order = make_order()

    response = post_transition(client_for(Role.WAREHOUSE), order, to="split", expected_version=order.version)

    assert "您的角色不能执行「审核通过」" in page_text(response)
    order.refresh_from_db()
    assert order.status == "pending_review"


def test_missing_version_is_refused_as_a_stale_page(
    cs_client: Client, make_order: Callable[..., Order]
) -> None:
    order = make_order()

    response = post_transition(cs_client, order, to="split")

    assert "页面已过期，请刷新后重试" in page_text(response)
    order.refresh_from_db()
    assert order.status == "pending_review"


def test_sales_cannot_move_another_salespersons_order(
    client_for: Callable[[str], Client], make_order: Callable[..., Order]
) -> None:
    order = make_order()

    response = client_for("sales2").post(
        f"/orders/{order.pk}/transition/",
        {"to": "cancelled", "expected_version": order.version, "reason": "试试"},
    )

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == "pending_review"


def test_transition_needs_post(cs_client: Client, make_order: Callable[..., Order]) -> None:
    order = make_order()

    assert cs_client.get(f"/orders/{order.pk}/transition/").status_code == 405


def test_detail_page_has_a_bounded_query_count(
    cs_client: Client, make_order: Callable[..., Order], django_assert_max_num_queries: Any
) -> None:
    order = make_order()

    # session, user, groups, order, holds, lines, unread count, plus one query per timeline
    # source (log, inbox, review runs, ...; tracking takes two index lookups: the parts' ids, then
    # the parcels' events): the budget leaves room for a few more sources.
    with django_assert_max_num_queries(15):
        cs_client.get(url(order))
