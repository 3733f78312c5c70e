"""The packing station on a 375 px phone in a real headless Chromium: wrong item shown loudly."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from orderhub.accounts.roles import Role
from orderhub.catalog.models import Sku
from orderhub.fulfilment.waybills import waybills_issue
from orderhub.orders.services import LineDraft
from orderhub.orders.states import OrderStatus

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
PHONE = {"width": 375, "height": 812}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser, live_server, staff):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", staff[Role.WAREHOUSE].username)
    page.fill("input[name=password]", "Correct-Horse-42")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    yield page, live_server.url
    context.close()


def test_pack_on_a_phone(phone, allocated, carrier_table) -> None:
    page, base = phone
    Sku.objects.filter(code="BP-2231").update(barcode="6901234500011")
    Sku.objects.filter(code="OF-1102").update(barcode="6901234500028")
    order = allocated(lines=[LineDraft("BP-2231", 1, Decimal("88"))])
    [out] = waybills_issue(order_ids=[order.pk])

    page.goto(f"{base}/packing/")
    page.fill("#waybill", out.number)
    page.press("#waybill", "Enter")
    page.wait_for_selector("#code")
    page.fill("#code", "6901234500028")  # the wrong item
    page.press("#code", "Enter")
    alert = page.wait_for_selector("[role=alert]")
    assert "错货！OF-1102" in alert.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    if os.environ.get("ORDERHUB_SCREENSHOTS"):
        page.screenshot(path=os.environ["ORDERHUB_SCREENSHOTS"], full_page=True)
    page.fill("#code", "6901234500011")
    page.press("#code", "Enter")
    page.wait_for_selector("button.btn-primary:not([disabled])")
    page.click("button.btn-primary")
    page.wait_for_selector("text=已发货")
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
