"""The bulk transition service: each order moved as `order_transition` would, in one transaction."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from orderhub.accounts.roles import Role
from orderhub.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from orderhub.inventory.models import Reservation, Stock, Warehouse
from orderhub.orders.audit import audit_verify, entry_hash
from orderhub.orders.models import HoldReason, OperationLog, Order
from orderhub.orders.services import order_hold, order_transition, order_transition_many
from orderhub.orders.states import OrderStatus as S
from tests.support import run_at_once

NOTICE = "orderhub.notify.tasks.deliver_transition_notice"


def _notice_jobs() -> list[int]:
    """Log entry ids that transition notice jobs are owed for."""
    return sorted(j.args_kwargs["args"][0] for j in DBTaskResult.objects.filter(task_path=NOTICE))


def test_each_order_gets_its_entry_its_job_and_its_new_version(make_order, staff) -> None:
    orders = [make_order() for _ in range(5)]
    cs = staff[Role.CUSTOMER_SERVICE]
    jobs_before = _notice_jobs()
    batch = order_transition_many(
        order_ids=[o.pk for o in reversed(orders)],
        to=S.SPLIT,
        actor=cs,
        details={orders[0].pk: {"wave": "W1"}},
    )
    assert [o.pk for o in batch.moved] == sorted(o.pk for o in orders)
    assert batch.refused == []
    for order in orders:
        stored = Order.objects.get(pk=order.pk)
        assert (stored.status, stored.version, stored.log_seq) == (S.SPLIT, 2, 2)
        assert stored.last_operator_id == cs.pk
        entry = OperationLog.objects.get(order=order, seq=2)
        assert (entry.transition, entry.from_status, entry.to_status, entry.actor_name) == (
            "approve",
            S.PENDING_REVIEW,
            S.SPLIT,
            str(cs),
        )
        assert stored.log_head == entry.hash == entry_hash(entry)
    assert OperationLog.objects.get(order=orders[0], seq=2).details == {"wave": "W1"}
    new_entries = sorted(OperationLog.objects.filter(seq=2).values_list("pk", flat=True))
    assert _notice_jobs() == sorted(jobs_before + new_entries)
    assert audit_verify().ok
    # The moved orders carry on one by one as usual.
    assert order_transition(order_id=orders[1].pk, to=S.ALLOCATING, actor=cs).version == 3


def test_refused_orders_stay_as_they_were_and_say_why(make_order, staff) -> None:
    cs = staff[Role.CUSTOMER_SERVICE]
    fine, held, stale, shipped_ahead, others = (make_order() for _ in range(5))
    order_hold(order_id=held.pk, reason=HoldReason.DUPLICATE, actor=cs, detail="同收货人同款")
    order_transition(order_id=shipped_ahead.pk, to=S.SPLIT, actor=cs)
    versions = {fine.pk: 1, stale.pk: 0}
    sales2 = staff["sales2"]  # sees only their own orders: none of these
    batch = order_transition_many(
        order_ids=[fine.pk, held.pk, stale.pk, shipped_ahead.pk, 987654321],
        to=S.SPLIT,
        actor=cs,
        expected_versions=versions,
    )
    assert [o.pk for o in batch.moved] == [fine.pk]
    refused = {order_id: exc for order_id, exc in batch.refused}
    assert set(refused) == {held.pk, stale.pk, shipped_ahead.pk, 987654321}
    assert isinstance(refused[held.pk], InvalidTransition) and "疑似重复" in refused[held.pk].message
    assert isinstance(refused[stale.pk], Conflict) and "已被他人修改" in refused[stale.pk].message
    assert isinstance(refused[shipped_ahead.pk], InvalidTransition)
    assert "不能变为「已拆单」" in refused[shipped_ahead.pk].message
    assert isinstance(refused[987654321], NotFound)
    assert Order.objects.get(pk=held.pk).status == S.PENDING_REVIEW
    assert Order.objects.get(pk=stale.pk).version == 1
    # Out of the actor's scope looks like absent; outside the role is refused with the role's words.
    scoped = order_transition_many(order_ids=[others.pk], to=S.CANCELLED, actor=sales2, reason="误下单")
    assert isinstance(scoped.refused[0][1], NotFound) and scoped.moved == []
    role = order_transition_many(order_ids=[others.pk], to=S.SPLIT, actor=staff[Role.WAREHOUSE])
    assert isinstance(role.refused[0][1], PermissionDenied)
    assert "审核通过" in role.refused[0][1].message
    assert OperationLog.objects.filter(order=others).count() == 1
    assert audit_verify().ok


def test_effects_run_for_each_order(make_order, staff, skus) -> None:
    """Cancelling a batch releases each order's reserved stock, as one cancel does."""
    wh = Warehouse.objects.create(code="TZ", name="台州仓", province="浙江省")
    stock = Stock.objects.create(warehouse=wh, sku=skus["BP-2231"], on_hand=100, reserved=0)
    orders = [make_order() for _ in range(3)]
    for order in orders:
        Reservation.objects.create(order=order, stock=stock, quantity=4)
    Stock.objects.filter(pk=stock.pk).update(reserved=12)
    batch = order_transition_many(
        order_ids=[o.pk for o in orders],
        to=S.CANCELLED,
        actor=staff[Role.CUSTOMER_SERVICE],
        reason="活动取消",
    )
    assert len(batch.moved) == 3
    stock.refresh_from_db()
    assert (stock.on_hand, stock.reserved) == (100, 0)
    assert set(Reservation.objects.values_list("status", flat=True)) == {Reservation.Status.RELEASED}


