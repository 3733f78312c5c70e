"""Today stored up to a watermark by the periodic job, plus the entries after it counted live,
gives exactly the figures of counting the whole day live, wherever the watermark falls."""

from __future__ import annotations

from datetime import date

import pytest
from django.db.models import Max

from orderhub.catalog.models import CustomerTier
from orderhub.ingest.models import Channel
from orderhub.insights.aggregate import Agg
from orderhub.insights.models import DayRollup
from orderhub.insights.rollup import insights_refresh, live, rollup_days
from orderhub.insights.scope import Period, Scope
from orderhub.insights.selectors import dashboard_get, days_load
from orderhub.insights.sources import Ids
from orderhub.orders.models import HoldReason, LogAction, OperationLog, Order, OrderHold
from orderhub.orders.services import order_hold_release
from tests.insights.conftest import CS, LG, NOW, SYS, WH1, History, Story, at, forward

pytestmark = pytest.mark.django_db

TODAY: date = NOW.date()
DAY = Period(TODAY, TODAY)


def busy_morning(story: Story, history: History) -> None:
    """More of today (03-12, before 10:00) for every kind of figure: a delivery, a cancellation
    after a rejection, holds on creation and by rule, a hold again on an order intercepted
    yesterday, a person's exception, a second channel and tier."""
    o = story.orders
    history.move(o["C"], "completed", at(12, 8), LG)  # delivered, with people's touches
    e = o["E"]
    hold = OrderHold.objects.get(order=e, resolved_at__isnull=True)
    order_hold_release(order_id=e.pk, hold_id=hold.pk, actor=history.staff[CS], now=at(12, 7.5))
    history.hold(e, HoldReason.STOCK_CONFLICT, at(12, 8.5))  # intercepted before: not again
    i = history.order(at(12, 7.25), address_detail="")  # held on creation
    history.hold(i, HoldReason.STOCK_CONFLICT, at(12, 8.75))  # and by the stock rule
    j = history.order(at(12, 6))
    j = history.walk(
        j,
        [
            ("split", at(12, 6.5), CS),
            ("allocating", at(12, 7), CS),
            ("pending_review", at(12, 7.5), WH1),  # 分仓驳回
            ("split", at(12, 8), CS),
            ("allocating", at(12, 8.5), SYS),
        ],
    )
    history.move(j, "cancelled", at(12, 9), CS, "客户取消")
    k = history.order(at(12, 5), channel_code="pdd", customer_tier=CustomerTier.B, promised_at=at(12, 9))
    k = history.walk(k, forward(12, 5, [0.5, 0.5, 1, 1], [CS, CS, WH1, WH1]))  # shipped 8:00
    history.move(k, "exception", at(12, 9.5), LG)  # a person raised it: no detection lag


def same(got: Agg, expected: Agg) -> None:
    assert got.to_data() == expected.to_data()
    assert got.finish().samples == expected.finish().samples


def orders_through(log_id: int) -> int:
    """The newest order whose creation was logged at or before this entry."""
    found = OperationLog.objects.filter(action=LogAction.CREATE, id__lte=log_id).aggregate(m=Max("order_id"))
    return found["m"] or 0


def test_stored_today_plus_the_tail_equals_today_counted_live(story: Story, history: History) -> None:
    busy_morning(story, history)
    pdd = Channel.objects.get(code="pdd")
    manual = Channel.objects.get(code="manual")
    today = OperationLog.objects.filter(at__gte=DAY.start, at__lt=DAY.end).order_by("id")
    entries = list(today.values_list("id", flat=True))
    assert len(entries) > 20
    cuts = [entries[0] - 1, *entries]  # before today's first entry, then after each one
    scopes = [Scope(), Scope(channel=pdd.pk), Scope(tier=CustomerTier.A), Scope(channel=manual.pk, tier="a")]
    expected = {s: live(DAY.start, DAY.end, s).get(TODAY, Agg()) for s in scopes}
    assert expected[Scope()].counts["held"] == 1 and expected[Scope()].counts["exceptions"] == 1
    assert expected[Scope()].backward["allocating"] == 1 and expected[Scope()].counts["finished"] == 2
    assert expected[Scope(channel=pdd.pk)].counts["shipped"] == 1

    for cut in cuts:
        upto = Ids(log_upto=cut, order_upto=orders_through(cut))
        DayRollup.objects.filter(day=TODAY).delete()
        rollup_days([TODAY], extra=[scopes[-1]], now=NOW, upto=upto)
        assert DayRollup.objects.get(day=TODAY, scope="").through_log_id == cut
        for scope in scopes:
            same(days_load(DAY, scope, now=NOW)[TODAY], expected[scope])


def test_the_dashboard_after_the_job_ran_mid_morning(story: Story, history: History) -> None:
    """The job runs at 08:00 (controlled clock), work goes on; at 10:00 every figure of the
    dashboard is what counting the whole day live gives."""
    insights_refresh(now=at(12, 8))
    stored = DayRollup.objects.get(day=TODAY, scope="")
    busy_morning(story, history)
    assert OperationLog.objects.filter(id__gt=stored.through_log_id, at__gte=DAY.start).count() > 10

    board = dashboard_get(period=DAY, scope=Scope(), now=NOW)
    whole = live(DAY.start, DAY.end, Scope())[TODAY]

    s = board.summary
    assert s["orders_in"].current == whole.counts["orders_in"] == 4  # H, I, J, K
    assert s["shipped"].current == 2 and s["ship_p95"].current == whole.p("ship", 95)
    assert s["completed"].current == 1 and s["held"].current == 1 and s["exceptions"].current == 1
    assert s["touches_per_order"].current == whole.counts["touches"] / 2
    today = {f.metric: f.value for f in board.today}
    assert today["orders_in"] == 4 and today["shipped"] == 2
    review = next(r for r in board.stages if r.state == "allocating")
    assert (review.exits, review.backward) == (whole.exits["allocating"], 1)


def test_the_job_stores_today_with_its_watermark_and_finishes_it_after_midnight(
    story: Story, history: History
) -> None:
    insights_refresh(now=NOW)
    row = DayRollup.objects.get(day=TODAY, scope="")
    assert row.through_log_id == OperationLog.objects.aggregate(m=Max("id"))["m"]
    assert row.through_order_id == Order.objects.aggregate(m=Max("id"))["m"]
    assert row.data["counts"]["orders_in"] == 1
    assert insights_refresh(now=NOW) == 0  # nothing new: nothing counted again

    history.order(at(12, 11))  # more of today
    insights_refresh(now=at(12, 11.1))
    assert DayRollup.objects.get(day=TODAY, scope="").data["counts"]["orders_in"] == 2

    history.order(at(12, 23.9))  # just before midnight; the job runs next at 00:05
    insights_refresh(now=at(13, 0.1))
    finished = DayRollup.objects.get(day=TODAY, scope="")
    assert finished.through_log_id is None and finished.data["counts"]["orders_in"] == 3
    assert DayRollup.objects.get(day=at(13, 0).date(), scope="").through_log_id is not None
