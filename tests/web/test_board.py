"""The collaboration board through the Django test client: columns and counts per role, the holds
group, filters and "only my orders", moves, polling, "more", bulk actions and the query budget."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.orders.models import OperationLog, Order
from orderhub.orders.services import order_transition
from orderhub.web.board import CARDS_PER_COLUMN
from orderhub.web.models import StateTarget, UserWarehouse
from tests.web.conftest import page_text
from tests.web.floor import Floor, build_floor

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(staff: dict[str, User], make_order: Callable[..., Order]) -> Floor:
    return build_floor(staff, make_order)


def columns(response: Any) -> dict[str, int]:
    """Column → count, in the order the board shows them."""
    html = response.content.decode()
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r'id="col-([a-z_]+)".*?class="col-count"[^>]*>(\d+)<', html, flags=re.S)
    }


def cards_in(response: Any, status: str) -> set[str]:
    html = response.content.decode()
    section = re.search(rf'id="col-{status}"(.*?)</section>', html, flags=re.S)
    assert section, f"no column {status}"
    return set(re.findall(r'data-no="([^"]+)"', section.group(1)))


def db_counts(**filters: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for status in Order.objects.filter(**filters).values_list("status", flat=True):
        out[status] = out.get(status, 0) + 1
    return out


def test_manager_sees_every_state_with_counts_from_the_database(
    client_for: Callable[[str], Client], floor: Floor
) -> None:
    response = client_for(Role.MANAGER).get("/board/")

    shown = columns(response)
    assert list(shown) == [
        "pending_review",
        "split",
        "allocating",
        "label_printed",
        "shipped",
        "exception",
        "completed",
    ]
    expected = db_counts()
    assert shown == {s: expected.get(s, 0) for s in shown}
    assert "cancelled" not in shown  # hidden by default
    with_cancelled = columns(client_for(Role.MANAGER).get("/board/", {"f": "1", "show_cancelled": "on"}))
    assert with_cancelled["cancelled"] == 1


def test_card_shows_what_a_clerk_needs(client_for: Callable[[str], Client], floor: Floor) -> None:
    response = client_for(Role.MANAGER).get("/board/")
    html = response.content.decode()
    card = re.search(rf'id="card-{floor.orders["pending"].pk}".*?</li>', html, flags=re.S)
    assert card
    text = page_text(type("R", (), {"content": card.group(0).encode()})())

    assert floor.orders["pending"].order_no in text
    assert "手工 · 椒江恒通汽配 A类" in text  # channel, customer and tier
    assert "陶瓷刹车片 前轮 ×20" in text  # items
    assert "P2" in text  # priority
    assert "承诺" in text  # promised delivery time
    assert "0分 / 2小时" in text  # time in state against the target
    assert "负责 客服" in text  # who must act
    assert "lvl-ok" in card.group(0)


def test_time_in_state_turns_amber_then_red_against_configurable_targets(
    client_for: Callable[[str], Client], floor: Floor
) -> None:
    order = floor.orders["split"]
    Order.objects.filter(pk=order.pk).update(status_changed_at=timezone.now() - timedelta(minutes=50))
    StateTarget.objects.create(status="split", target_minutes=60, amber_percent=75)

    html = client_for(Role.MANAGER).get("/board/").content.decode()
    assert re.search(rf'class="bcard lvl-warn" id="card-{order.pk}"', html)

    StateTarget.objects.filter(status="split").update(target_minutes=45)
    html = client_for(Role.MANAGER).get("/board/").content.decode()
    assert re.search(rf'class="bcard lvl-late" id="card-{order.pk}"', html)
    assert "超时" in html


def test_held_orders_are_a_marked_group_inside_pending_review(
    client_for: Callable[[str], Client], floor: Floor
) -> None:
    html = client_for(Role.CUSTOMER_SERVICE).get("/board/").content.decode()

    group = re.search(r'class="hold-group".*?</ul>', html, flags=re.S)
    assert group
    assert floor.orders["held"].order_no in group.group(0)
    assert floor.orders["pending"].order_no not in group.group(0)
    assert 'title="地址不完整"' in group.group(0)


def test_column_order_and_only_mine_follow_the_role(
    client_for: Callable[[str], Client], floor: Floor, staff: dict[str, User]
) -> None:
    cs = list(columns(client_for(Role.CUSTOMER_SERVICE).get("/board/")))
    warehouse = client_for(Role.WAREHOUSE).get("/board/")
    sales = client_for(Role.SALES).get("/board/")

    assert cs[:2] == ["pending_review", "exception"]  # holds and exceptions first
    assert list(columns(warehouse))[:3] == ["split", "allocating", "label_printed"]
    # Warehouse: only its own warehouse (杭州仓) by default.
    assert (
        columns(warehouse) == {s: n for s, n in columns(warehouse).items()}
        and sum(columns(warehouse).values())
        == Order.objects.filter(warehouse=floor.hangzhou).exclude(status="cancelled").count()
    )
    assert floor.orders["alloc_nb"].order_no not in page_text(warehouse)
    # Sales: only what they own.
    own = db_counts(owner=staff[Role.SALES])
    assert columns(sales) == {s: own.get(s, 0) for s in columns(sales)}
    assert floor.orders["pending_pdd"].order_no not in page_text(sales)


def test_warehouse_without_a_warehouse_is_told_what_to_do(
    client_for: Callable[[str], Client], floor: Floor, staff: dict[str, User]
) -> None:
    UserWarehouse.objects.all().delete()

    text = page_text(client_for(Role.WAREHOUSE).get("/board/"))

    assert "您的账号还没有关联仓库" in text and "员工仓库" in text


def test_filters_narrow_every_column(client_for: Callable[[str], Client], floor: Floor) -> None:
    manager = client_for(Role.MANAGER)

    def shown(**params: str) -> dict[str, int]:
        counts = columns(manager.get("/board/", {"f": "1", **params}))
        return {s: n for s, n in counts.items() if n}

    assert shown(channel="pdd") == {"pending_review": 1}
    assert shown(tier="vip") == {"pending_review": 1}
    assert shown(warehouse=str(floor.ningbo.pk)) == {"allocating": 1}
    assert shown(entity=str(floor.entity.pk)) == {"allocating": 1}
    assert shown(status="split") == {"split": 1}
    today = timezone.localdate().isoformat()
    assert (
        sum(shown(date_from=today, date_to=today).values())
        == Order.objects.exclude(status="cancelled").count()
    )
    assert shown(date_to="2000-01-01") == {}
    assert "没有符合条件的订单" in page_text(manager.get("/board/", {"f": "1", "date_to": "2000-01-01"}))


def test_owner_filter_and_only_mine_for_a_manager(
    client_for: Callable[[str], Client], floor: Floor, staff: dict[str, User]
) -> None:
    manager = client_for(Role.MANAGER)
    sales2 = staff["sales2"]

    by_owner = columns(manager.get("/board/", {"f": "1", "owner": str(sales2.pk)}))
    mine = columns(manager.get("/board/", {"f": "1", "mine": "on"}))

    assert {s: n for s, n in by_owner.items() if n} == {"pending_review": 1, "allocating": 1}
    # A manager's own orders are the ones they moved last.
    expected = db_counts(last_operator=staff[Role.MANAGER])
    assert {s: n for s, n in mine.items() if n} == {s: n for s, n in expected.items() if s != "cancelled"}


def move(client: Client, order: Order, to: str, reason: str = "", version: int | None = None) -> Any:
    return client.post(
        "/board/move/",
        {"order_id": order.pk, "to": to, "expected_version": version or order.version, "reason": reason},
    )


def test_move_performs_the_transition_and_returns_the_changed_columns(
    client_for: Callable[[str], Client], floor: Floor
) -> None:
    order = floor.orders["pending"]

    response = move(client_for(Role.CUSTOMER_SERVICE), order, "split")

    assert floor.refresh("pending").status == "split"
    html = response.content.decode()
    assert f"订单 {order.order_no} 已变为「已拆单」" in page_text(response)
    # No signatures were sent, so every column comes back; the card is now in 已拆单.
    assert 'id="col-split" data-status="split"' in html and 'hx-swap-oob="true"' in html
    assert order.order_no in cards_in(response, "split")
    log = OperationLog.objects.filter(order=order, transition="approve").get()
    assert log.actor_name == "customer_service1"


@pytest.mark.parametrize(
    ("role", "key", "to", "message"),
    [
        (Role.SALES, "pending", "split", "您的角色不能执行「审核通过」"),
        (Role.CUSTOMER_SERVICE, "split", "shipped", "不能变为「已发货」"),
        (Role.CUSTOMER_SERVICE, "held", "split", "订单被拦截，需先处理：地址不完整"),
        (Role.WAREHOUSE, "split", "pending_review", "「驳回重审」需要填写原因"),
    ],
)
def test_forbidden_moves_are_refused_with_a_reason_and_change_nothing(
    client_for: Callable[[str], Client], floor: Floor, role: str, key: str, to: str, message: str
) -> None:
    before = floor.refresh(key)

    response = move(client_for(role), before, to)

    assert response.status_code == 200
    assert message in page_text(response)
    assert "msg-error" in response.content.decode()
    after = floor.refresh(key)
    assert (after.status, after.version) == (before.status, before.version)


def test_backward_move_with_a_reason_is_recorded(client_for: Callable[[str], Client], floor: Floor) -> None:
    order = floor.orders["split"]

    move(client_for(Role.WAREHOUSE), order, "pending_review", reason="缺货，退回重审")

    assert floor.refresh("split").status == "pending_review"
    assert OperationLog.objects.filter(
        order=order, transition="reject_split", reason="缺货，退回重审"
    ).exists()


def test_stale_card_gets_a_conflict(
    client_for: Callable[[str], Client], floor: Floor, staff: dict[str, User]
) -> None:
    order = floor.orders["pending"]
    order_transition(order_id=order.pk, to="split", actor=staff[Role.MANAGER])

    response = move(client_for(Role.CUSTOMER_SERVICE), order, "split", version=order.version)

    assert "已被他人修改" in page_text(response)


def sigs_of(response: Any) -> dict[str, str]:
    """What an open board sends with each poll: its column signatures and its stamp."""
    html = response.content.decode()
    found = dict(re.findall(r'name="(sig_[a-z_]+)" value="([0-9a-f]+)"', html))
    stamp = re.search(r'id="board-stamp" name="stamp" value="(\d+)"', html)
    if stamp:
        found["stamp"] = stamp.group(1)
    return found


def test_poll_is_empty_until_something_changes_then_sends_only_changed_columns(
    client_for: Callable[[str], Client], floor: Floor, staff: dict[str, User]
) -> None:
    manager = client_for(Role.MANAGER)
    sigs = sigs_of(manager.get("/board/"))

    assert manager.get("/board/poll/", sigs).status_code == 204

    order_transition(order_id=floor.orders["split"].pk, to="allocating", actor=staff[Role.WAREHOUSE])
    response = manager.get("/board/poll/", sigs)

    assert response.status_code == 200
    sent = set(re.findall(r'<section class="col col-[a-z_]+" id="col-([a-z_]+)"', response.content.decode()))
    assert sent == {"split", "allocating"}
    assert floor.orders["split"].order_no in cards_in(response, "allocating")


def test_poll_keeps_the_selection(
    client_for: Callable[[str], Client], floor: Floor, staff: dict[str, User]
) -> None:
    manager = client_for(Role.MANAGER)
    sigs = sigs_of(manager.get("/board/"))
    keep = floor.orders["alloc_hz"]
    order_transition(order_id=floor.orders["split"].pk, to="allocating", actor=staff[Role.WAREHOUSE])

    response = manager.get("/board/poll/", {**sigs, "sel": f"{keep.pk}:{keep.version}"})

    assert f'value="{keep.pk}:{keep.version}" form="bulk-form"' in response.content.decode()
    assert re.search(rf'value="{keep.pk}:{keep.version}"[^>]*checked', response.content.decode(), flags=re.S)


def test_more_pages_through_a_long_column(
    client_for: Callable[[str], Client], make_order: Callable[..., Order]
) -> None:
    made = [make_order() for _ in range(CARDS_PER_COLUMN + 3)]
    cs = client_for(Role.CUSTOMER_SERVICE)

    first = cs.get("/board/")
    shown = cards_in(first, "pending_review")
    more = re.search(r'hx-get="(/board/column/pending_review/[^"]+)"', first.content.decode())
    assert len(shown) == CARDS_PER_COLUMN and more
    assert f"更多（共 {CARDS_PER_COLUMN + 3} 张）" in page_text(first)
    rest = cs.get(more.group(1).replace("&amp;", "&"))
    rest_nos = set(re.findall(r'data-no="([^"]+)"', rest.content.decode()))

    assert len(rest_nos) == 3
    assert shown | rest_nos == {o.order_no for o in made}
    assert 'id="more-pending_review" hx-swap-oob="true"' in rest.content.decode()  # the button goes away
    assert "分页游标无效" in cs.get("/board/column/pending_review/?cursor=zz").content.decode()


def test_bulk_approve_reports_each_card(client_for: Callable[[str], Client], floor: Floor) -> None:
    ok, held = floor.orders["pending"], floor.orders["held"]

    response = client_for(Role.CUSTOMER_SERVICE).post(
        "/board/bulk/", {"action": "approve", "sel": [f"{ok.pk}:{ok.version}", f"{held.pk}:{held.version}"]}
    )

    text = page_text(response)
    assert "成功 1 张，未完成 1 张" in text
    assert f"{ok.order_no} ：已变为「已拆单」" in text
    assert f"{held.order_no} ：订单被拦截，需先处理：地址不完整" in text
    assert floor.refresh("pending").status == "split" and floor.refresh("held").status == "pending_review"


def test_a_card_refused_by_its_stock_records_does_not_hold_back_the_others(
    client_for: Callable[[str], Client], floor: Floor, skus
) -> None:
    """Cancelling gives reserved stock back; a card whose reservation exceeds the stock counter is
    refused by that effect, and the other selected cards are still cancelled."""
    from orderhub.inventory.models import Reservation, Stock, Warehouse

    ok, broken = floor.orders["pending"], floor.orders["pending_pdd"]
    wh = Warehouse.objects.create(code="T9", name="测试仓", province="浙江省")
    stock = Stock.objects.create(warehouse=wh, sku=skus["BP-2231"], on_hand=10, reserved=1)
    Reservation.objects.create(order=broken, stock=stock, quantity=5)  # the counter says 1: out of step
    sel = [f"{ok.pk}:{ok.version}", f"{broken.pk}:{broken.version}"]

    text = page_text(
        client_for(Role.CUSTOMER_SERVICE).post(
            "/board/bulk/", {"action": "cancel", "sel": sel, "reason": "活动取消"}
        )
    )

    assert "成功 1 张，未完成 1 张" in text
    assert f"{ok.order_no} ：已变为「已取消」" in text
    assert f"{broken.order_no} ：库存记录与占用不一致，请盘点后重试" in text
    assert floor.refresh("pending").status == "cancelled"
    assert floor.refresh("pending_pdd").status == "pending_review"
    assert Stock.objects.get(pk=stock.pk).reserved == 1


def test_bulk_cancel_needs_a_reason(client_for: Callable[[str], Client], floor: Floor) -> None:
    order = floor.orders["pending"]
    cs = client_for(Role.CUSTOMER_SERVICE)
    sel = f"{order.pk}:{order.version}"

    refused = page_text(cs.post("/board/bulk/", {"action": "cancel", "sel": sel}))
    done = page_text(cs.post("/board/bulk/", {"action": "cancel", "sel": sel, "reason": "客户不要了"}))

    assert "「取消订单」需要填写原因" in refused
    assert "已变为「已取消」" in done
    assert floor.refresh("pending").status == "cancelled"
    assert "请先勾选卡片" in page_text(cs.post("/board/bulk/", {"action": "approve"}))


def test_bulk_labels_checks_waybills_then_prints_through_fulfilment(
    client_for: Callable[[str], Client], floor: Floor
) -> None:
    printed, split = floor.orders["printed"], floor.orders["split"]
    warehouse = client_for(Role.WAREHOUSE)
    sel = [f"{printed.pk}:{printed.version}", f"{split.pk}:{split.version}"]

    check = page_text(warehouse.post("/board/bulk/", {"action": "labels", "sel": sel}))
    pdf = warehouse.post("/board/labels/", {"sel": sel})

    assert f"{printed.order_no} ：面单 {floor.waybill_no}" in check
    assert f"{split.order_no} ：没有有效面单" in check
    assert "下载面单 PDF（1 张）" in check
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "您的角色不能打印面单" in page_text(
        client_for(Role.SALES).post("/board/bulk/", {"action": "labels", "sel": sel})
    )


def test_board_needs_a_login() -> None:
    response = Client().get("/board/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def board_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/board/").status_code == 200
    return len(ctx.captured_queries)


# session, user, roles, 4 filter lists, stamp, 2 counts, held count, 8 column pages (ids), the
# cards in one query, lines, holds,
# targets, inbox count … fixed, whatever the number of orders.
BOARD_QUERY_BUDGET = 24
POLL_QUERY_BUDGET = 19


def test_board_query_count_does_not_grow_with_orders(
    client_for: Callable[[str], Client], floor: Floor, make_order: Callable[..., Order]
) -> None:
    cs = client_for(Role.CUSTOMER_SERVICE)
    few = board_queries(cs)
    for _ in range(30):
        make_order(address_detail="" if _ % 3 == 0 else "东环大道88号")

    many = board_queries(cs)

    assert many == few
    assert many <= BOARD_QUERY_BUDGET


def test_a_busy_poll_has_a_fixed_query_count(client_for: Callable[[str], Client], floor: Floor) -> None:
    manager = client_for(Role.MANAGER)
    sigs = sigs_of(manager.get("/board/"))
    with CaptureQueriesContext(connection) as ctx:
        assert manager.get("/board/poll/", sigs).status_code == 204
    assert len(ctx.captured_queries) <= POLL_QUERY_BUDGET


def test_a_quiet_poll_costs_one_index_lookup(
    client_for: Callable[[str], Client], floor: Floor, staff: dict[str, User]
) -> None:
    # Nothing has happened for a minute: the stamp alone answers.
    OperationLog.objects.update(at=timezone.now() - timedelta(minutes=1))
    manager = client_for(Role.MANAGER)
    page = manager.get("/board/")
    params = {
        **sigs_of(page),
        "stamp": re.search(r'id="board-stamp" name="stamp" value="(\d+)"', page.content.decode()).group(1),
    }  # type: ignore[union-attr]

    with CaptureQueriesContext(connection) as ctx:
        assert manager.get("/board/poll/", params).status_code == 204
    assert len(ctx.captured_queries) <= 3  # session, user, the stamp

    order_transition(order_id=floor.orders["split"].pk, to="allocating", actor=staff[Role.WAREHOUSE])
    response = manager.get("/board/poll/", params)

    assert response.status_code == 200
    assert 'id="board-stamp"' in response.content.decode()
    assert floor.orders["split"].order_no in cards_in(response, "allocating")


def test_finished_orders_leave_the_board_after_a_week(
    client_for: Callable[[str], Client], floor: Floor, settings: Any
) -> None:
    old = floor.orders["completed"]
    Order.objects.filter(pk=old.pk).update(status_changed_at=timezone.now() - timedelta(days=8))

    response = client_for(Role.MANAGER).get("/board/")

    assert columns(response)["completed"] == 0
    assert "近 7 天" in page_text(response)
    settings.ORDERHUB_BOARD_DONE_DAYS = 30
    assert columns(client_for(Role.MANAGER).get("/board/"))["completed"] == 1


def test_a_second_look_reuses_the_columns_until_an_order_changes(
    client_for: Callable[[str], Client], floor: Floor, staff: dict[str, User]
) -> None:
    manager, other_manager = client_for(Role.MANAGER), client_for(Role.MANAGER)
    first = manager.get("/board/")
    with CaptureQueriesContext(connection) as reused:
        second = other_manager.get("/board/")

    # Same columns, without counting or building them again: session, user, roles, filter
    # lists, stamp, targets, inbox count.
    assert columns(second) == columns(first) and cards_in(second, "split") == cards_in(first, "split")
    assert not any("COUNT(" in q["sql"] and "orders_order" in q["sql"] for q in reused.captured_queries)

    moved = floor.orders["split"]
    order_transition(order_id=moved.pk, to="allocating", actor=staff[Role.WAREHOUSE])
    third = other_manager.get("/board/")

    assert moved.order_no in cards_in(third, "allocating") and moved.order_no not in cards_in(third, "split")
    assert columns(third)["allocating"] == columns(first)["allocating"] + 1
    # The columns the move did not touch are the same as before (taken over, not rebuilt).
    assert columns(third)["shipped"] == columns(first)["shipped"]
    assert cards_in(third, "shipped") == cards_in(first, "shipped")


def test_the_board_cache_never_reads_a_directory_others_may_write(tmp_path: Any, settings: Any) -> None:
    from django.core.cache import caches
    from django.core.cache.backends.filebased import FileBasedCache

    from orderhub.web import board_cache

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    settings.ORDERHUB_BOARD_CACHE_DIR = str(shared)
    assert board_cache.store() is caches["default"]  # pickles planted there would run as us

    settings.ORDERHUB_BOARD_CACHE_DIR = str(tmp_path / "own")
    assert isinstance(board_cache.store(), FileBasedCache)
    assert (tmp_path / "own").stat().st_mode & 0o777 == 0o700
