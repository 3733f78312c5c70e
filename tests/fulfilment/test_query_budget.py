"""Query budgets of the hot path: fulfilment's own statements per order, whatever the line count.

Only statements on fulfilment's and inventory's tables are counted: the transition service's
own (lock, log entry, update, owed jobs) belong to the orders app and are pinned there.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from orderhub.accounts.roles import Role
from orderhub.fulfilment.allocation import order_allocate
from orderhub.fulfilment.waybills import waybills_issue
from orderhub.orders.services import LineDraft, order_transition

THREE_LINES = [
    LineDraft("BP-2231", 2, Decimal("88")),
    LineDraft("OF-1102", 1, Decimal("35")),
    LineDraft("HL-8810", 1, Decimal("680")),
]


# executemany() is logged as "N times: INSERT …": one statement for the database's planner and us.
OURS = re.compile(
    r'^(?:\d+ times: )?(?:SELECT .*? FROM|UPDATE|INSERT INTO|DELETE FROM) "(?:inventory|fulfilment)_'
)


def _ours(ctx: CaptureQueriesContext) -> list[str]:
    """Statements whose main table is fulfilment's or inventory's."""
    return [q["sql"] for q in ctx.captured_queries if OURS.match(q["sql"])]


def test_allocate_waybill_ship_statements_do_not_grow_with_lines(
    allocated, carrier_table, staff, approved
) -> None:
    warm = approved()  # the rule tables are now cached, as in a running process
    order_allocate(order_id=warm.pk)
    waybills_issue(order_ids=[warm.pk])
    order = approved(lines=THREE_LINES)
    with CaptureQueriesContext(connection) as ctx:
        assert order_allocate(order_id=order.pk).allocated
    # lock the stock rows, one UPDATE for every counter, ledger rows, reservations
    assert len(_ours(ctx)) == 4, _ours(ctx)

    with CaptureQueriesContext(connection) as ctx:
        [out] = waybills_issue(order_ids=[order.pk])
    assert out.ok
    # claim a number (UPDATE … RETURNING), record the waybill
    assert len(_ours(ctx)) == 2, _ours(ctx)

    with CaptureQueriesContext(connection) as ctx:
        order_transition(order_id=order.pk, to="shipped", actor=staff[Role.WAREHOUSE])
    # reservations, one UPDATE for every counter, ledger rows, reservations consumed,
    # the waybill to report (with the channel's kind), the report row
    assert len(_ours(ctx)) == 6, _ours(ctx)
