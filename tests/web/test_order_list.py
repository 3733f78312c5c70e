"""The order list: what each role sees, the filters, keyset pages and the query budget."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.catalog.models import CustomerTier
from orderhub.orders.models import Order
from orderhub.orders.services import LineDraft, order_transition
from tests.web.conftest import page_text

pytestmark = pytest.mark.django_db

# 2024-11-11 02:30 UTC is 10:30 in Asia/Shanghai.
DOUBLE_ELEVEN = datetime(2024, 11, 11, 2, 30, tzinfo=UTC)


def order_numbers(response: Any) -> list[str]:
    return re.findall(r'class="order-no"[^>]*>([^<]+)<', response.content.decode())


def test_list_shows_the_columns_a_clerk_needs(cs_client: Client, make_order: Callable[..., Order]) -> None:
    order = make_order(
        ordered_at=DOUBLE_ELEVEN,
        lines=[LineDraft("BP-2231", 20), LineDraft("OF-1102", 5), LineDraft("HL-8810", 2)],
    )

    text = page_text(cs_client.get("/orders/"))

    assert order.order_no in text
    assert "手工" in text  # channel
    assert "椒江恒通汽配 A类" in text  # customer and tier
    assert "陶瓷刹车片 前轮 ×20 等 3 项" in text  # items summary
    assert "待审核" in text  # status in Chinese
    assert "2024-11-11 10:30" in text  # ordered at, in Asia/Shanghai
    assert "sales1" in text  # owner
    assert "拦截" not in text


def test_held_order_is_marked(cs_client: Client, make_order: Callable[..., Order]) -> None:
    make_order(address_detail="")  # incomplete address → hold

    response = cs_client.get("/orders/")

    assert "拦截" in page_text(response)
    assert 'title="地址不完整"' in response.content.decode()


def test_filters_by_status_channel_tier_and_date(
    cs_client: Client, make_order: Callable[..., Order], staff: dict[str, User]
) -> None:
    pending = make_order(ordered_at=DOUBLE_ELEVEN)
    approved = make_order(ordered_at=DOUBLE_ELEVEN - timedelta(days=3))
    order_transition(order_id=approved.pk, to="split", actor=staff[Role.CUSTOMER_SERVICE])
    from_pdd = make_order(channel_code="pdd", ordered_at=DOUBLE_ELEVEN - timedelta(days=1))
    vip = make_order(customer_tier=CustomerTier.VIP, ordered_at=DOUBLE_ELEVEN - timedelta(days=2))

    def listed(**params: str) -> set[str]:
        return set(order_numbers(cs_client.get("/orders/", params)))

    assert listed(status="split") == {approved.order_no}
    assert listed(channel="pdd") == {from_pdd.order_no}
    assert listed(tier="vip") == {vip.order_no}
    assert listed(date_from="2024-11-10", date_to="2024-11-11") == {pending.order_no, from_pdd.order_no}
    assert listed(date_to="2024-11-08") == {approved.order_no}
    assert listed(status="pending_review", channel="manual") == {pending.order_no, vip.order_no}


def test_reversed_date_range_is_explained(cs_client: Client) -> None:
    response = cs_client.get("/orders/", {"date_from": "2024-11-11", "date_to": "2024-11-01"})

    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in page_text(response)


def test_only_mine_shows_the_orders_the_user_owns(
    client_for: Callable[[str], Client], make_order: Callable[..., Order]
) -> None:
    mine = make_order(owner_username="manager1")
    others = make_order()  # owned by sales1 through the customer
    client = client_for(Role.MANAGER)

    assert set(order_numbers(client.get("/orders/"))) == {mine.order_no, others.order_no}
    assert order_numbers(client.get("/orders/", {"mine": "on"})) == [mine.order_no]


def test_sales_see_only_their_own_orders(
    client_for: Callable[[str], Client], make_order: Callable[..., Order]
) -> None:
    own = make_order()  # the customer's salesperson is sales1
    other = make_order(owner_username="sales2")

    sales1 = client_for(Role.SALES).get("/orders/")
    sales2 = client_for("sales2").get("/orders/")

    assert order_numbers(sales1) == [own.order_no]
    assert order_numbers(sales2) == [other.order_no]
    assert "只看我的" not in page_text(sales1)  # they never see anything else anyway


def test_keyset_pages_follow_the_next_link(cs_client: Client, make_order: Callable[..., Order]) -> None:
    orders = [make_order(ordered_at=DOUBLE_ELEVEN - timedelta(minutes=i)) for i in range(55)]

    first = cs_client.get("/orders/", {"channel": "manual"})
    next_link = re.search(r'href="([^"]+)" rel="next"', first.content.decode())

    assert order_numbers(first) == [o.order_no for o in orders[:50]]
    assert "下一页" in page_text(first)
    assert next_link is not None
    url = next_link.group(1).replace("&amp;", "&")
    assert "channel=manual" in url  # filters survive paging
    second = cs_client.get(url)
    assert order_numbers(second) == [o.order_no for o in orders[50:]]
    assert "下一页" not in page_text(second)
    assert "第一页" in page_text(second)


def test_damaged_cursor_is_reported_and_the_first_page_shown(
    cs_client: Client, make_order: Callable[..., Order]
) -> None:
    order = make_order()

    response = cs_client.get("/orders/", {"cursor": "not-a-cursor"})

    assert response.status_code == 200
    assert "分页游标无效" in page_text(response)
    assert order_numbers(response) == [order.order_no]


def test_list_of_fifty_orders_has_a_fixed_query_budget(
    cs_client: Client,
    make_order: Callable[..., Order],
    django_assert_max_num_queries: Any,
) -> None:
    for i in range(50):
        make_order(
            ordered_at=DOUBLE_ELEVEN - timedelta(minutes=i),
            lines=[LineDraft("BP-2231", 2), LineDraft("OF-1102", 1)],
            address_detail="" if i % 5 == 0 else "东环大道88号",
        )

    # session, user, groups, channels (filter), orders, lines, open holds, unread count: 8,
    # however many orders the page shows.
    with django_assert_max_num_queries(8):
        response = cs_client.get("/orders/")

    assert len(order_numbers(response)) == 50
