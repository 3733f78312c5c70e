"""Automatic review (自动审单): rules approve or hold, and say why on the timeline."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orderhub.fulfilment.models import BlacklistEntry, ReviewRule, ReviewRun
from orderhub.fulfilment.review import order_auto_review, review_rule_dry_run
from orderhub.fulfilment.timeline import fulfilment_timeline
from orderhub.orders.models import HoldReason, OperationLog, PhoneKind
from orderhub.orders.services import LineDraft
from orderhub.orders.states import OrderStatus


@pytest.fixture
def stocked(warehouses, skus, stock_in) -> None:
    for sku in skus.values():
        stock_in(warehouses["HZ"], sku, 100)


def _open_holds(order) -> dict[str, str]:
    return {h.reason: h.detail for h in order.holds.filter(resolved_at=None)}


def test_clean_order_is_approved_automatically_with_every_rule_recorded(make_order, stocked, staff) -> None:
    order = make_order()
    outcome = order_auto_review(order_id=order.pk)
    assert outcome.approved
    order.refresh_from_db()
    assert order.status == OrderStatus.SPLIT
    entry = OperationLog.objects.filter(order=order, transition="approve").get()
    assert entry.automatic and entry.actor.username == "system"
    assert [r["rule"] for r in entry.details["review"]] == [
        "address_complete",
        "phone_valid",
        "stock_available",
        "amount_threshold",
        "blacklist",
        "remark_keywords",
        "duplicate",
        "credit_limit",
    ]
    assert entry.details["review"][2]["inputs"]["available"] == {"BP-2231": 100}
    # The timeline shows the automatic review and what it looked at.
    review = [e for e in fulfilment_timeline(order) if e.kind == "review"]
    assert review and review[0].title == "自动审单：通过" and review[0].automatic


@pytest.mark.parametrize(
    ("overrides", "reason", "text"),
    [
        ({"receiver_phone": "1381234"}, HoldReason.INVALID_PHONE, "格式无效"),
        ({"remark": "麻烦改地址到公司，加急"}, HoldReason.REMARK_KEYWORD, "改地址、加急"),
        (
            {"lines": [LineDraft("BP-2231", 500, Decimal("88.00"))]},
            HoldReason.STOCK_CONFLICT,
            "BP-2231 需 500，可用 100",
        ),
        ({"district": ""}, HoldReason.INCOMPLETE_ADDRESS, "district"),
    ],
)
def test_each_rule_holds_with_its_reason(make_order, stocked, overrides, reason, text) -> None:
    order = make_order(**overrides)
    outcome = order_auto_review(order_id=order.pk)
    assert not outcome.approved
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_REVIEW
    holds = _open_holds(order)
    assert reason in holds and text in holds[reason]
    run = ReviewRun.objects.get(order=order)
    assert run.outcome == "held"


def test_amount_threshold_from_the_managers_table(make_order, stocked) -> None:
    ReviewRule.objects.create(
        position=1, name="超5千人工审", rule="amount_threshold", params={"threshold": "5000"}
    )
    order = make_order(lines=[LineDraft("BP-2231", 60, Decimal("88.00"))])  # 5,280
    order_auto_review(order_id=order.pk)
    order.refresh_from_db()
    assert _open_holds(order)[HoldReason.AMOUNT_REVIEW] == "[超5千人工审] 订单金额 5280.00 超过 5000"
    # Only the configured rule ran.
    assert [r["rule"] for r in ReviewRun.objects.get(order=order).results] == ["amount_threshold"]


def test_blacklisted_phone_and_customer(make_order, stocked, customer) -> None:
    BlacklistEntry.objects.create(kind="phone", value="13812345678", note="多次拒收")
    order = make_order()
    order_auto_review(order_id=order.pk)
    order.refresh_from_db()
    assert "多次拒收" in _open_holds(order)[HoldReason.BLACKLISTED]


def test_duplicate_same_receiver_and_sku_within_hours(make_order, stocked) -> None:
    now = timezone.now()
    first = make_order(ordered_at=now - timedelta(hours=3))
    second = make_order(ordered_at=now)
    far = make_order(ordered_at=now - timedelta(hours=40), lines=[LineDraft("OF-1102", 1, Decimal(1))])
    order_auto_review(order_id=second.pk)
    second.refresh_from_db()
    assert first.order_no in _open_holds(second)[HoldReason.DUPLICATE]
    assert far.order_no not in _open_holds(second)[HoldReason.DUPLICATE]


def test_dealer_credit_limit(make_order, stocked, customer) -> None:
    customer.credit_limit = Decimal("3000")
    customer.save()
    make_order()  # 1,760 open
    order = make_order()  # +1,760 = 3,520 > 3,000
    ReviewRule.objects.create(position=1, name="信用额度", rule="credit_limit")
    order_auto_review(order_id=order.pk)
    order.refresh_from_db()
    assert "3520.00 超过信用额度 3000.00" in _open_holds(order)[HoldReason.CREDIT_LIMIT]


def test_masked_platform_phone_passes_by_default(make_order, stocked) -> None:
    order = make_order(channel_code="pdd", receiver_phone="138****5678", phone_kind=PhoneKind.MASKED)
    assert order_auto_review(order_id=order.pk).approved


def test_stock_hold_is_lifted_when_stock_arrives(make_order, stocked, warehouses, skus, stock_in) -> None:
    order = make_order(lines=[LineDraft("OF-1102", 150, Decimal("10.00"))])
    assert not order_auto_review(order_id=order.pk).approved
    stock_in(warehouses["GZ"], skus["OF-1102"], 100)
    assert order_auto_review(order_id=order.pk).approved
    order.refresh_from_db()
    assert order.status == OrderStatus.SPLIT
    assert order.holds.get().resolution == "自动审单复核通过"


def test_dry_run_lists_the_orders_a_rule_would_have_held(make_order, stocked) -> None:
    make_order(remark="请加急")
    make_order(remark="谢谢")
    old = make_order(remark="加急", ordered_at=timezone.now() - timedelta(days=30))
    checked, held = review_rule_dry_run(rule="remark_keywords", params={"keywords": ["加急"]}, days=7)
    assert checked == 2 and [h.detail for h in held] == ["备注含：加急"]
    assert old.order_no not in {h.order_no for h in held}


@pytest.fixture
def person_holds_while_rules_read(staff):
    """A review rule (the registry's extension point) during whose first read a customer
    service agent holds the order by hand, as could happen between the rules' reads and the
    review's write transaction."""
    from orderhub.accounts.roles import Role
    from orderhub.fulfilment.review import RULES, review_rule
    from orderhub.orders.services import order_hold

    calls = []

    @review_rule("test_agent_meanwhile", "客服同时拦截", HoldReason.MANUAL)
    def _agent(order, params):
        calls.append(order.version)
        if len(calls) == 1:
            order_hold(
                order_id=order.pk,
                reason=HoldReason.MANUAL,
                actor=staff[Role.CUSTOMER_SERVICE],
                detail="客户来电改期",
            )
        return True, "", {}

    yield calls
    RULES.pop("test_agent_meanwhile")


def test_a_hold_placed_while_the_rules_read_is_respected(
    make_order, stocked, person_holds_while_rules_read
) -> None:
    order = make_order()
    outcome = order_auto_review(order_id=order.pk)
    # The order changed after the rules read it: it was reviewed again, and the agent's hold stands.
    assert len(person_holds_while_rules_read) == 2
    assert not outcome.approved and outcome.order.status == OrderStatus.PENDING_REVIEW
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_REVIEW
    assert _open_holds(order) == {HoldReason.MANUAL: "客户来电改期"}
    assert not OperationLog.objects.filter(order=order, transition="approve").exists()
    assert ReviewRun.objects.filter(order=order).count() == 1
