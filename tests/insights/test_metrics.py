"""Each dashboard figure computed from a history with known timings, exactly."""

from __future__ import annotations

import pytest

from orderhub.insights.scope import Period, Scope
from orderhub.insights.selectors import dashboard_get
from tests.insights.conftest import CS, NOW, WH1, H, History, Story, at, forward

pytestmark = pytest.mark.django_db

PERIOD = Period(NOW.date().replace(day=10), NOW.date().replace(day=11))


def test_time_to_ship_and_deliver(story: Story) -> None:
    board = dashboard_get(period=PERIOD, scope=Scope(), now=NOW)
    s = board.summary

    assert s["orders_in"].current == 6 and s["orders_in"].previous == 1
    assert s["shipped"].current == 4
    # shipped: F 4 h, C 4 h, B 5 h, A 6 h → nearest rank
    assert (s["ship_p50"].current, s["ship_p95"].current, s["ship_p99"].current) == (4 * H, 6 * H, 6 * H)
    assert s["ship_p95"].previous == 5 * H
    # delivered: B 26 h, A 30 h
    assert (s["complete_p50"].current, s["complete_p95"].current) == (26 * H, 30 * H)
    assert s["late_rate"].current == 1.0  # A had a promise and missed it; B had none


def stage(board, state):  # type: ignore[no-untyped-def]
    return next(r for r in board.stages if r.state == state)


def test_dwell_and_rejection_rate_per_state(story: Story) -> None:
    board = dashboard_get(period=PERIOD, scope=Scope(), now=NOW)

    review = stage(board, "pending_review")  # A, B, C, F 1 h each; D 6 h until cancelled
    assert (review.exits, review.avg, review.p95, review.backward) == (5, 2 * H, 6 * H, 0)
    alloc = stage(board, "allocating")  # A 3 h; B 1 h twice; C, F 1 h
    assert (alloc.exits, alloc.avg, alloc.p95) == (5, 5040, 3 * H)
    assert alloc.rejection == 0 and alloc.prev_rejection == 0.5  # G went back once in 2 exits
    label = stage(board, "label_printed")  # B's waybill voided once in 5 exits
    assert (label.exits, label.backward, label.rejection) == (5, 1, 0.2)
    shipped = stage(board, "shipped")  # A 24 h, B 21 h, F 24.5 h (to 物流异常)
    assert (shipped.exits, shipped.p95) == (3, int(24.5 * H))


def test_operator_outlier_against_team_average(story: Story) -> None:
    board = dashboard_get(period=PERIOD, scope=Scope(), now=NOW)
    printing = {r.name: r for r in board.operators if r.transition == "print_label"}

    # warehouse1 took 3 h and 1 h, warehouse2 1 h three times: team 7 h / 5 = 1.4 h
    assert printing["warehouse1"].avg == 2 * H and printing["warehouse1"].team_avg == 1.4 * H
    assert printing["warehouse1"].ratio == pytest.approx(2 / 1.4)
    assert printing["warehouse1"].outlier
    assert not printing["warehouse2"].outlier
    shipping = {r.name: r for r in board.operators if r.transition == "ship"}
    assert not shipping["warehouse1"].outlier  # 1 h against 0.875 h: 14 % slower
    # automatic moves are nobody's work
    assert not [r for r in board.operators if r.name == "system-bot"]


def test_interception_rate_by_reason(story: Story) -> None:
    board = dashboard_get(period=PERIOD, scope=Scope(), now=NOW)
    s = board.summary

    assert s["held"].current == 2  # D on creation (address), E by the stock rule
    assert s["held_rate"].current == pytest.approx(2 / 6)
    assert s["stock_conflicts"].current == 1
    assert {r.reason: r.orders for r in board.reasons} == {"incomplete_address": 1, "stock_conflict": 1}


def test_detection_lag_and_exceptions_by_carrier(story: Story) -> None:
    board = dashboard_get(period=PERIOD, scope=Scope(), now=NOW)

    # F shipped 10th 10:00, silent 24 h → due 11th 10:00; the scan moved it at 10:30
    assert board.summary["exceptions"].current == 1
    assert board.summary["lag_avg"].current == 1800
    assert board.summary["lag_p95"].current == 1800
    assert [(c.carrier, c.name, c.exceptions) for c in board.carriers] == [("zto", "中通快递", 1)]


def test_manual_touches_per_finished_order(story: Story) -> None:
    board = dashboard_get(period=PERIOD, scope=Scope(), now=NOW)

    # A: 4 people's moves (delivery was automatic); B: 7; D: 1 (cancel) → 12 / 3
    assert board.summary["finished"].current == 3
    assert board.summary["touches_per_order"].current == 4.0


def test_today_at_a_glance(story: Story) -> None:
    board = dashboard_get(period=PERIOD, scope=Scope(), now=NOW)
    today = {f.metric: (f.value, f.yesterday) for f in board.today}

    assert today["orders_in"] == (1, 3)  # H today; C, D, E yesterday
    assert today["shipped"] == (1, 1)  # H today; C yesterday
    assert today["held_now"][0] == 1  # E (D was cancelled)
    assert today["exception_now"][0] == 1  # F
    assert today["late_now"][0] == 1  # F, promised 11th 18:00, still not delivered