def test_an_error_in_an_effect_undoes_the_whole_batch(make_order, staff, monkeypatch) -> None:
    from orderhub.orders import effects

    orders = [make_order() for _ in range(3)]

    def broken(ctx: effects.EffectContext) -> None:
        if ctx.order.pk == orders[2].pk:
            raise RuntimeError("effect failed")

    monkeypatch.setattr(effects, "_EFFECTS", [*effects._EFFECTS, (None, "test.broken", broken, False)])
    jobs_before = DBTaskResult.objects.count()
    with pytest.raises(RuntimeError):
        order_transition_many(order_ids=[o.pk for o in orders], to=S.SPLIT, actor=staff[Role.ADMIN])
    assert set(Order.objects.values_list("status", flat=True)) == {S.PENDING_REVIEW}
    assert OperationLog.objects.filter(seq=2).count() == 0
    assert DBTaskResult.objects.count() == jobs_before


def test_a_batch_costs_the_same_handful_of_statements_as_one_transition(make_order, staff) -> None:
    orders = [make_order() for _ in range(20)]
    cs = staff[Role.CUSTOMER_SERVICE]
    cs.role_names  # noqa: B018  (roles are read once per user object)
    with CaptureQueriesContext(connection) as captured:
        batch = order_transition_many(order_ids=[o.pk for o in orders], to=S.SPLIT, actor=cs)
    assert len(batch.moved) == 20
    # executemany is logged as "N times: <statement>"
    statements = [re.sub(r"^\d+ times: ", "", q["sql"]) for q in captured.captured_queries]
    verbs = [
        sql.split()[0]
        for sql in statements
        if sql.split()[0] not in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    ]
    # lock, open holds, entries, the conditional update, the jobs
    assert verbs == ["SELECT", "SELECT", "INSERT", "UPDATE", "INSERT"]


@pytest.mark.django_db(transaction=True)
def test_overlapping_batches_move_each_order_once(make_order, staff) -> None:
    """Four people approve overlapping selections at once: every order moves exactly once."""
    orders = [make_order() for _ in range(40)]
    ids = [o.pk for o in orders]
    selections = [ids[0:25], ids[10:35], ids[15:40], list(reversed(ids))]
    cs = staff[Role.CUSTOMER_SERVICE]
    batches = run_at_once(
        [lambda s=s: order_transition_many(order_ids=s, to=S.SPLIT, actor=cs) for s in selections]
    )
    errors = [b for b in batches if isinstance(b, BaseException)]
    assert errors == []
    moved = [o.pk for b in batches for o in b.moved]
    assert sorted(moved) == ids
    assert set(Order.objects.values_list("status", "version")) == {(S.SPLIT, 2)}
    assert OperationLog.objects.filter(transition="approve").count() == 40
    assert audit_verify().ok


def test_a_row_changed_after_it_was_read_is_never_overwritten(make_order, staff, monkeypatch) -> None:
    """Where the row lock is a no-op, the conditional update still refuses a moved row."""
    from orderhub.orders.services import transitions

    orders = [make_order() for _ in range(3)]
    real = transitions.log_entry_next

    def and_someone_else_writes(**fields):
        entry = real(**fields)
        if fields["order"].pk == orders[1].pk:  # another writer moves this order's chain meanwhile
            Order.objects.filter(pk=orders[1].pk).update(log_head="f" * 64, log_seq=5)
        return entry

    monkeypatch.setattr(transitions, "log_entry_next", and_someone_else_writes)
    with pytest.raises(Conflict):
        order_transition_many(order_ids=[o.pk for o in orders], to=S.SPLIT, actor=staff[Role.ADMIN])
    assert set(Order.objects.values_list("status", flat=True)) == {S.PENDING_REVIEW}
    assert OperationLog.objects.filter(seq=2).count() == 0
