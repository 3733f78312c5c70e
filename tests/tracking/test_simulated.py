"""The simulated carrier drives order cards to 已完成 and to 物流异常, on a clock the test moves."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from itertools import pairwise

import pytest

from orderhub.accounts.roles import Role
from orderhub.orders.models import OperationLog, Order
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus as S
from orderhub.tracking.adapters.base import ShipmentRef
from orderhub.tracking.adapters.simulated import Outcome, Rates, SimulatedCarrier
from orderhub.tracking.carriers import TrackingStatus as TS
from orderhub.tracking.models import Alert, TrackingEvent
from orderhub.tracking.monitor import tracking_poll
from orderhub.tracking.services import tracking_refresh
from tests.tracking.conftest import T0, H, shipment_of


def _ref(no: str, carrier: str = "zto") -> ShipmentRef:
    return ShipmentRef(
        shipment_id=1, carrier=carrier, tracking_no=no, shipped_at=T0, to_area="浙江省-台州市-椒江区"
    )


def _last_log(order: Order) -> OperationLog:
    return OperationLog.objects.filter(order=order).order_by("-seq").first()


def test_a_parcel_story_is_pickup_transit_dispatch_signed_in_time_order() -> None:
    carrier = SimulatedCarrier(seed="s")
    story = carrier.story(_ref("ZT0001"))
    statuses = [e.status for e in story]
    assert statuses[0] == TS.PICKED_UP and statuses[-2:] == [TS.OUT_FOR_DELIVERY, TS.DELIVERED]
    assert set(statuses[1:-2]) == {TS.IN_TRANSIT}
    assert [e.at for e in story] == sorted(e.at for e in story)
    assert "中通快递" in story[0].description and "台州市椒江区营业部" in story[-1].description
    # The same waybill always tells the same story; the clock only reveals more of it.
    assert carrier.story(_ref("ZT0001")) == story
    early = carrier.query(_ref("ZT0001"), now=story[2].at)
    assert early.events == story[:3] and not early.finished
    assert carrier.query(_ref("ZT0001"), now=story[-1].at).finished


def test_sf_is_faster_than_postal_parcels_on_average() -> None:
    carrier = SimulatedCarrier(seed="s")

    def hours(code: str) -> float:
        spans = []
        for i in range(40):
            story = carrier.story(_ref(f"N{i:05d}", code))
            spans.append((story[-1].at - T0).total_seconds() / 3600)
        return sum(spans) / len(spans)

    assert hours("sf") < hours("post")


def test_outcomes_follow_the_configured_rates() -> None:
    carrier = SimulatedCarrier(rates=Rates(stall=0.2, problem=0.1, returned=0.05, rejected=0.05), seed="r")
    counts = Counter(carrier.outcome(_ref(f"R{i:06d}")) for i in range(4000))
    assert counts[Outcome.STALL] / 4000 == pytest.approx(0.2, abs=0.03)
    assert counts[Outcome.PROBLEM] / 4000 == pytest.approx(0.1, abs=0.02)
    assert counts[Outcome.RETURNED] / 4000 == pytest.approx(0.05, abs=0.015)
    assert counts[Outcome.REJECTED] / 4000 == pytest.approx(0.05, abs=0.015)
    assert counts[Outcome.DELIVERED] / 4000 == pytest.approx(0.6, abs=0.03)


def test_a_stalled_story_has_a_silence_longer_than_a_day_then_moves_on() -> None:
    carrier = SimulatedCarrier(rates=Rates(stall=1.0), stall_gap_hours=(30, 30), seed="s")
    story = carrier.story(_ref("ZT0002"))
    gaps = [b.at - a.at for a, b in pairwise(story)]
    assert max(gaps) >= timedelta(hours=30)
    assert story[-1].status == TS.DELIVERED


def test_simulated_carrier_drives_an_order_to_completed(ship) -> None:
    order = ship(carrier="yto")
    assert order.status == S.SHIPPED
    shipment = shipment_of(order)
    assert shipment.provider == "simulated"
    # Half a day in: picked up and moving, still 已发货.
    tracking_refresh(shipment_id=shipment.pk, now=T0 + 12 * H)
    shipment.refresh_from_db()
    assert shipment.status in {TS.PICKED_UP, TS.IN_TRANSIT}
    assert Order.objects.get(pk=order.pk).status == S.SHIPPED
    # A week later: signed for, the card is 已完成, by the system, with the signing as reason.
    outcome = tracking_refresh(shipment_id=shipment.pk, now=T0 + 7 * 24 * H)
    assert outcome.order_moved_to == S.COMPLETED
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    entry = _last_log(order)
    assert entry.automatic and entry.actor_name == "系统" and entry.transition == "complete"
    assert entry.reason.startswith("已签收：圆通速递 ") and "签收人：本人" in entry.reason
    shipment.refresh_from_db()
    assert shipment.delivered_at is not None and not shipment.active and shipment.stall_due_at is None


@pytest.mark.parametrize(
    ("rates", "status", "words"),
    [
        ({"REJECT_RATE": 1.0}, TS.REJECTED, "拒签"),
        ({"RETURN_RATE": 1.0}, TS.PROBLEM, "疑难"),
        ({"PROBLEM_RATE": 1.0}, TS.PROBLEM, "电话无法接通"),
    ],
    ids=["拒签", "退回", "疑难"],
)
def test_simulated_carrier_drives_an_order_to_exception_with_the_reason(ship, simulate, rates, status, words):
    simulate(**rates)
    order = ship()
    shipment = shipment_of(order)
    story = SimulatedCarrier.from_settings().story(_ref(shipment.tracking_no))
    trouble = next(e for e in story if e.status in {TS.REJECTED, TS.PROBLEM})
    tracking_refresh(shipment_id=shipment.pk, now=trouble.at)
    order.refresh_from_db()
    assert order.status == S.EXCEPTION
    entry = _last_log(order)
    assert entry.automatic and entry.transition == "flag_exception"
    assert words in entry.reason and shipment.tracking_no in entry.reason
    assert entry.details["source"] == "tracking" and entry.details["last_event"]["status"] == status
    shipment.refresh_from_db()
    assert shipment.alert == Alert.CARRIER_PROBLEM and shipment.stall_due_at is None


def test_a_returned_parcel_stays_in_exception_until_it_is_back_with_the_sender(ship, simulate) -> None:
    simulate(RETURN_RATE=1.0)
    order = ship()
    shipment = shipment_of(order)
    tracking_refresh(shipment_id=shipment.pk, now=T0 + 30 * 24 * H)
    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == S.EXCEPTION
    assert shipment.status == TS.RETURN_SIGNED and not shipment.active
    assert "退签" in shipment.alert_reason
    # The reason names the return, not only the first 疑难.
    assert TrackingEvent.objects.filter(shipment=shipment, status=TS.RETURNING).exists()


def test_a_problem_that_clears_returns_the_card_to_shipped_then_completed(ship, simulate) -> None:
    simulate(PROBLEM_RATE=1.0)
    order = ship()
    shipment = shipment_of(order)
    story = SimulatedCarrier.from_settings().story(_ref(shipment.tracking_no))
    problem = next(i for i, e in enumerate(story) if e.status == TS.PROBLEM)
    tracking_refresh(shipment_id=shipment.pk, now=story[problem].at)
    assert Order.objects.get(pk=order.pk).status == S.EXCEPTION
    # Re-delivery: the card goes back to 已发货, logged with the event that resumed it.
    moved = tracking_refresh(shipment_id=shipment.pk, now=story[problem + 1].at)
    assert moved.order_moved_to == S.SHIPPED
    entry = _last_log(order)
    assert (entry.transition, entry.automatic) == ("resume", True)
    assert entry.reason.startswith("物流恢复：") and "再次派送" in entry.reason
    tracking_refresh(shipment_id=shipment.pk, now=story[-1].at)
    assert Order.objects.get(pk=order.pk).status == S.COMPLETED


def test_polling_the_same_events_twice_stores_them_once(ship) -> None:
    order = ship()
    shipment = shipment_of(order)
    first = tracking_refresh(shipment_id=shipment.pk, now=T0 + 20 * H)
    again = tracking_refresh(shipment_id=shipment.pk, now=T0 + 20 * H)
    assert first.events_added > 0 and again.events_added == 0
    assert TrackingEvent.objects.filter(shipment=shipment).count() == first.events_added


def test_the_periodic_poll_follows_every_active_simulated_parcel(ship) -> None:
    orders = [ship() for _ in range(3)]
    result = tracking_poll(now=T0 + 7 * 24 * H)
    assert result.polled == 3 and result.failed == 0
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in orders])} == {S.COMPLETED}
    # Delivered parcels are no longer polled.
    assert tracking_poll(now=T0 + 8 * 24 * H).polled == 0


def test_a_person_flagged_exception_is_not_lifted_by_the_carrier(ship, staff) -> None:
    order = ship()
    order_transition(
        order_id=order.pk,
        to=S.EXCEPTION,
        actor=staff[Role.LOGISTICS],
        reason="客户来电：外箱破损",
        now=T0 + H,
    )
    tracking_refresh(shipment_id=shipment_of(order).pk, now=T0 + 7 * 24 * H)
    assert Order.objects.get(pk=order.pk).status == S.EXCEPTION