def test_daily_percentiles(story: Story) -> None:
    board = dashboard_get(period=PERIOD, scope=Scope(), now=NOW)
    by_day = {p.day.day: p for p in board.daily}

    assert by_day[10].ship == {50: 5 * H, 95: 6 * H, 99: 6 * H}  # F 4 h, B 5 h, A 6 h
    assert by_day[11].ship == {50: 4 * H, 95: 4 * H, 99: 4 * H}  # C
    assert by_day[11].complete == {50: 26 * H, 95: 30 * H, 99: 30 * H}
    assert by_day[10].complete == {50: None, 95: None, 99: None}


def test_self_service_share(story: Story, monkeypatch: pytest.MonkeyPatch) -> None:
    from orderhub.insights import selectors
    from orderhub.portal.models import LookupEvent

    for hour in (9, 15, 20):
        LookupEvent.objects.create(at=at(10, hour), kind="phone", orders_found=1)
    LookupEvent.objects.create(at=at(9, 12), kind="order_no", orders_found=1)  # previous period
    monkeypatch.setattr(selectors, "staff_inquiries_count", lambda s, e: 1)

    board = dashboard_get(period=PERIOD, scope=Scope(), now=NOW)

    assert board.summary["lookups"].current == 3
    assert board.summary["self_service_share"].current == 0.75  # 3 / (3 + 1)
    assert board.summary["self_service_share"].previous == 0.5


def test_staff_inquiries_are_counted_when_the_board_records_them(story: Story) -> None:
    from django.apps import apps

    from orderhub.insights.selectors import staff_inquiries_count

    try:
        model = apps.get_model("web", "StaffInquiry")
    except LookupError:
        assert staff_inquiries_count(at(10, 0), at(12, 0)) == 0
        return
    from orderhub.accounts.models import User

    user = User.objects.get(username="customer_service1")
    fields = {f.name for f in model._meta.fields}
    row = {"user": user, "order": story.orders["A"], "at": at(10, 9)}
    row.update({k: "13812345678" for k in ("query",) if k in fields})
    row.update({k: "phone" for k in ("matched_by",) if k in fields})
    model.objects.create(**{k: v for k, v in row.items() if k in fields})
    assert staff_inquiries_count(at(10, 0), at(12, 0)) == 1


def test_previous_period_and_stored_days_agree_with_live_counting(story: Story) -> None:
    from orderhub.insights.models import DayRollup
    from orderhub.insights.rollup import insights_refresh, live

    insights_refresh(now=NOW)
    stored = DayRollup.objects.filter(scope="").values_list("day", flat=True)
    assert set(stored) >= {PERIOD.first, PERIOD.last}
    board = dashboard_get(period=PERIOD, scope=Scope(), now=NOW)
    fresh = live(PERIOD.start, PERIOD.end, Scope())
    assert board.summary["shipped"].current == sum(a.counts["shipped"] for a in fresh.values())
    assert board.summary["orders_in"].previous == 1


def test_filters_narrow_every_figure(story: Story, history: History) -> None:
    from orderhub.catalog.models import CustomerTier
    from orderhub.ingest.models import Channel

    pdd = Channel.objects.get(code="pdd")
    other = history.order(at(10, 12), channel_code="pdd", customer_tier=CustomerTier.B)
    history.walk(other, forward(10, 12, [1, 1, 1, 9], [CS, CS, WH1, WH1]))  # shipped in 12 h

    def summary(**scope: object) -> dict:  # type: ignore[type-arg]
        return dashboard_get(period=PERIOD, scope=Scope(**scope), now=NOW).summary  # type: ignore[arg-type]

    everything = summary()
    only_pdd = summary(channel=pdd.pk)
    pdd_and_b = summary(channel=pdd.pk, tier=CustomerTier.B)
    pdd_and_a = summary(channel=pdd.pk, tier=CustomerTier.A)

    assert everything["orders_in"].current == 7 and everything["ship_p99"].current == 12 * H
    assert only_pdd["orders_in"].current == 1 and only_pdd["ship_p50"].current == 12 * H
    assert pdd_and_b["shipped"].current == 1
    assert pdd_and_a["shipped"].current == 0 and pdd_and_a["ship_p50"].current is None


def test_the_periodic_job_stores_days_touched_since_its_last_run(story: Story, history: History) -> None:
    from orderhub.core.jobs import _PERIODIC
    from orderhub.insights.models import DayRollup
    from orderhub.insights.rollup import insights_refresh

    assert "insights_rollup" in _PERIODIC
    insights_refresh(now=NOW)
    first = DayRollup.objects.get(day=PERIOD.last, scope="").data["counts"]["orders_in"]
    assert insights_refresh(now=NOW) == 0  # nothing new: nothing counted again

    history.order(at(11, 23))  # an order dated yesterday arrives late (an import)
    insights_refresh(now=NOW)

    assert DayRollup.objects.get(day=PERIOD.last, scope="").data["counts"]["orders_in"] == first + 1
    today = DayRollup.objects.get(day=NOW.date(), scope="")  # today too, up to a watermark
    assert today.through_log_id is not None and today.data["counts"]["orders_in"] == 1


def test_late_orders_are_the_open_ones_past_their_promise(story: Story) -> None:
    from orderhub.insights.selectors import snapshot_querysets
    from orderhub.orders.models import Order
    from orderhub.orders.states import TERMINAL

    # The snapshot spells out the finished statuses (as the partial index does): keep them in step.
    assert set(TERMINAL) == {"completed", "cancelled"}
    late = snapshot_querysets(Scope(), NOW)["late_now"]
    expected = Order.objects.filter(parent__isnull=True, promised_at__lt=NOW).exclude(status__in=TERMINAL)
    assert list(late.values_list("pk", flat=True)) == list(expected.values_list("pk", flat=True)) != []
