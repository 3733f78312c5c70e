"""The customer lookup on a 375 px phone, and the dashboard's charts drawn by Chart.js."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orderhub.orders.models import Order
from tests.browser.conftest import PHONE, no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_finds_an_order_on_a_phone(
    browser: Any, live_server: Any, make_order: Callable[..., Order]
) -> None:
    order = make_order()
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server.url}/track")
        no_horizontal_scroll(page)
        page.fill("input[name=order_no]", order.order_no)
        page.fill("input[name=last4]", "5678")
        page.click("text=查询 >> nth=-1")
        page.wait_for_url(f"{live_server.url}/track/orders")
        text = page.inner_text("body")
        assert order.order_no in text and "138****5678" in text and "东环大道" not in text
        no_horizontal_scroll(page)
    finally:
        context.close()


def test_dashboard_draws_its_charts(open_as: Callable[..., Any], live_server: Any, staff: Any) -> None:
    page = open_as("manager1")
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-ship') !== undefined")
    assert page.evaluate("Chart.getChart('chart-volume').data.datasets.length") == 2
    phone = open_as("manager1", PHONE)
    phone.goto(f"{live_server.url}/dashboard/")
    no_horizontal_scroll(phone)
