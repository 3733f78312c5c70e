"""The stall monitor (物流停滞) on a controlled clock: exact threshold edges, per-carrier and
per-province thresholds, who hears about it, and how a stalled card comes back."""

from __future__ import annotations

import io
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orderhub.accounts.roles import Role
from orderhub.core.errors import PermissionDenied
from orderhub.core.jobs import _PERIODIC, jobs_run_pending
from orderhub.notify.models import Delivery, InboxMessage, NotifyChannel
from orderhub.orders.models import OperationLog, Order, PhoneKind
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus as S
from orderhub.tracking.adapters.base import CarrierEvent
from orderhub.tracking.adapters.simulated import SimulatedCarrier
from orderhub.tracking.carriers import TrackingStatus as TS
from orderhub.tracking.conf import tracking_conf
from orderhub.tracking.models import Alert, Shipment
from orderhub.tracking.monitor import stall_due, stall_scan
from orderhub.tracking.services import shipment_ref, tracking_record, tracking_refresh
from orderhub.tracking.thresholds import stall_threshold_set
from tests.tracking.conftest import T0, H, shipment_of

SEC = timedelta(seconds=1)
record = partial(tracking_record, source="push")


def _event(at, text="快件已到达【杭州转运中心】", status=TS.IN_TRANSIT) -> CarrierEvent:
    return CarrierEvent(at=at, status=status, description=text, area="杭州")


def _last_log(order: Order) -> OperationLog:
    return OperationLog.objects.filter(order=order).order_by("-seq").first()


def test_a_parcel_silent_one_second_short_of_the_threshold_is_not_stalled(ship) -> None:
    order = ship()
    record(shipment_id=shipment_of(order).pk, events=[_event(T0 + 2 * H)], now=T0 + 2 * H)
    result = stall_scan(now=T0 + 26 * H - SEC)
    assert result.due == 0 and result.stalled == []
    assert Order.objects.get(pk=order.pk).status == S.SHIPPED


def test_a_parcel_silent_exactly_the_threshold_is_stalled_with_its_last_event(ship) -> None:
    order = ship()
    shipment = shipment_of(order)
    record(shipment_id=shipment.pk, events=[_event(T0 + 2 * H)], now=T0 + 2 * H)
    result = stall_scan(now=T0 + 26 * H)
    assert result.stalled == [shipment.pk] and result.orders_moved == [order.pk]
    order.refresh_from_db()
    assert order.status == S.EXCEPTION
    entry = _last_log(order)
    assert (entry.transition, entry.automatic, entry.actor_name) == ("flag_exception", True, "系统")
    assert entry.at == T0 + 26 * H
    assert entry.reason == (
        f"物流停滞：中通快递 {shipment.tracking_no} 已 24 小时无物流更新（阈值 24 小时）；"
        "最后一条：2026-12-12 11:00 快件已到达【杭州转运中心】"
    )
    assert entry.details["kind"] == "stalled"
    assert entry.details["last_event"]["description"] == "快件已到达【杭州转运中心】"
    shipment.refresh_from_db()
    assert (shipment.alert, shipment.stall_due_at) == (Alert.STALLED, None)


def test_a_parcel_with_no_event_at_all_counts_from_scan_out(ship) -> None:
    order = ship()
    assert stall_scan(now=T0 + 24 * H - SEC).due == 0
    stall_scan(now=T0 + 24 * H)
    entry = _last_log(order)
    assert entry.to_status == S.EXCEPTION
    assert "自发货（2026-12-12 09:00）起无任何物流记录" in entry.reason


def test_each_new_event_restarts_the_clock(ship) -> None:
    order = ship()
    shipment = shipment_of(order)
    for hours in (3, 20, 40):
        record(shipment_id=shipment.pk, events=[_event(T0 + hours * H, f"第{hours}小时")], now=T0 + hours * H)
        assert stall_scan(now=T0 + hours * H + 24 * H - SEC).due == 0
    assert stall_scan(now=T0 + 64 * H).stalled == [shipment.pk]


