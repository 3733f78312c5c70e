"""Tampering with the operation log through raw SQL is caught by `orderhub audit verify`."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from orderhub.accounts.roles import Role
from orderhub.orders.audit import audit_anchor_create, audit_verify
from orderhub.orders.models import AuditAnchor, OperationLog, Order
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus as S


@pytest.fixture
def history(make_order, staff) -> list[Order]:
    """Three orders, each with create + three transitions (four entries)."""
    orders = []
    for _ in range(3):
        order = make_order()
        for target in (S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED):
            order_transition(order_id=order.pk, to=target, actor=staff[Role.ADMIN])
        orders.append(order)
    return orders


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cur:
        cur.execute(statement, params)


def _entry(order: Order, seq: int) -> OperationLog:
    return OperationLog.objects.get(order=order, seq=seq)


def _verify_output() -> tuple[bool, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
        return True, out.getvalue()
    except CommandError:
        return False, err.getvalue()


def test_an_untouched_log_verifies(history) -> None:
    ok, text = _verify_output()
    assert ok
    assert "12 log entries of 3 orders" in text


def test_editing_an_entry_is_detected_and_named(history) -> None:
    victim = _entry(history[1], 2)
    _sql("UPDATE orders_operationlog SET reason = %s WHERE id = %s", ["改过的原因", victim.pk])
    report = audit_verify()
    assert report.first_problem.kind == "content_changed"
    assert report.first_problem.log_id == victim.pk
    ok, text = _verify_output()
    assert not ok
    assert f"log entry id {victim.pk}" in text and f"order id {history[1].pk}" in text


def test_changing_who_acted_is_detected(history, staff) -> None:
    victim = _entry(history[0], 3)
    _sql(
        "UPDATE orders_operationlog SET actor_id = %s, actor_name = %s WHERE id = %s",
        [staff["sales2"].pk, "sales2", victim.pk],
    )
    assert audit_verify().first_problem.log_id == victim.pk


def test_deleting_an_entry_in_the_middle_is_detected(history) -> None:
    victim = _entry(history[2], 2)
    _sql("DELETE FROM orders_operationlog WHERE id = %s", [victim.pk])
    problem = audit_verify().first_problem
    assert problem.kind == "sequence_gap"
    assert (problem.order_id, problem.seq) == (history[2].pk, 3)


def test_reordering_two_entries_is_detected(history) -> None:
    a, b = _entry(history[0], 2), _entry(history[0], 3)
    # Swap their positions in the chain (seq is unique, so go through a spare value).
    _sql("UPDATE orders_operationlog SET seq = 999 WHERE id = %s", [a.pk])
    _sql("UPDATE orders_operationlog SET seq = 2 WHERE id = %s", [b.pk])
    _sql("UPDATE orders_operationlog SET seq = 3 WHERE id = %s", [a.pk])
    problem = audit_verify().first_problem
    assert problem.order_id == history[0].pk
    assert problem.kind in {"broken_link", "content_changed"}


def test_cutting_the_tail_of_an_orders_history_is_detected(history) -> None:
    victim = _entry(history[1], 4)
    _sql("DELETE FROM orders_operationlog WHERE id = %s", [victim.pk])
    problem = audit_verify().first_problem
    assert problem.kind == "head_mismatch"
    assert (problem.order_id, problem.seq) == (history[1].pk, 4)


def test_rewriting_a_whole_chain_consistently_is_still_caught_by_the_order_head(history) -> None:
    # An editor who recomputes every hash of an order's chain still cannot match the head
    # recorded on the order row without also editing that row; and an anchor seals both.
    victim = _entry(history[0], 4)
    _sql("DELETE FROM orders_operationlog WHERE id = %s", [victim.pk])
    _sql("UPDATE orders_order SET log_seq = 3 WHERE id = %s", [history[0].pk])
    assert audit_verify().first_problem.kind == "head_mismatch"


def test_deleting_an_order_with_its_entire_history_is_caught_by_the_anchor(history) -> None:
    anchor = audit_anchor_create(now=timezone.now() + timedelta(hours=1))
    assert anchor is not None and anchor.entry_count == 12
    gone = history[1]
    for table in ("orders_operationlog", "orders_orderline", "orders_orderhold", "notify_inboxmessage"):
        _sql(f"DELETE FROM {table} WHERE order_id = %s", [gone.pk])
    _sql("DELETE FROM orders_order WHERE id = %s", [gone.pk])
    report = audit_verify()
    assert [p.kind for p in report.problems] == ["anchor_mismatch"]
    assert "应有 12 条，现有 8 条" in report.problems[0].message


def test_editing_an_anchor_is_detected(history) -> None:
    anchor = audit_anchor_create(now=timezone.now() + timedelta(hours=1))
    _sql("UPDATE orders_auditanchor SET entry_count = 11 WHERE id = %s", [anchor.pk])
    kinds = [p.kind for p in audit_verify().problems]
    assert "anchor_chain" in kinds


def test_anchors_only_seal_entries_older_than_the_delay(history, settings) -> None:
    settings.ORDERHUB_AUDIT_ANCHOR_DELAY_SECONDS = 60
    assert audit_anchor_create(now=timezone.now()) is None
    first = audit_anchor_create(now=timezone.now() + timedelta(minutes=5))
    ids = list(OperationLog.objects.order_by("id").values_list("id", flat=True))
    # The first anchor starts at id 1 (ids need not start there: PostgreSQL keeps its sequence).
    assert (first.first_log_id, first.last_log_id, first.entry_count) == (1, ids[-1], 12)
    assert audit_anchor_create(now=timezone.now() + timedelta(minutes=5)) is None
    assert AuditAnchor.objects.count() == 1


def test_a_split_hash_is_the_entry_hash_for_any_order_id(make_order) -> None:
    """Bulk writers hash a template once and add the order id: the same hash as entry by entry."""
    from orderhub.orders.audit import entry_hash, entry_hash_for, entry_hash_parts

    order = make_order()
    entry = OperationLog.objects.get(order=order, seq=1)
    names = ("seq", "action", "transition", "from_status", "to_status", "actor_id", "actor_name")
    names += ("automatic", "reason", "details", "at", "prev_hash")
    parts = entry_hash_parts({name: getattr(entry, name) for name in names})
    assert entry_hash_for(parts, order.pk) == entry_hash(entry) == entry.hash
    assert entry_hash_for(parts, order.pk + 1) != entry.hash
