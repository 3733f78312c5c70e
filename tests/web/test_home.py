"""Each role's landing page (我的工作台) shows what that person should look at first."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.orders.models import Order
from orderhub.web.models import UserWarehouse
from tests.web.conftest import page_text
from tests.web.floor import Floor, build_floor

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(staff: dict[str, User], make_order: Callable[..., Order]) -> Floor:
    return build_floor(staff, make_order)


def test_customer_service_lands_on_holds_and_exceptions(
    client_for: Callable[[str], Client], floor: Floor
) -> None:
    text = page_text(client_for(Role.CUSTOMER_SERVICE).get("/"))

    assert "客服视图：拦截与异常优先" in text
    assert text.index("待处理拦截") < text.index(floor.orders["held"].order_no) < text.index("物流异常")
    assert floor.orders["exception"].order_no in text
    assert floor.orders["pending"].order_no not in text  # not held: it is on the board, not here


def test_sales_land_on_their_open_orders_by_promised_time(
    client_for: Callable[[str], Client], floor: Floor
) -> None:
    text = page_text(client_for(Role.SALES).get("/"))

    assert "我的在途订单（按承诺送达时间）" in text
    # Promised soonest first (the star is promised tomorrow, "pending" the day after).
    assert text.index(floor.star.order_no) < text.index(floor.orders["pending"].order_no)
    assert floor.orders["pending_pdd"].order_no not in text  # sales2's
    assert floor.orders["completed"].order_no not in text


def test_warehouse_lands_on_its_own_queue(
    client_for: Callable[[str], Client], floor: Floor, staff: dict[str, User]
) -> None:
    text = page_text(client_for(Role.WAREHOUSE).get("/"))

    assert "本仓待处理" in text
    assert floor.orders["alloc_hz"].order_no in text and floor.orders["printed"].order_no in text
    assert floor.orders["alloc_nb"].order_no not in text  # 宁波仓
    UserWarehouse.objects.filter(user=staff[Role.WAREHOUSE]).delete()
    assert "您的账号还没有关联仓库" in page_text(client_for(Role.WAREHOUSE).get("/"))


def test_manager_lands_on_counts_and_overdue_per_state(
    client_for: Callable[[str], Client], floor: Floor
) -> None:
    response = client_for(Role.MANAGER).get("/")
    text = page_text(response)

    assert "主管视图：全部订单" in text
    assert "各状态订单" in text and "超时" in text
    pending = Order.objects.filter(status="pending_review").count()
    assert f"待审核 {pending} 0" in text
    assert 'href="/board/?f=1&amp;status=exception"' in response.content.decode()


def test_logistics_land_on_exceptions_and_parcels_in_transit(
    client_for: Callable[[str], Client], floor: Floor
) -> None:
    text = page_text(client_for(Role.LOGISTICS).get("/"))

    assert "物流异常" in text and "在途最久" in text
    assert floor.orders["exception"].order_no in text and floor.orders["shipped"].order_no in text