def test_scanning_twice_raises_a_stall_once(ship) -> None:
    order = ship()
    stall_scan(now=T0 + 30 * H)
    again = stall_scan(now=T0 + 31 * H)
    assert again.due == 0
    assert OperationLog.objects.filter(order=order, to_status=S.EXCEPTION).count() == 1
    assert Delivery.objects.filter(order=order, channel=NotifyChannel.SMS).count() == 1


def test_the_scan_is_one_query_when_nothing_is_due(ship) -> None:
    for _ in range(3):
        ship()
    with CaptureQueriesContext(connection) as queries:
        result = stall_scan(now=T0 + 10 * H)
    assert result.due == 0
    assert len(queries.captured_queries) == 1
    assert '"stall_due_at" <=' in queries.captured_queries[0]["sql"]


def test_thresholds_per_carrier_and_per_destination_province(ship, staff, make_order) -> None:
    lg = staff[Role.LOGISTICS]
    stall_threshold_set(actor=lg, carrier="sf", hours=12)
    stall_threshold_set(actor=lg, province_code="650000", hours=72)  # 新疆
    sf_local = ship(carrier="sf")
    zto_local = ship(carrier="zto")
    xinjiang = make_order(
        province="新疆维吾尔自治区", province_code="650000", city="乌鲁木齐市", city_code="650100"
    )
    zto_far = ship(carrier="zto", order=xinjiang)
    sf_far = ship(carrier="sf", order=make_order(province="新疆维吾尔自治区", province_code="650000"))
    due = {
        sf_local.pk: T0 + 12 * H,
        zto_local.pk: T0 + 24 * H,
        zto_far.pk: T0 + 72 * H,
        sf_far.pk: T0 + 72 * H,  # the more patient of the carrier and the province rule
    }
    for order_id, at in due.items():
        assert Shipment.objects.get(order_id=order_id).stall_due_at == at
    # A carrier + province rule beats both.
    stall_threshold_set(actor=lg, carrier="sf", province_code="650000", hours=48)
    assert Shipment.objects.get(order_id=sf_far.pk).stall_due_at == T0 + 48 * H
    assert [o for _s, o in stall_due(now=T0 + 24 * H)] == [sf_local.pk, zto_local.pk]


def test_changing_a_threshold_retimes_parcels_already_watched(ship, staff) -> None:
    order = ship(carrier="yunda")
    assert shipment_of(order).stall_due_at == T0 + 24 * H
    stall_threshold_set(actor=staff[Role.MANAGER], hours=36)  # any carrier, any province
    assert shipment_of(order).stall_due_at == T0 + 36 * H
    stall_threshold_set(actor=staff[Role.MANAGER], hours=None)
    assert shipment_of(order).stall_due_at == T0 + 24 * H


def test_only_logistics_or_managers_set_thresholds(staff) -> None:
    with pytest.raises(PermissionDenied):
        stall_threshold_set(actor=staff[Role.SALES], carrier="zto", hours=48)


def test_the_receiver_gets_an_sms_and_logistics_and_the_salesperson_a_push(ship, staff) -> None:
    order = ship()
    stall_scan(now=T0 + 25 * H)
    # Owed in the stall's own transaction, through the notify app's outbox.
    (sms,) = Delivery.objects.filter(order=order, channel=NotifyChannel.SMS)
    assert (sms.address, sms.sms_template) == ("13812345678", "SMS_480100001")
    assert sms.sms_params == {
        "name": "王师傅",
        "order_no": order.order_no,
        "carrier": "中通快递",
        "tracking_no": shipment_of(order).tracking_no,
    }
    assert "物流信息暂未更新" in sms.body
    # The push is the 物流异常 transition's notice, whose reason names the stall: one message
    # each for the logistics clerk and the order's salesperson, not two.
    jobs_run_pending()
    for person in (staff[Role.LOGISTICS], staff[Role.SALES]):
        (message,) = InboxMessage.objects.filter(order=order, user=person, title__contains="物流异常")
        assert "物流停滞：中通快递" in message.body and "已 25 小时无物流更新" in message.body
        assert not InboxMessage.objects.filter(order=order, user=person, title__contains="物流停滞").exists()


