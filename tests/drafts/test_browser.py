"""In a real headless Chromium: upload a chat screenshot → check the draft → confirm → the order is
on the board in 待审核 with its screenshot on the timeline."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orderhub.accounts.roles import Role
from orderhub.orders.models import Order
from tests.drafts import render

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SHOTS = Path(os.environ.get("ORDERHUB_DRAFT_SHOTS", "")) if os.environ.get("ORDERHUB_DRAFT_SHOTS") else None

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Any, live_server: Any, staff: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)  # the upload waits for the OCR
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", staff[Role.CUSTOMER_SERVICE].username)
    page.fill("input[name=password]", "Correct-Horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    yield page
    context.close()


def test_upload_confirm_and_the_order_is_on_the_board(
    page: Any, live_server: Any, ocr: Any, catalog: Any, dealers: Any
) -> None:
    from playwright.sync_api import expect

    png = render.png(
        render.chat(["杀车片20套，滤芯两箱", "发到浙江台州椒江区东环大道88号 王师傅 13812345678"])
    )
    page.goto(f"{live_server.url}/drafts/")
    page.set_input_files(
        "input[name=images]", files=[{"name": "wx.png", "mimeType": "image/png", "buffer": png}]
    )
    page.click("text=上传并识别")
    page.wait_for_url(re.compile(r"/drafts/\d+/$"))

    expect(page.locator("[data-testid=line-0]")).to_have_class("low")  # 杀车片: check it
    expect(page.locator("input[name=line-0-sku]")).to_have_value("BP-2231")
    expect(page.locator("input[name=line-1-qty]")).to_have_value("48")
    expect(page.locator("input[name=detail]")).to_have_value("东环大道88号")
    expect(page.locator("img.source-img")).to_be_visible()
    if SHOTS:
        page.screenshot(path=str(SHOTS / "draft-confirm.png"), full_page=True)

    page.click("[data-testid=confirm]")
    page.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get()
    expect(page.locator("#timeline")).to_contain_text("来源：1 张截图/照片识别")

    page.goto(f"{live_server.url}/board/")
    expect(page.locator(f"#col-pending_review #card-{order.pk}")).to_be_visible()
    assert order.channel.code == "wechat"
