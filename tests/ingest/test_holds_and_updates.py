"""Interception and idempotency: nothing is lost, nothing is duplicated, changes are traced."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.ingest.models import ChannelChange, ImportIssue, RowOutcome
from orderhub.orders.models import HoldReason, LogAction, Order, OrderHold
from orderhub.orders.services import LineDraft, order_transition
from orderhub.orders.states import OrderStatus
from tests.ingest import exports as ex

H = ["订单号", "下单时间", "收货人", "手机", "收货地址", "商家编码", "数量", "单价"]
ADDR = "浙江省台州市椒江区东环大道88号"


def rows(*data: list[object]) -> bytes:
    return ex.csv_bytes([H, *data])


def holds_of(no: str) -> dict[str, str]:
    return dict(OrderHold.objects.filter(order__channel_order_no=no).values_list("reason", "detail"))


def test_every_hold_reason_imports_the_order_held_in_review(run_import, shop_channels, skus):
    data = rows(
        ["A1", "2023-12-12 10:00", "王", "13812345678", ADDR, "NO-SUCH-SKU", 1, 10],
        ["A2", "2023-12-12 10:00", "王", "13812345678", ADDR, "BP-2231", 0, 10],
        ["A3", "2023-12-12 10:00", "王", "13812345678", "东环大道88号", "BP-2231", 1, 10],
        ["A4", "2023-12-12 10:00", "王", "138****5678", ADDR, "BP-2231", 1, 10],
        ["A5", "2023-12-12 10:00", "王", "12345", ADDR, "BP-2231", 1, 10],
        ["A6", "2023-12-12 11:00", "李", "13900001111", ADDR, "OF-1102", 3, 10],
        ["A7", "2023-12-12 12:00", "李", "13900001111", ADDR, "OF-1102", 3, 10],
    )

    batch = run_import(data, "manual.csv", channel_code="manual")  # 手工 channel needs real phones

    assert batch.total_rows == 7 and batch.rejected_count == 0
    assert Order.objects.filter(status=OrderStatus.PENDING_REVIEW).count() == 7
    assert holds_of("A1") == {HoldReason.UNKNOWN_SKU: "NO-SUCH-SKU"}
    assert HoldReason.BAD_QUANTITY in holds_of("A2")
    assert HoldReason.INCOMPLETE_ADDRESS in holds_of("A3")
    assert "138****5678" in holds_of("A4")[HoldReason.MASKED_PHONE]
    assert HoldReason.INVALID_PHONE in holds_of("A5")
    assert holds_of("A6") == {}
    assert "A6" in holds_of("A7")[HoldReason.DUPLICATE]
    assert batch.held_count == 6 and batch.created_count == 1
    assert batch.hold_counts == {
        HoldReason.UNKNOWN_SKU: 1,
        HoldReason.BAD_QUANTITY: 1,
        HoldReason.INCOMPLETE_ADDRESS: 1,
        HoldReason.MASKED_PHONE: 1,
        HoldReason.INVALID_PHONE: 1,
        HoldReason.DUPLICATE: 1,
    }
    assert set(ImportIssue.objects.filter(outcome=RowOutcome.HELD).values_list("row_no", flat=True)) == {
        2,
        3,
        4,
        5,
        6,
        8,
    }


def test_duplicate_of_an_order_already_in_orderhub(run_import, shop_channels, skus, make_order):
    make_order(channel_order_no="OLD-1", lines=[LineDraft("BP-2231", 20, Decimal("88"))])
    data = rows(["NEW-1", "", "王师傅", "13812345678", ADDR, "BP-2231", 20, 88])

    run_import(data, "manual.csv", channel_code="manual")

    assert "OLD-1" in holds_of("NEW-1")[HoldReason.DUPLICATE]


def test_rows_that_cannot_form_an_order_are_rejected_with_row_column_reason(run_import, shop_channels, skus):
    data = rows(
        ["", "2023-12-12", "王", "13812345678", ADDR, "BP-2231", 1, 10],
        ["B2", "2023-12-12", "王", "13812345678", ADDR, "BP-2231", "三个", 10],
        ["B3", "明天", "王", "13812345678", ADDR, "BP-2231", 1, 10],
        ["B4", "2023-12-12", "王", "13812345678", ADDR, "BP-2231", 1, 10],
        ["B4", "2023-12-12", "王", "13812345678", ADDR, "OF-1102", 1, "¥abc"],
        ["B5", "2023-12-12", "王", "13812345678", ADDR, "BP-2231", 1, "¥1,288.50"],
    )

    batch = run_import(data, "manual.csv", channel_code="manual")

    issues = {(i.row_no, i.column, i.code) for i in ImportIssue.objects.filter(outcome=RowOutcome.REJECTED)}
    assert issues == {
        (2, "渠道订单号", "no_order_no"),
        (3, "数量", "bad_int"),
        (4, "下单时间", "bad_datetime"),
        (5, "", "order_rejected"),  # the good line of B4: the whole order waits for its bad line
        (6, "单价", "bad_decimal"),
    }
    message = ImportIssue.objects.get(row_no=3).message
    assert "三个" in message and "整数" in message
    assert list(Order.objects.values_list("channel_order_no", flat=True)) == ["B5"]
    assert Order.objects.get().lines.get().unit_price == Decimal("1288.50")
    assert batch.rejected_count == 5 and batch.created_count == 1


def test_reimport_of_the_same_file_creates_nothing(run_import, shop_channels, skus):
    run_import(ex.pdd_csv(), "pdd.csv")
    again = run_import(ex.pdd_csv(), "pdd.csv")

    assert Order.objects.count() == 3
    assert (again.created_count, again.unchanged_count, again.updated_count) == (0, 3, 0)


def test_overlapping_export_updates_a_changed_order_with_a_log_entry(run_import, shop_channels, skus, staff):
    first = rows(
        ["C1", "2023-12-12 10:00", "王", "13812345678", ADDR, "BP-2231", 1, 88],
        ["C2", "2023-12-12 10:05", "李", "13912345678", ADDR, "OF-1102", 2, 35],
    )
    run_import(first, "a.csv", channel_code="manual")
    c1 = Order.objects.get(channel_order_no="C1")
    overlap = rows(
        ["C1", "2023-12-12 10:00", "王", "13812345678", "浙江省台州市椒江区东环大道99号", "BP-2231", 3, 88],
        ["C2", "2023-12-12 10:05", "李", "13912345678", ADDR, "OF-1102", 2, 35],
        ["C3", "2023-12-12 10:09", "赵", "13700001111", ADDR, "HL-8810", 1, 260],
    )

    batch = run_import(overlap, "b.csv", channel_code="manual")

    assert (batch.created_count, batch.updated_count, batch.unchanged_count) == (1, 1, 1)
    assert Order.objects.count() == 3
    c1.refresh_from_db()
    assert c1.address_detail == "东环大道99号"
    assert c1.lines.get().quantity == 3 and c1.goods_amount == Decimal("264.00")
    assert c1.version == 2
    edit = c1.log.get(action=LogAction.EDIT)
    assert edit.reason == "渠道改单"
    assert edit.details["changes"]["address_detail"] == ["东环大道88号", "东环大道99号"]
    assert edit.actor == staff[Role.CUSTOMER_SERVICE]


def test_change_after_allocation_is_a_conflict_for_a_person(run_import, shop_channels, skus, staff):
    run_import(
        rows(["D1", "2023-12-12 10:00", "王", "13812345678", ADDR, "BP-2231", 1, 88]),
        "a.csv",
        channel_code="manual",
    )
    d1 = Order.objects.get(channel_order_no="D1")
    cs = staff[Role.CUSTOMER_SERVICE]
    d1 = order_transition(order_id=d1.pk, to=OrderStatus.SPLIT, actor=cs)
    d1 = order_transition(order_id=d1.pk, to=OrderStatus.ALLOCATING, actor=cs)
    changed = rows(["D1", "2023-12-12 10:00", "王", "13812345678", ADDR, "BP-2231", 5, 88])

    batch = run_import(changed, "b.csv", channel_code="manual")
    again = run_import(changed, "b.csv", channel_code="manual")

    d1.refresh_from_db()
    assert d1.status == OrderStatus.ALLOCATING and d1.lines.get().quantity == 1  # nothing overwritten
    assert batch.conflict_count == 1 and again.conflict_count == 1
    hold = d1.holds.get(reason=HoldReason.CHANGED_AFTER_ALLOCATION, resolved_at=None)
    assert "lines" in hold.detail
    change = ChannelChange.objects.get(order=d1)  # recorded once, however often it is re-imported
    assert change.changes["lines"] == [[["BP-2231", 1, "88.00"]], [["BP-2231", 5, "88.00"]]]
    assert d1.log.filter(action=LogAction.HOLD).count() == 1


def test_audit_chain_is_valid_after_imports_and_updates(run_import, shop_channels, skus, capsys):
    run_import(ex.douyin_xlsx(), "dy.xlsx")
    run_import(
        rows(["E1", "2023-12-12", "王", "13812345678", ADDR, "BP-2231", 1, 88]),
        "a.csv",
        channel_code="manual",
    )
    run_import(
        rows(["E1", "2023-12-12", "王", "13812345678", ADDR, "BP-2231", 2, 88]),
        "b.csv",
        channel_code="manual",
    )

    call_command("audit", "verify")

    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize("chunk_rows", [2, 3])
def test_an_order_split_across_chunks_keeps_all_its_lines(
    run_import, shop_channels, skus, settings, chunk_rows
):
    settings.ORDERHUB_INGEST = {**settings.ORDERHUB_INGEST, "CHUNK_ROWS": chunk_rows}
    data = rows(
        ["F1", "2023-12-12", "王", "13812345678", ADDR, "BP-2231", 1, 88],
        ["F2", "2023-12-12", "李", "13912345678", ADDR, "BP-2231", 1, 88],
        ["F2", "2023-12-12", "李", "13912345678", ADDR, "OF-1102", 2, 35],
        ["F3", "2023-12-12", "赵", "13700001111", ADDR, "OF-1102", 1, 35],
        ["F2", "2023-12-12", "李", "13912345678", ADDR, "HL-8810", 1, 260],
    )

    batch = run_import(data, "a.csv", channel_code="manual")

    assert Order.objects.count() == 3
    f2 = Order.objects.get(channel_order_no="F2")
    assert [ln.sku_code for ln in f2.lines.order_by("line_no")] == ["BP-2231", "OF-1102", "HL-8810"]
    assert batch.processed_rows == 5


def test_unknown_customer_code_holds_for_a_person(run_import, shop_channels, skus, customer):
    data = ex.csv_bytes(
        [
            ["订单号", "客户编码", "商家编码", "数量"],
            ["U1", "D9999", "BP-2231", 1],
            ["U2", "D0001", "BP-2231", 1],
        ]
    )

    run_import(data, "u8.csv", channel_code="u8")

    assert "D9999" in holds_of("U1")[HoldReason.MANUAL]
    assert holds_of("U2") == {}  # address and phone from the dealer's master record
    assert Order.objects.get(channel_order_no="U2").customer == customer


def test_an_order_created_concurrently_is_not_duplicated(run_import, shop_channels, skus, monkeypatch):
    """Another writer inserts the same channel order between the chunk's read and its insert."""
    from orderhub.ingest import persist
    from orderhub.orders.services import OrderDraft, order_create

    real = persist.orders_insert
    calls = {"n": 0}

    def racing(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            order_create(
                draft=OrderDraft(
                    channel_code="manual", channel_order_no="R1", lines=[LineDraft("BP-2231", 1)]
                ),
                actor=User.objects.get(pk=kwargs["prep"].actor_id),
            )
        return real(**kwargs)

    monkeypatch.setattr(persist, "orders_insert", racing)
    batch = run_import(
        rows(["R1", "2023-12-12", "王", "13812345678", ADDR, "BP-2231", 1, 88]),
        "a.csv",
        channel_code="manual",
    )

    assert Order.objects.filter(channel_order_no="R1").count() == 1
    assert batch.status == "done" and batch.processed_rows == 1 and calls["n"] == 2