def test_a_stall_on_a_card_already_in_exception_raises_the_stalled_event(ship, staff) -> None:
    from orderhub.tracking.services import tracking_start

    order = ship(tracking_no="ZT-B-0001")
    tracking_start(order=order, carrier="zto", tracking_no="ZT-B-0002", now=T0)
    first = Shipment.objects.get(tracking_no="ZT-B-0001")
    record(shipment_id=first.pk, events=[_event(T0 + 5 * H, "收件人拒签", TS.REJECTED)], now=T0 + 5 * H)
    assert Order.objects.get(pk=order.pk).status == S.EXCEPTION
    # The second parcel stalls: no transition, so the "stalled" event tells the people.
    result = stall_scan(now=T0 + 24 * H)
    assert result.orders_moved == [] and len(result.stalled) == 1
    jobs_run_pending()
    message = InboxMessage.objects.get(order=order, user=staff[Role.LOGISTICS], title__contains="物流停滞")
    assert "ZT-B-0002" in message.body
    assert Delivery.objects.filter(order=order, channel=NotifyChannel.SMS).count() == 1


def test_no_sms_to_a_platform_masked_phone(ship, make_order) -> None:
    order = make_order()
    Order.objects.filter(pk=order.pk).update(phone_kind=PhoneKind.MASKED, receiver_phone="138****5678")
    ship(order=Order.objects.get(pk=order.pk))
    stall_scan(now=T0 + 25 * H)
    assert not Delivery.objects.filter(order=order, channel=NotifyChannel.SMS).exists()
    assert Order.objects.get(pk=order.pk).status == S.EXCEPTION


def test_when_events_resume_the_card_returns_to_shipped(ship) -> None:
    order = ship()
    shipment = shipment_of(order)
    record(shipment_id=shipment.pk, events=[_event(T0 + 2 * H)], now=T0 + 2 * H)
    stall_scan(now=T0 + 26 * H)
    outcome = record(
        shipment_id=shipment.pk, events=[_event(T0 + 30 * H, "快件已从【杭州转运中心】发出")], now=T0 + 31 * H
    )
    assert outcome.order_moved_to == S.SHIPPED
    entry = _last_log(order)
    assert (entry.transition, entry.automatic) == ("resume", True)
    assert (
        entry.reason
        == f"物流恢复：中通快递 {shipment.tracking_no} — 快件已从【杭州转运中心】发出（2026-12-13 15:00）"
    )
    shipment.refresh_from_db()
    assert shipment.alert == Alert.NONE and shipment.stall_due_at == T0 + 54 * H


def test_a_late_report_of_old_news_does_not_lift_the_stall(ship) -> None:
    order = ship()
    shipment = shipment_of(order)
    stall_scan(now=T0 + 24 * H)
    # At hour 40 the carrier reports a scan from hour 10: still silent for 30 h > 24 h.
    record(shipment_id=shipment.pk, events=[_event(T0 + 10 * H)], now=T0 + 40 * H)
    assert Order.objects.get(pk=order.pk).status == S.EXCEPTION
    shipment.refresh_from_db()
    assert shipment.alert == Alert.STALLED and shipment.last_event_at == T0 + 10 * H


def test_the_simulated_stall_is_detected_then_resumes_then_completes(ship, simulate) -> None:
    simulate(STALL_RATE=1.0)
    order = ship()
    shipment = shipment_of(order)
    story = SimulatedCarrier.from_settings().story(shipment_ref(shipment))
    gap = max(range(1, len(story)), key=lambda i: story[i].at - story[i - 1].at)
    before, after = story[gap - 1], story[gap]
    # Polled every hour, as the worker would; scanned right when the threshold is reached.
    tracking_refresh(shipment_id=shipment.pk, now=before.at)
    assert stall_scan(now=before.at + 24 * H - SEC).due == 0
    assert stall_scan(now=before.at + 24 * H).orders_moved == [order.pk]
    tracking_refresh(shipment_id=shipment.pk, now=after.at)
    assert Order.objects.get(pk=order.pk).status == S.SHIPPED
    tracking_refresh(shipment_id=shipment.pk, now=story[-1].at)
    assert Order.objects.get(pk=order.pk).status == S.COMPLETED
    moves = list(OperationLog.objects.filter(order=order, seq__gt=5).values_list("transition", flat=True))
    assert moves == ["flag_exception", "resume", "complete"]


