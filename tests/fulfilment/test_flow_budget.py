"""Statement budgets of the whole fulfilment path, step by step, as bench/flow.py runs it.

An order of three lines goes create → approve → split → allocate → waybill → ship, one
transaction per step. For each step the test counts every statement sent (transition service,
effects and jobs included; BEGIN left out, since only SQLite sends it as a statement) and how
many of them ran inside a transaction: on SQLite the write lock is held from BEGIN to COMMIT,
so reads that can be done before it must be. The budgets are ceilings: lower is welcome,
higher fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from orderhub.accounts.roles import Role
from orderhub.accounts.services import system_user
from orderhub.catalog.models import Sku
from orderhub.fulfilment.allocation import order_allocate
from orderhub.fulfilment.review import order_auto_review
from orderhub.fulfilment.split import order_split
from orderhub.fulfilment.waybills import waybills_issue
from orderhub.orders.models import Order
from orderhub.orders.services import LineDraft, order_transition

# step: (statements in all, of which inside a transaction); COMMIT is not a statement here.
BUDGET = {
    # before: order, customer, lines, stock, look-alike orders; inside: the transition
    # (savepoint pair, lock, the guard's open holds, log entry, status, notice job), the run
    "approve": (13, 8),
    # one parcel: read only (order, parts?, lines with SKUs, stock), nothing to write
    "split": (4, 0),
    "allocate": (12, 12),
    # before: order, lines; inside: the number claimed, the transition (6), the waybill
    "waybill": (10, 8),
    "ship": (13, 13),
}


@dataclass
class Counted:
    statements: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.statements)

    @property
    def in_transaction(self) -> int:
        return sum(1 for _sql, inside in self.statements if inside)

    def __str__(self) -> str:
        return "\n".join(f"{'T' if inside else '-'} {sql[:120]}" for sql, inside in self.statements)


@contextmanager
def counting() -> Iterator[Counted]:
    counted = Counted()

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if not sql.lstrip().upper().startswith("BEGIN"):
            counted.statements.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield counted


@pytest.mark.django_db(transaction=True)
def test_each_step_of_the_flow_stays_within_its_statement_budget(
    make_order, staff, skus, warehouses, stock_in, carrier_table
) -> None:
    # Given three SKUs that ship together, in stock in Hangzhou
    skus["AF-3301"] = Sku.objects.create(code="AF-3301", name="空气滤清器", weight_g=400)
    for sku in skus.values():
        stock_in(warehouses["HZ"], sku, 1000)
    bot = system_user()
    lines = [
        LineDraft("BP-2231", 2, Decimal("88")),
        LineDraft("OF-1102", 1, Decimal("35")),
        LineDraft("AF-3301", 1, Decimal("42")),
    ]

    def through(order: Order) -> dict[str, Counted]:
        counts: dict[str, Counted] = {}
        with counting() as counts["approve"]:
            assert order_auto_review(order_id=order.pk, actor=bot).approved
        with counting() as counts["split"]:
            assert order_split(order_id=order.pk, actor=bot).parts == []
        with counting() as counts["allocate"]:
            assert order_allocate(order_id=order.pk, actor=bot).allocated
        with counting() as counts["waybill"]:
            [out] = waybills_issue(order_ids=[order.pk], actor=bot)
            assert out.ok, out.error
        with counting() as counts["ship"]:
            order_transition(order_id=order.pk, to="shipped", actor=staff[Role.WAREHOUSE])
        return counts

    # A running process: its rule tables are cached, its queries compiled.
    through(make_order(lines=lines, receiver_name="张先生", receiver_phone="13900000001"))

    # When a second customer's order goes the whole way
    order = make_order(lines=lines, receiver_name="李女士", receiver_phone="13900000002")
    counts = through(order)

    # Then it is shipped, and no step sent more statements than its budget
    assert Order.objects.get(pk=order.pk).status == "shipped"
    for step, (total, inside) in BUDGET.items():
        got = counts[step]
        assert got.total <= total and got.in_transaction <= inside, (
            f"{step}: {got.total} statements, {got.in_transaction} in a transaction\n{got}"
        )
