"""The transition service: versions, holds, scope, cancel releasing stock, owed jobs."""

from __future__ import annotations

import re

import pytest
from django_tasks_db.models import DBTaskResult

from orderhub.accounts.roles import Role
from orderhub.core.errors import Conflict, InvalidTransition, NotFound
from orderhub.inventory.models import Reservation, Stock, StockMovement, Warehouse
from orderhub.orders.models import HoldReason, OperationLog, Order
from orderhub.orders.permissions import allowed_transitions
from orderhub.orders.services import order_hold, order_hold_release, order_transition
from orderhub.orders.states import OrderStatus as S


def test_a_stale_version_gets_a_clear_conflict_and_nothing_changes(make_order, staff) -> None:
    order = make_order()
    cs = staff[Role.CUSTOMER_SERVICE]
    order_transition(order_id=order.pk, to=S.SPLIT, actor=cs, expected_version=1)
    with pytest.raises(Conflict) as exc:
        order_transition(order_id=order.pk, to=S.CANCELLED, actor=cs, expected_version=1, reason="重复下单")
    assert exc.value.status == 409
    assert exc.value.details == {"current_version": 2, "current_status": S.SPLIT}
    assert "已被他人修改" in exc.value.message
    assert Order.objects.get(pk=order.pk).status == S.SPLIT
    assert OperationLog.objects.filter(order=order).count() == 2


def test_an_order_on_hold_cannot_move_forward_until_released(make_order, staff) -> None:
    cs = staff[Role.CUSTOMER_SERVICE]
    order = make_order()
    hold = order_hold(
        order_id=order.pk, reason=HoldReason.DUPLICATE, actor=cs, detail="同收货人 2 小时内同款"
    )
    order.refresh_from_db()
    assert [t.name for t in allowed_transitions(cs, order)] == ["cancel"]
    with pytest.raises(InvalidTransition) as exc:
        order_transition(order_id=order.pk, to=S.SPLIT, actor=cs)
    assert "疑似重复" in exc.value.message and exc.value.code == "guard_failed"
    order_hold_release(order_id=order.pk, hold_id=hold.pk, actor=cs, resolution="客户确认两单都要")
    moved = order_transition(order_id=order.pk, to=S.SPLIT, actor=cs)
    assert moved.status == S.SPLIT
    actions = list(OperationLog.objects.filter(order=order).order_by("seq").values_list("action", flat=True))
    assert actions == ["create", "hold", "release", "transition"]


def test_incomplete_address_is_held_on_creation(make_order, staff) -> None:
    order = make_order(address_detail="", city="")
    assert [h.reason for h in order.holds.all()] == [HoldReason.INCOMPLETE_ADDRESS]
    with pytest.raises(InvalidTransition):
        order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])


def test_sales_sees_and_moves_only_own_orders(make_order, staff) -> None:
    order = make_order()  # the customer's owner is sales1
    with pytest.raises(NotFound):
        order_transition(order_id=order.pk, to=S.CANCELLED, actor=staff["sales2"], reason="误下单")
    moved = order_transition(order_id=order.pk, to=S.CANCELLED, actor=staff[Role.SALES], reason="客户取消")
    assert moved.status == S.CANCELLED


def test_cancel_releases_reserved_stock_with_a_ledger_row(make_order, staff, skus) -> None:
    order = make_order()
    wh = Warehouse.objects.create(code="TZ", name="台州仓", province="浙江省")
    stock = Stock.objects.create(warehouse=wh, sku=skus["BP-2231"], on_hand=100, reserved=20)
    Reservation.objects.create(order=order, stock=stock, quantity=20)
    order_transition(order_id=order.pk, to=S.CANCELLED, actor=staff[Role.CUSTOMER_SERVICE], reason="客户取消")
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (100, 0)
    assert Reservation.objects.get(order=order).status == Reservation.Status.RELEASED
    movement = StockMovement.objects.get(order=order)
    assert (movement.kind, movement.reserved_delta, movement.note) == ("release", -20, "客户取消")


