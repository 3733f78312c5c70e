"""Autopilot: orders move from 待审核 to 分仓中 on their own when the rules allow; held ones wait."""

from __future__ import annotations

from decimal import Decimal

from orderhub.core.jobs import jobs_run_pending
from orderhub.fulfilment.autopilot import fulfilment_autopilot
from orderhub.fulfilment.tasks import autopilot
from orderhub.orders.models import Order
from orderhub.orders.services import LineDraft
from orderhub.orders.states import OrderStatus


def test_clean_orders_are_allocated_held_ones_wait(make_order, warehouses, skus, stock_in) -> None:
    for sku in skus.values():
        stock_in(warehouses["HZ"], sku, 100)
    clean = make_order(receiver_phone="13900000001", lines=[LineDraft("BP-2231", 2, Decimal(88))])
    fragile = make_order(
        receiver_phone="13900000002",
        lines=[LineDraft("BP-2231", 1, Decimal(1)), LineDraft("HL-8810", 1, Decimal(1))],
    )
    urgent = make_order(receiver_phone="13900000003", remark="改地址")
    counts = fulfilment_autopilot()
    assert counts == {"allocated": 2, "held": 1}
    clean.refresh_from_db()
    assert clean.status == OrderStatus.ALLOCATING and clean.warehouse == warehouses["HZ"]
    fragile.refresh_from_db()
    assert fragile.status == OrderStatus.ALLOCATING  # both parts allocated → the parent follows
    assert Order.objects.filter(parent=fragile, status=OrderStatus.ALLOCATING).count() == 2
    urgent.refresh_from_db()
    assert urgent.status == OrderStatus.PENDING_REVIEW
    # A second run does not review the held order again (nothing changed).
    assert fulfilment_autopilot() == {}


def test_stock_held_order_goes_on_when_stock_arrives(
    make_order, warehouses, skus, stock_in, settings
) -> None:
    settings.ORDERHUB_STOCK_RECHECK_SECONDS = 0
    order = make_order(lines=[LineDraft("OF-1102", 5, Decimal(1))])
    assert fulfilment_autopilot() == {"held": 1}
    stock_in(warehouses["GZ"], skus["OF-1102"], 5)
    assert fulfilment_autopilot() == {"allocated": 1}
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATING and order.warehouse == warehouses["GZ"]


def test_runs_as_a_durable_job(make_order, warehouses, skus, stock_in) -> None:
    stock_in(warehouses["HZ"], skus["BP-2231"], 100)
    order = make_order(lines=[LineDraft("BP-2231", 2, Decimal(88))])
    autopilot.enqueue()
    jobs_run_pending(queues=["periodic"])
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATING


def test_a_part_held_for_stock_goes_on_when_stock_arrives(
    make_order, warehouses, skus, stock_in, settings, staff
) -> None:
    from orderhub.accounts.roles import Role
    from orderhub.inventory.services import stock_adjust
    from orderhub.orders.services import order_transition

    settings.ORDERHUB_STOCK_RECHECK_SECONDS = 0
    stock_in(warehouses["HZ"], skus["BP-2231"], 10)
    stock_in(warehouses["HZ"], skus["HL-8810"], 1)
    order = make_order(
        receiver_phone="13900000009",
        lines=[LineDraft("BP-2231", 1, Decimal(1)), LineDraft("HL-8810", 1, Decimal(1))],
    )
    assert fulfilment_autopilot() == {"allocated": 1}  # approved, fragile part apart, both allocated
    part2 = Order.objects.get(parent=order, part_no=2)
    assert part2.status == OrderStatus.ALLOCATING
    # The lamp breaks on the shelf: the part goes back to review and waits for stock.
    order_transition(
        order_id=part2.pk, to=OrderStatus.PENDING_REVIEW, actor=staff[Role.WAREHOUSE], reason="货损"
    )
    stock_adjust(
        warehouse=warehouses["HZ"], sku=skus["HL-8810"], kind="count", quantity=0, actor=None, note="破损"
    )
    assert fulfilment_autopilot() == {"held": 1}
    stock_in(warehouses["GZ"], skus["HL-8810"], 3)
    assert fulfilment_autopilot() == {"allocated": 1}
    part2.refresh_from_db()
    assert part2.status == OrderStatus.ALLOCATING and part2.warehouse == warehouses["GZ"]


def test_a_run_that_cannot_take_every_order_takes_the_most_urgent_first(
    make_order, warehouses, skus, stock_in
) -> None:
    """Priority as the board shows it: higher is more urgent, and is served first."""
    stock_in(warehouses["HZ"], skus["BP-2231"], 10)
    line = [LineDraft("BP-2231", 2, Decimal(88))]
    normal = make_order(receiver_phone="13900000011", lines=line, priority=0)
    urgent = make_order(receiver_phone="13900000012", lines=line, priority=2)
    assert fulfilment_autopilot(limit=1) == {"allocated": 1}
    assert Order.objects.get(pk=urgent.pk).status == OrderStatus.ALLOCATING
    assert Order.objects.get(pk=normal.pk).status == OrderStatus.PENDING_REVIEW  # next run
