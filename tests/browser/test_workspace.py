"""The staff workspace in a real headless Chromium: each role's board and counts, filters and
"only my orders", drag-and-drop and menu moves through order_transition, live updates from the
API, one-box search to the timeline, phone layout, and the screenshots in docs/screenshots/."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.accounts.services import api_token_create
from orderhub.orders.models import OperationLog, Order
from orderhub.web import board_cache
from tests.browser.conftest import PHONE, no_horizontal_scroll, screenshot
from tests.web.floor import Floor, build_floor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """The board keeps its columns in the cache under the newest log id; ids repeat between tests."""
    board_cache.clear()


VISIBLE = ["pending_review", "split", "allocating", "label_printed", "shipped", "exception", "completed"]


@pytest.fixture
def floor(staff: dict[str, User], make_order: Callable[..., Order]) -> Floor:
    return build_floor(staff, make_order)


def shown_counts(page: Any) -> dict[str, int]:
    counts = {}
    for col in page.locator("section.col").all():
        status = col.get_attribute("data-status")
        counts[status] = int(col.locator(".col-count").first.inner_text())
    return counts


def expected_counts(**filters: Any) -> dict[str, int]:
    qs = Order.objects.filter(**filters)
    return {s: qs.filter(status=s).count() for s in VISIBLE}


def expect_counts(page: Any, expected: dict[str, int]) -> None:
    """Waits (as the board updates in place) until every column shows its expected count."""
    for status, n in expected.items():
        expect(page.locator(f"#col-{status} .col-count")).to_have_text(str(n))
    assert shown_counts(page) == expected


def card(page: Any, order: Order) -> Any:
    return page.locator(f"#card-{order.pk}")


@pytest.mark.parametrize(
    ("role", "scope", "first_columns", "title"),
    [
        (Role.MANAGER, {}, VISIBLE[:2], "主管视图"),
        (Role.CUSTOMER_SERVICE, {}, ["pending_review", "exception"], "客服视图"),
        (Role.SALES, {"owner__username": "sales1"}, VISIBLE[:2], "销售视图"),
        (Role.WAREHOUSE, {"warehouse__code": "HZ"}, ["split", "allocating", "label_printed"], "仓库视图"),
        (Role.LOGISTICS, {}, ["shipped", "exception"], "物流视图"),
    ],
)
def test_each_role_sees_its_board_with_counts_from_the_database(
    open_as: Callable[..., Any],
    live_server: Any,
    floor: Floor,
    staff: dict[str, User],
    role: str,
    scope: dict[str, str],
    first_columns: list[str],
    title: str,
) -> None:
    page = open_as(staff[role].username)
    expect(page.locator("#landing-preset")).to_contain_text(title)  # the role's landing page

    page.click("nav >> text=看板")

    expect(page.locator("#board-preset")).to_contain_text(title)
    assert list(shown_counts(page))[: len(first_columns)] == first_columns
    expect_counts(page, expected_counts(**scope))
    if role == Role.CUSTOMER_SERVICE:
        held = page.locator("#col-pending_review .hold-group")
        expect(held.locator(f"#card-{floor.orders['held'].pk}")).to_be_visible()


def test_a_filter_and_only_my_orders(
    open_as: Callable[..., Any], live_server: Any, floor: Floor, staff: dict[str, User]
) -> None:
    page = open_as("manager1")
    page.goto(f"{live_server.url}/board/")

    page.select_option("#id_channel", "pdd")

    expect_counts(page, {**dict.fromkeys(VISIBLE, 0), "pending_review": 1})
    assert "channel=pdd" in page.url  # the filtered board can be bookmarked

    page.goto(f"{live_server.url}/board/?f=1")
    page.check("#id_mine")

    expect_counts(page, expected_counts(last_operator=staff[Role.MANAGER]))

    warehouse = open_as("warehouse1")
    warehouse.goto(f"{live_server.url}/board/")
    expect(warehouse.locator("#id_mine")).to_be_checked()  # its own warehouse by default
    expect(card(warehouse, floor.orders["alloc_nb"])).to_have_count(0)
    warehouse.uncheck("#id_mine")
    expect(card(warehouse, floor.orders["alloc_nb"])).to_be_visible()


def test_drag_performs_the_transition_and_a_forbidden_move_is_refused(
    open_as: Callable[..., Any], live_server: Any, floor: Floor
) -> None:
    page = open_as("customer_service1")
    page.goto(f"{live_server.url}/board/")
    pending, split = floor.orders["pending"], floor.orders["split"]

    card(page, pending).drag_to(page.locator("#col-split"))

    expect(page.locator(f"#col-split #card-{pending.pk}")).to_be_visible()
    expect(page.locator("#board-flash")).to_contain_text("已变为「已拆单」")
    assert floor.refresh("pending").status == "split"
    assert OperationLog.objects.filter(
        order=pending, transition="approve", actor_name="customer_service1"
    ).exists()

    # No transition leads from 已拆单 to 已发货: the server refuses and nothing moves.
    card(page, split).drag_to(page.locator("#col-shipped"))

    expect(page.locator("#board-flash")).to_contain_text("不能变为「已发货」")
    expect(page.locator(f"#col-split #card-{split.pk}")).to_be_visible()
    assert floor.refresh("split").status == "split"

    # A backward move (驳回) asks for the reason first.
    card(page, split).drag_to(page.locator("#col-pending_review"))
    dialog = page.locator("#reason-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("驳回重审")
    page.fill("#reason-input", "客户要改地址，退回重审")
    page.click("#reason-dialog button[value=ok]")

    expect(page.locator(f"#col-pending_review #card-{split.pk}")).to_be_visible()
    assert OperationLog.objects.filter(
        order=split, transition="reject_split", reason="客户要改地址，退回重审"
    ).exists()


def test_a_role_may_not_make_another_roles_move(
    open_as: Callable[..., Any], live_server: Any, floor: Floor
) -> None:
    page = open_as("sales1")
    page.goto(f"{live_server.url}/board/")
    pending = floor.orders["pending"]

    card(page, pending).drag_to(page.locator("#col-split"))

    expect(page.locator("#board-flash")).to_contain_text("您的角色不能执行「审核通过」")
    expect(page.locator(f"#col-pending_review #card-{pending.pk}")).to_be_visible()
    assert floor.refresh("pending").status == "pending_review"


def test_the_menu_moves_a_card_with_the_keyboard(
    open_as: Callable[..., Any], live_server: Any, floor: Floor
) -> None:
    page = open_as("warehouse1", viewport=PHONE)
    page.goto(f"{live_server.url}/board/")
    order = floor.orders["alloc_hz"]

    page.locator(f"#card-{order.pk} summary").focus()
    page.keyboard.press("Enter")
    page.locator(f"#card-{order.pk} [data-move=label_printed]").focus()
    page.keyboard.press("Enter")

    expect(page.locator(f"#col-label_printed #card-{order.pk}")).to_be_visible()
    assert floor.refresh("alloc_hz").status == "label_printed"


def test_bulk_approve_shows_a_result_per_card(
    open_as: Callable[..., Any], live_server: Any, floor: Floor
) -> None:
    page = open_as("customer_service1")
    page.goto(f"{live_server.url}/board/")
    ok, held = floor.orders["pending"], floor.orders["held"]

    page.check(f"#card-{ok.pk} .card-select")
    page.check(f"#card-{held.pk} .card-select")
    expect(page.locator("#bulk-count")).to_have_text("已选 2 张")
    page.click("#bulk-form button[value=approve]")

    result = page.locator("#bulk-result")
    expect(result).to_contain_text("成功 1 张，未完成 1 张")
    expect(result.locator(f"li[data-order='{held.order_no}']")).to_contain_text("地址不完整")
    expect(page.locator(f"#col-split #card-{ok.pk}")).to_be_visible()


def test_a_change_made_through_the_api_appears_on_an_open_board_within_5_seconds(
    open_as: Callable[..., Any], live_server: Any, floor: Floor, staff: dict[str, User]
) -> None:
    page = open_as("manager1")
    page.goto(f"{live_server.url}/board/")
    order = floor.orders["pending"]
    expect(page.locator(f"#col-pending_review #card-{order.pk}")).to_be_visible()
    before = int(page.locator("#col-split .col-count").inner_text())
    _token, raw = api_token_create(user=staff[Role.CUSTOMER_SERVICE], name="browser test")

    response = httpx.post(
        f"{live_server.url}/api/orders/{order.pk}/transitions",
        json={"to": "split", "expected_version": order.version},
        headers={"Authorization": f"Bearer {raw}"},
    )
    started = time.monotonic()

    assert response.status_code == 200, response.text
    expect(page.locator(f"#col-split #card-{order.pk}")).to_be_visible(timeout=5_000)
    elapsed = time.monotonic() - started
    expect(page.locator("#col-split .col-count")).to_have_text(str(before + 1))
    assert elapsed < 5


def search_keys(floor: Floor) -> list[tuple[str, Order]]:
    return [
        (floor.star.order_no, floor.star),
        ("TB-88001", floor.star),
        ("13957112345", floor.star),
        (floor.waybill_no, floor.orders["printed"]),
        (floor.tracking_no, floor.star),
    ]


def test_search_by_each_key_reaches_the_right_timeline(
    open_as: Callable[..., Any], live_server: Any, floor: Floor
) -> None:
    page = open_as("customer_service1")
    for query, order in search_keys(floor):
        page.goto(f"{live_server.url}/board/")
        page.locator("body").press("/")  # the shortcut focuses the one box
        expect(page.locator("#q")).to_be_focused()
        page.keyboard.type(query)
        page.keyboard.press("Enter")

        expect(page.locator("h1.order-title")).to_have_text(order.order_no)
        timeline = page.locator("#timeline")
        expect(timeline).to_contain_text("创建")
        expect(page.locator("#search-hit")).to_contain_text(query)
    page.goto(f"{live_server.url}/search/?q={floor.star.order_no}")
    timeline = page.locator("#timeline")
    for text in ("审核通过", "manager1", "解除拦截", "已电话核实地址", "快件已到达【杭州转运中心】", "发给"):
        expect(timeline).to_contain_text(text)
    expect(page.locator("#promised-at")).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"))


def test_nothing_found_says_what_to_do(open_as: Callable[..., Any], live_server: Any, floor: Floor) -> None:
    page = open_as("customer_service1")
    page.fill("#q", "NO-SUCH-ORDER")
    page.press("#q", "Enter")

    expect(page.locator("#search-empty")).to_contain_text("没有找到")
    expect(page.locator("#search-empty")).to_contain_text("运单号")


def test_phone_layout_has_no_horizontal_scrolling_and_screenshots(
    open_as: Callable[..., Any], live_server: Any, floor: Floor
) -> None:
    desk = open_as("customer_service1")
    desk.goto(f"{live_server.url}/board/")
    expect(desk.locator("#col-pending_review")).to_be_visible()
    screenshot(desk, "board-desktop.png", full_page=False)
    desk.goto(f"{live_server.url}/search/?q={floor.star.order_no}")
    expect(desk.locator("#timeline")).to_be_visible()
    screenshot(desk, "timeline-desktop.png")

    phone = open_as("customer_service1", viewport=PHONE)
    for path in ("/", "/board/", f"/search/?q={floor.star.order_no}", "/search/?q=13812345678", "/orders/"):
        phone.goto(f"{live_server.url}{path}")
        no_horizontal_scroll(phone)
    phone.goto(f"{live_server.url}/board/")
    expect(phone.locator("#col-pending_review")).to_be_visible()
    no_horizontal_scroll(phone)
    screenshot(phone, "board-phone.png", full_page=False)
    phone.goto(f"{live_server.url}/search/?q={floor.star.order_no}")
    screenshot(phone, "timeline-phone.png")


def test_english_switch(open_as: Callable[..., Any], live_server: Any, floor: Floor) -> None:
    page = open_as("customer_service1")
    page.goto(f"{live_server.url}/board/")

    page.click("button[name=language][value=en]")

    expect(page.locator("h1")).to_have_text("Board")
    expect(page.locator("#col-pending_review h2")).to_have_text("Pending review")
    expect(page.locator("#board-preset")).to_contain_text("Customer service")
