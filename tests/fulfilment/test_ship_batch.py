"""Shipping many orders in one bulk transition does for each what shipping it alone does."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from orderhub.accounts.roles import Role
from orderhub.fulfilment.models import ShipReport, Waybill
from orderhub.fulfilment.waybills import waybills_issue
from orderhub.inventory.models import Reservation, Stock, StockMovement
from orderhub.orders.services import order_transition, order_transition_many
from orderhub.orders.states import OrderStatus

REPORT_JOB = "orderhub.fulfilment.tasks.report_shipment"


def _labelled(allocated, n: int) -> list:
    orders = [allocated(channel_code="pdd", channel_order_no=f"231114-00000000000{i}") for i in range(n)]
    outcomes = waybills_issue(order_ids=[o.pk for o in orders])
    assert all(o.ok for o in outcomes)
    return orders


def _shipped_state(order) -> tuple:
    report = ShipReport.objects.get(order=order)
    waybill = Waybill.objects.get(order=order, status=Waybill.Status.ACTIVE)
    movements = list(
        StockMovement.objects.filter(order=order, kind="ship").values_list(
            "on_hand_delta", "reserved_delta", "note"
        )
    )
    reservations = set(Reservation.objects.filter(order=order).values_list("status", flat=True))
    return report.tracking_number == waybill.number, report.channel_order_no, movements, reservations


def test_a_batch_ships_each_order_as_a_single_ship_does(allocated, carrier_table, staff) -> None:
    single, *batch = _labelled(allocated, 4)
    stock_before = {s.pk: (s.on_hand, s.reserved) for s in Stock.objects.all()}
    jobs_before = DBTaskResult.objects.filter(task_path=REPORT_JOB).count()
    warehouse = staff[Role.WAREHOUSE]
    order_transition(order_id=single.pk, to=OrderStatus.SHIPPED, actor=warehouse)
    moved = order_transition_many(order_ids=[o.pk for o in batch], to=OrderStatus.SHIPPED, actor=warehouse)
    assert len(moved.moved) == 3 and moved.refused == []

    states = {o.pk: _shipped_state(o) for o in [single, *batch]}
    for order in [single, *batch]:
        matches, channel_order_no, movements, reservations = states[order.pk]
        assert matches and channel_order_no == order.channel_order_no
        quantities = sorted(line.quantity for line in order.lines.all())
        assert sorted(-m[0] for m in movements) == quantities  # on-hand leaves the warehouse
        assert all(m[0] == m[1] and m[2] == order.order_no for m in movements)
        assert reservations == {Reservation.Status.CONSUMED}
    assert DBTaskResult.objects.filter(task_path=REPORT_JOB).count() == jobs_before + 4
    units = sum(line.quantity for o in [single, *batch] for line in o.lines.all())
    after = {s.pk: (s.on_hand, s.reserved) for s in Stock.objects.all()}
    on_hand_drop = sum(stock_before[pk][0] - after[pk][0] for pk in after)
    reserved_drop = sum(stock_before[pk][1] - after[pk][1] for pk in after)
    assert on_hand_drop == reserved_drop == units


def test_cancelling_a_batch_gives_every_order_its_stock_back(allocated, staff) -> None:
    orders = [allocated() for _ in range(3)]
    reserved = sum(Stock.objects.values_list("reserved", flat=True))
    assert reserved > 0
    batch = order_transition_many(
        order_ids=[o.pk for o in orders],
        to=OrderStatus.CANCELLED,
        actor=staff[Role.CUSTOMER_SERVICE],
        reason="客户取消",
    )
    assert len(batch.moved) == 3
    assert sum(Stock.objects.values_list("reserved", flat=True)) == 0
    assert set(Reservation.objects.values_list("status", flat=True)) == {Reservation.Status.RELEASED}
    notes = set(StockMovement.objects.filter(kind="release").values_list("order_id", "note"))
    assert notes == {(o.pk, "客户取消") for o in orders}
