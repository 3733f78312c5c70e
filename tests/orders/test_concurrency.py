"""Twenty people acting on one card at once: one wins per version, nothing is lost."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from orderhub.accounts.roles import Role
from orderhub.core.errors import Conflict
from orderhub.orders.audit import audit_verify
from orderhub.orders.models import OperationLog, Order
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus as S

ACTORS = 20
ROUNDS = 5


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_actors_one_success_per_version(make_order, staff) -> None:
    order = make_order()
    admin = staff[Role.ADMIN]
    for target in (S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED, S.SHIPPED):
        order = order_transition(order_id=order.pk, to=target, actor=admin)
    start_version = order.version
    start_entries = OperationLog.objects.filter(order=order).count()
    actors = [staff[Role.LOGISTICS], staff[Role.CUSTOMER_SERVICE], staff[Role.MANAGER], admin]
    results: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(ACTORS)

    def act(i: int) -> None:
        try:
            for _ in range(ROUNDS):
                barrier.wait()
                current = Order.objects.values_list("status", "version").get(pk=order.pk)
                target = S.EXCEPTION if current[0] == S.SHIPPED else S.SHIPPED
                barrier.wait()  # everyone has read the same version before anyone writes
                try:
                    moved = order_transition(
                        order_id=order.pk,
                        to=target,
                        actor=actors[i % len(actors)],
                        expected_version=current[1],
                        reason=f"actor {i}",
                    )
                    outcome = ("ok", moved.version)
                except Conflict:
                    outcome = ("conflict", current[1])
                with lock:
                    results.append(outcome)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(i,)) for i in range(ACTORS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors

    outcomes = Counter(kind for kind, _ in results)
    assert outcomes == {"ok": ROUNDS, "conflict": ROUNDS * (ACTORS - 1)}
    won_versions = sorted(v for kind, v in results if kind == "ok")
    assert won_versions == list(range(start_version + 1, start_version + ROUNDS + 1))
    final = Order.objects.get(pk=order.pk)
    assert final.version == start_version + ROUNDS
    entries = list(OperationLog.objects.filter(order=order).order_by("seq"))
    assert len(entries) == start_entries + ROUNDS
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    report = audit_verify()
    assert report.ok, report.problems
    connection.close()