def test_a_person_resumes_a_stalled_card_and_the_clock_restarts(ship, staff) -> None:
    order = ship()
    stall_scan(now=T0 + 24 * H)
    order_transition(
        order_id=order.pk,
        to=S.SHIPPED,
        actor=staff[Role.LOGISTICS],
        reason="已联系网点，今日发出",
        now=T0 + 28 * H,
    )
    shipment = shipment_of(order)
    assert (shipment.alert, shipment.stall_due_at) == (Alert.NONE, T0 + 52 * H)
    assert stall_scan(now=T0 + 52 * H - SEC).due == 0
    assert stall_scan(now=T0 + 52 * H).orders_moved == [order.pk]


def test_a_person_closes_a_stalled_card_and_it_is_no_longer_followed(ship, staff) -> None:
    order = ship()
    stall_scan(now=T0 + 24 * H)
    order_transition(
        order_id=order.pk,
        to=S.COMPLETED,
        actor=staff[Role.CUSTOMER_SERVICE],
        reason="客户已自提",
        now=T0 + 30 * H,
    )
    shipment = shipment_of(order)
    assert (shipment.active, shipment.stall_due_at, shipment.alert) == (False, None, Alert.NONE)
    assert _last_log(order).actor_name == staff[Role.CUSTOMER_SERVICE].display_name
    # A late signed-for event is stored but moves nothing.
    record(shipment_id=shipment.pk, events=[_event(T0 + 40 * H, "已签收", TS.DELIVERED)], now=T0 + 40 * H)
    assert Order.objects.get(pk=order.pk).status == S.COMPLETED


def test_an_order_with_two_parcels_completes_when_both_are_signed(ship, staff) -> None:
    from orderhub.tracking.services import tracking_start

    order = ship(tracking_no="ZT-A-0001")
    second = tracking_start(order=order, carrier="zto", tracking_no="ZT-A-0002", now=T0)
    first = Shipment.objects.get(tracking_no="ZT-A-0001")
    signed = _event(T0 + 30 * H, "您的快件已签收", TS.DELIVERED)
    assert record(shipment_id=first.pk, events=[signed], now=T0 + 30 * H).order_moved_to is None
    assert Order.objects.get(pk=order.pk).status == S.SHIPPED
    # The second parcel is silent: it alone stalls the card.
    assert stall_scan(now=T0 + 24 * H).stalled == [second.pk]
    moved = record(shipment_id=second.pk, events=[signed], now=T0 + 40 * H)
    assert moved.order_moved_to == S.COMPLETED


def test_detection_lag_is_bounded_by_the_scan_period() -> None:
    """The worker enqueues the stall scan every STALL_SCAN_SECONDS (≤ 5 min), so a parcel that
    crosses its threshold is raised within that period plus the worker's pick-up delay."""
    task, every = _PERIODIC["tracking_stall_scan"]
    assert task.module_path == "orderhub.tracking.tasks.stall_scan"
    assert every() <= 300 == tracking_conf()["STALL_SCAN_SECONDS"]


def test_the_periodic_job_runs_the_scan_through_the_worker(ship) -> None:
    from orderhub.tracking import tasks

    order = ship(at=timezone.now() - 25 * H)  # the job reads the real clock
    tasks.stall_scan.enqueue()
    jobs_run_pending()
    assert Order.objects.get(pk=order.pk).status == S.EXCEPTION


def test_after_changing_the_default_threshold_a_command_retimes_watched_parcels(ship, settings) -> None:
    from django.core.management import call_command

    order = ship()
    settings.TRACKING = {**settings.TRACKING, "STALL_HOURS": 36.0}
    out = io.StringIO()
    call_command("tracking_deadlines", stdout=out)
    assert out.getvalue().strip() == "1 watched parcel(s) re-timed"
    assert shipment_of(order).stall_due_at == T0 + 36 * H