def test_each_transition_owes_one_notification_job_in_the_same_transaction(make_order, staff) -> None:
    order = make_order()
    before = DBTaskResult.objects.count()
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    jobs = DBTaskResult.objects.order_by("-enqueued_at")[: DBTaskResult.objects.count() - before]
    assert [j.task_path for j in jobs] == ["orderhub.notify.tasks.deliver_transition_notice"]
    # A refused transition owes nothing.
    with pytest.raises(InvalidTransition):
        order_transition(order_id=order.pk, to=S.SHIPPED, actor=staff[Role.ADMIN])
    assert DBTaskResult.objects.count() == before + 1


def test_allowed_transitions_per_role(make_order, staff) -> None:
    order = make_order()
    names = {
        role: [t.target for t in allowed_transitions(staff[role], order)]
        for role in (Role.CUSTOMER_SERVICE, Role.WAREHOUSE, Role.SALES, Role.FINANCE)
    }
    assert names == {
        Role.CUSTOMER_SERVICE: [S.SPLIT, S.CANCELLED],
        Role.WAREHOUSE: [],
        Role.SALES: [S.CANCELLED],
        Role.FINANCE: [],
    }
    assert allowed_transitions(staff["sales2"], order) == []


def test_a_taken_order_number_is_drawn_again(make_order, monkeypatch) -> None:
    from orderhub.orders.services import create

    first = make_order()
    numbers = iter([first.order_no, first.order_no, "OH26112500000042"])
    monkeypatch.setattr(create, "new_order_no", lambda at: next(numbers))
    second = make_order()
    assert second.order_no == "OH26112500000042"
    assert Order.objects.filter(order_no=first.order_no).count() == 1


def _statements(queries: list[dict[str, str]]) -> list[str]:
    """Each statement as its verb and first table, e.g. 'INSERT orders_operationlog'."""
    out = []
    for q in queries:
        # executemany is logged as "N times: <statement>"
        words = re.sub(r"^\d+ times: ", "", q["sql"]).replace('"', "").split()
        if words[0] in ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"):
            continue
        if words[0] == "SELECT":
            table = words[words.index("FROM") + 1]
        else:
            table = words[1] if words[0] == "UPDATE" else words[2]
        out.append(f"{words[0]} {table}")
    return out


def test_a_transition_costs_a_fixed_handful_of_statements(make_order, staff) -> None:
    """Lock, log entry, conditional update and the owed notice job: the hot path of every order
    move stays this small (routing and rendering of the notice happen in the job)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order = make_order()
    cs, warehouse = staff["customer_service"], staff["warehouse"]
    cs.role_names, warehouse.role_names  # noqa: B018  (roles are read once per user object)
    core = ["SELECT orders_order", "INSERT orders_operationlog", "UPDATE orders_order"]
    job = ["INSERT django_tasks_database_dbtaskresult"]

    with CaptureQueriesContext(connection) as approve:
        order_transition(order_id=order.pk, to="split", actor=cs)
    # approve's guard reads the open holds
    assert _statements(approve.captured_queries) == [core[0], "SELECT orders_orderhold", *core[1:], *job]

    with CaptureQueriesContext(connection) as allocate:
        order_transition(order_id=order.pk, to="allocating", actor=warehouse)
    assert _statements(allocate.captured_queries) == core + job


def test_columns_that_change_with_the_move_are_written_by_it(make_order, staff) -> None:
    from django.db import transaction

    from orderhub.inventory.models import Warehouse

    wh = Warehouse.objects.create(code="GZ", name="广州仓", province="广东省")
    order = make_order()
    admin = staff[Role.ADMIN]
    order_transition(order_id=order.pk, to=S.SPLIT, actor=admin)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        moved = order_transition(
            order_id=order.pk, to=S.ALLOCATING, actor=admin, locked=locked, changes={"warehouse_id": wh.pk}
        )
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.warehouse_id, stored.version) == (S.ALLOCATING, wh.pk, 3)
    assert moved.warehouse_id == wh.pk
    with pytest.raises(ValueError, match="status"):
        order_transition(order_id=order.pk, to=S.LABEL_PRINTED, actor=admin, changes={"status": "shipped"})
    assert Order.objects.get(pk=order.pk).status == S.ALLOCATING
