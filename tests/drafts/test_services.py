"""Drafts from messages: nothing is ordered until a person confirms; repeats are caught."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from orderhub.accounts.roles import Role
from orderhub.core.errors import Conflict, PermissionDenied, ValidationFailed
from orderhub.drafts.models import Draft, DraftStatus
from orderhub.drafts.services import (
    ConfirmedFields,
    draft_confirm,
    draft_create_from_text,
    draft_discard,
    fields_from_parsed,
)
from orderhub.ingest.models import Channel, ChannelKind
from orderhub.orders.models import Order
from orderhub.orders.selectors import order_timeline
from orderhub.orders.states import OrderStatus

ISSUE_MESSAGE = "老板，刹车片 BP-2231 要20套，滤芯两箱，发到浙江台州椒江区东环大道88号 王师傅 138 1234 5678"


@pytest.fixture
def clerk(staff: dict[str, Any]) -> Any:
    return staff[Role.CUSTOMER_SERVICE]


def test_a_message_becomes_a_draft_and_no_order(clerk: Any, catalog: Any, dealers: Any) -> None:
    draft = draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE)

    assert draft.status == DraftStatus.DRAFT
    assert draft.customer == dealers["hengtong"]
    assert draft.parsed["customer"]["by"] == "phone"
    assert [(ln["sku_code"], ln["quantity"]) for ln in draft.parsed["lines"]] == [
        ("BP-2231", 20),
        ("OF-1102", 48),
    ]
    assert draft.parsed["address"]["district_code"] == "331002"
    assert Order.objects.count() == 0


def test_confirming_creates_a_pending_review_order_on_the_wechat_channel(
    clerk: Any, catalog: Any, dealers: Any
) -> None:
    draft = draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE)
    assert not Channel.objects.filter(code="wechat").exists()

    order = draft_confirm(actor=clerk, draft_id=draft.pk, fields=fields_from_parsed(draft.parsed))

    assert order.status == OrderStatus.PENDING_REVIEW
    assert order.channel.code == "wechat" and order.channel.kind == ChannelKind.WECHAT
    assert order.customer == dealers["hengtong"]
    assert (order.receiver_name, order.receiver_phone) == ("王师傅", "13812345678")
    assert (order.province_code, order.city_code, order.district_code) == ("330000", "331000", "331002")
    assert order.address_detail == "东环大道88号"
    assert [(ln.sku_code, ln.quantity) for ln in order.lines.order_by("line_no")] == [
        ("BP-2231", 20),
        ("OF-1102", 48),
    ]
    assert not order.holds.exists()
    draft.refresh_from_db()
    assert (draft.status, draft.order, draft.confirmed_by) == (DraftStatus.CONFIRMED, order, clerk)
    # Confirming again (a double click) returns the same order.
    again = draft_confirm(actor=clerk, draft_id=draft.pk, fields=fields_from_parsed(draft.parsed))
    assert again.pk == order.pk and Order.objects.count() == 1


def test_the_source_message_is_on_the_order_timeline(clerk: Any, catalog: Any, dealers: Any) -> None:
    draft = draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE)
    order = draft_confirm(actor=clerk, draft_id=draft.pk, fields=fields_from_parsed(draft.parsed))

    _order, events = order_timeline(actor=clerk, order_id=order.pk)

    source = [e for e in events if e.kind == "source"]
    assert len(source) == 1
    assert "微信消息" in source[0].title and f"#{draft.pk}" in source[0].title
    assert source[0].reason == ISSUE_MESSAGE
    assert source[0].details["url"] == f"/drafts/{draft.pk}/"


def test_the_person_corrects_fields_before_confirming(clerk: Any, catalog: Any, dealers: Any) -> None:
    draft = draft_create_from_text(
        actor=clerk, text="刹车皮20套 发到浙江台州椒江区东环大道88号 王师傅 13812345678"
    )
    fields = fields_from_parsed(draft.parsed)
    fields.lines = [("BP-2232", 20)]  # the dealer meant the rear pads
    fields.detail = "东环大道88号3号仓"

    order = draft_confirm(actor=clerk, draft_id=draft.pk, fields=fields)

    assert [(ln.sku_code, ln.quantity) for ln in order.lines.all()] == [("BP-2232", 20)]
    assert order.address_detail == "东环大道88号3号仓" and order.district_code == "331002"


def test_a_repeated_message_is_a_likely_duplicate_not_a_second_order(
    clerk: Any, catalog: Any, dealers: Any
) -> None:
    first = draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE)
    again = draft_create_from_text(
        actor=clerk, text="刹车片BP-2231 20套，OF-1102 2箱，东环大道88号 王师傅 13812345678"
    )

    assert again.status == DraftStatus.DUPLICATE
    assert again.duplicate_of == first
    assert again.parsed["duplicate_of"] == {"draft": first.pk}
    with pytest.raises(Conflict) as refused:
        draft_confirm(actor=clerk, draft_id=again.pk, fields=fields_from_parsed(again.parsed))
    assert refused.value.code == "draft_duplicate"
    assert Order.objects.count() == 0
    # A person who checked it may still order it.
    order = draft_confirm(
        actor=clerk, draft_id=again.pk, fields=fields_from_parsed(again.parsed), not_duplicate=True
    )
    assert order.status == OrderStatus.PENDING_REVIEW


def test_a_message_repeating_a_recent_order_points_at_that_order(
    clerk: Any, catalog: Any, dealers: Any, past_order: Any
) -> None:
    order = past_order(lines=[("BP-2231", 20), ("OF-1102", 48)])

    draft = draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE)

    assert draft.status == DraftStatus.DUPLICATE
    assert draft.duplicate_order == order
    assert draft.parsed["duplicate_of"] == {"order": order.pk, "order_no": order.order_no}


def test_the_same_lines_after_the_window_are_a_new_order(clerk: Any, catalog: Any, dealers: Any) -> None:
    first = draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE, now=timezone.now() - timedelta(days=1))
    second = draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE)
    assert first.status == second.status == DraftStatus.DRAFT


def test_different_quantities_are_not_a_duplicate(clerk: Any, catalog: Any, dealers: Any) -> None:
    draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE)
    other = draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE.replace("20套", "30套"))
    assert other.status == DraftStatus.DRAFT


def test_old_address_takes_the_customers_last_order(
    clerk: Any, catalog: Any, dealers: Any, past_order: Any
) -> None:
    past_order()
    draft = draft_create_from_text(actor=clerk, text="恒通汽配：陶瓷刹车片10套，发老地址")

    address = draft.parsed["address"]
    assert (address["district_code"], address["detail"], address["source"]) == (
        "331002",
        "东环大道99号仓库",
        "last_order",
    )
    # The tie between front and rear pads goes to what 恒通 bought before (rear).
    assert draft.parsed["lines"][0]["sku_code"] == "BP-2232"


def test_customer_matched_by_a_past_receivers_phone(
    clerk: Any, catalog: Any, dealers: Any, past_order: Any
) -> None:
    past_order(customer="D0002", receiver_phone="13906561234")
    draft = draft_create_from_text(actor=clerk, text="林师傅 13906561234 前片30套")
    assert draft.parsed["customer"]["code"] == "D0002"


def test_confirmation_refuses_unknown_skus_and_bad_quantities_naming_the_line(
    clerk: Any, catalog: Any, dealers: Any
) -> None:
    draft = draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE)
    base = fields_from_parsed(draft.parsed)
    for lines, field in (
        ([("BP-2231", 20), ("XX-0000", 1)], "lines.1.sku_code"),
        ([("BP-2231", 0)], "lines.0.quantity"),
        ([("", 5)], "lines.0.sku_code"),
        ([], "lines"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            draft_confirm(
                actor=clerk, draft_id=draft.pk, fields=ConfirmedFields(**{**base.__dict__, "lines": lines})
            )
        assert refused.value.field == field
    assert Order.objects.count() == 0


def test_an_order_without_a_usable_phone_is_held(clerk: Any, catalog: Any, dealers: Any) -> None:
    draft = draft_create_from_text(actor=clerk, text="BP-2231 20套 发到浙江台州椒江区东环大道88号 王师傅")
    order = draft_confirm(actor=clerk, draft_id=draft.pk, fields=fields_from_parsed(draft.parsed))
    assert list(order.holds.values_list("reason", flat=True)) == ["invalid_phone"]


def test_a_discarded_draft_cannot_be_confirmed(clerk: Any, catalog: Any, dealers: Any) -> None:
    draft = draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE)
    draft_discard(actor=clerk, draft_id=draft.pk)
    with pytest.raises(Conflict):
        draft_confirm(actor=clerk, draft_id=draft.pk, fields=fields_from_parsed(draft.parsed))


def test_roles_without_order_entry_cannot_make_drafts(staff: dict[str, Any], catalog: Any) -> None:
    with pytest.raises(PermissionDenied):
        draft_create_from_text(actor=staff[Role.WAREHOUSE], text=ISSUE_MESSAGE)
    assert not Draft.objects.exists()


def test_empty_and_oversized_messages_are_refused(clerk: Any, catalog: Any) -> None:
    with pytest.raises(ValidationFailed):
        draft_create_from_text(actor=clerk, text="   ")
    with pytest.raises(ValidationFailed):
        draft_create_from_text(actor=clerk, text="刹" * 6000)


def test_the_timeline_source_reads_little(
    clerk: Any, catalog: Any, dealers: Any, past_order: Any, django_assert_num_queries: Any
) -> None:
    from orderhub.drafts.timeline import draft_source_events

    draft = draft_create_from_text(actor=clerk, text=ISSUE_MESSAGE)
    order = draft_confirm(actor=clerk, draft_id=draft.pk, fields=fields_from_parsed(draft.parsed))
    other = past_order()
    with django_assert_num_queries(2):  # is there a draft; the draft with its image count
        assert len(draft_source_events(order)) == 1
    with django_assert_num_queries(1):  # most orders: no draft, one indexed look-up
        assert draft_source_events(other) == []
