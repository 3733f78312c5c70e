"""One-box search: each key reaches the right order's timeline; lists, empty states, scope and
staff inquiries (lookups on behalf of a customer)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.orders.models import Order
from orderhub.web.models import StaffInquiry
from orderhub.web.services import staff_inquiry_record
from tests.web.conftest import page_text
from tests.web.floor import Floor, build_floor

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(staff: dict[str, User], make_order: Callable[..., Order]) -> Floor:
    return build_floor(staff, make_order)


def keys(floor: Floor) -> list[tuple[str, str, Order]]:
    star = floor.star
    return [
        ("order_no", star.order_no, star),
        ("order_no lower case", star.order_no.lower(), star),
        ("channel order no", "TB-88001", star),
        ("phone", "139 5711 2345", star),
        ("waybill (fulfilment)", floor.waybill_no, floor.orders["printed"]),
        ("tracking number", floor.tracking_no, star),
    ]


def test_each_key_reaches_the_orders_timeline(client_for: Callable[[str], Client], floor: Floor) -> None:
    cs = client_for(Role.CUSTOMER_SERVICE)
    for label, query, order in keys(floor):
        response = cs.get("/search/", {"q": query})
        text = page_text(response)
        assert response.status_code == 200, label
        assert f"{order.order_no}" in text, label
        assert 'id="timeline"' in response.content.decode(), label
        assert "找到此订单" in text, label


def test_timeline_tells_the_whole_story(client_for: Callable[[str], Client], floor: Floor) -> None:
    text = page_text(client_for(Role.CUSTOMER_SERVICE).get("/search/", {"q": floor.star.order_no}))

    assert "按订单号" in text
    assert "审核通过 待审核 → 已拆单" in text  # every transition …
    assert "manager1" in text and "warehouse1" in text  # … with its operator
    assert "拦截" in text and "解除拦截" in text and "已电话核实地址" in text  # holds and resolution
    assert "已解除的拦截" in text and "地址不完整" in text
    assert "快件已到达【杭州转运中心】" in text and "YT5500667788" in text  # tracking events
    assert "承诺送达时间" in text
    assert "发给" in text  # notifications sent


def test_a_phone_shared_by_several_orders_gives_a_short_list(
    client_for: Callable[[str], Client], floor: Floor
) -> None:
    response = client_for(Role.CUSTOMER_SERVICE).get("/search/", {"q": "13812345678"})
    text = page_text(response)

    assert "个订单，点开查看时间线" in text
    # The receiver's phone, or the phone of the customer (dealer) the orders belong to.
    assert floor.orders["pending"].order_no in text and floor.star.order_no in text
    assert 'id="timeline"' not in response.content.decode()


def test_nothing_found_says_what_can_be_searched(client_for: Callable[[str], Client], floor: Floor) -> None:
    text = page_text(client_for(Role.CUSTOMER_SERVICE).get("/search/", {"q": "NO-SUCH-1"}))
    empty = page_text(client_for(Role.CUSTOMER_SERVICE).get("/search/"))

    assert "没有找到与「NO-SUCH-1」匹配的订单" in text
    assert "订单号" in text and "运单号" in text and "收货手机号" in text
    assert "按 / 键" in empty


def test_sales_find_only_their_own_orders(client_for: Callable[[str], Client], floor: Floor) -> None:
    sales1 = client_for(Role.SALES)

    others = page_text(sales1.get("/search/", {"q": "PDD-240001"}))  # owned by sales2
    own = page_text(sales1.get("/search/", {"q": floor.star.order_no}))

    assert "没有找到" in others
    assert "时间线" in own


def test_customer_service_lookups_count_as_inquiries(
    client_for: Callable[[str], Client], floor: Floor, staff: dict[str, User]
) -> None:
    cs = client_for(Role.CUSTOMER_SERVICE)

    cs.get("/search/", {"q": "TB-88001"})
    cs.get("/search/", {"q": floor.waybill_no, "for_customer": "0"})  # an internal look: not counted
    client_for(Role.WAREHOUSE).get("/search/", {"q": floor.tracking_no})  # warehouse: off by default

    rows = list(StaffInquiry.objects.all())
    assert [(r.user, r.order_id, r.query, r.matched_by) for r in rows] == [
        (staff[Role.CUSTOMER_SERVICE], floor.star.pk, "TB-88001", "channel_order_no")
    ]


def test_opening_an_order_from_a_result_list_counts_once(
    client_for: Callable[[str], Client], floor: Floor
) -> None:
    cs = client_for(Role.CUSTOMER_SERVICE)
    order = floor.orders["pending"]

    listing = cs.get("/search/", {"q": "13812345678"})
    link = f"/orders/{order.pk}/?q=13812345678&amp;by=phone&amp;for_customer=1"
    assert link in listing.content.decode()
    assert StaffInquiry.objects.count() == 0
    detail = cs.get(link.replace("&amp;", "&"))

    assert "时间线" in page_text(detail)
    assert StaffInquiry.objects.get().order_id == order.pk


def test_staff_inquiry_record_is_a_service(floor: Floor, staff: dict[str, User]) -> None:
    row = staff_inquiry_record(
        actor=staff[Role.CUSTOMER_SERVICE], order=floor.star, query="x" * 100, matched_by="phone"
    )

    assert row.pk and len(row.query) == 64 and row.at is not None


def test_search_to_timeline_query_count_is_fixed(
    client_for: Callable[[str], Client], floor: Floor, make_order: Callable[..., Order]
) -> None:
    cs = client_for(Role.CUSTOMER_SERVICE)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert cs.get("/search/", {"q": floor.star.order_no}).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for _ in range(10):
        make_order()
    assert queries() == few
    assert few <= SEARCH_QUERY_BUDGET


SEARCH_QUERY_BUDGET = 30


def test_the_search_box_is_on_every_page_with_its_shortcut(client_for: Callable[[str], Client]) -> None:
    html = client_for(Role.SALES).get("/orders/").content.decode()

    assert 'role="search"' in html and 'aria-keyshortcuts="/"' in html
