"""Each dashboard figure computed from a history with known timings, exactly."""

from __future__ import annotations

import pytest

from orderhub.insights.scope import Period, Scope
from orderhub.insights.selectors import dashboard_get
from tests.insights.conftest import NOW, H, Story

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
