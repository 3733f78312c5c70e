"""Durable jobs: committed with the change, retried with backoff, dead when hopeless, and
never lost when the worker is killed."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from orderhub.accounts.roles import Role
from orderhub.core.jobs import backoff_delay, jobs_enqueue_many, jobs_run_pending, periodic_enqueue_due
from orderhub.notify.models import InboxMessage
from orderhub.orders.models import OperationLog
from orderhub.orders.services import order_transition, order_transition_many
from orderhub.orders.states import OrderStatus as S
from tests.core import jobs_for_tests
from tests.support import REPO, orderhub_cmd, orderhub_env


def _make_due(result_id: str) -> None:
    DBTaskResult.objects.filter(pk=result_id).update(run_after=timezone.now())


def test_a_job_is_committed_with_its_change_or_not_at_all(make_order, staff) -> None:
    order = make_order()
    before = DBTaskResult.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
        raise RuntimeError("the request failed after the transition")
    assert DBTaskResult.objects.count() == before
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    assert DBTaskResult.objects.count() == before + 1


def test_a_failing_job_is_retried_with_exponential_backoff_then_succeeds(db, tmp_path, settings) -> None:
    settings.ORDERHUB_JOBS = {**settings.ORDERHUB_JOBS, "BACKOFF_BASE_SECONDS": 10.0}
    counter = tmp_path / "n"
    result = jobs_for_tests.flaky.enqueue(str(counter), 2)
    delays = []
    for _attempt in (1, 2):
        start = timezone.now()
        jobs_run_pending()
        row = DBTaskResult.objects.get(pk=result.id)
        assert row.status == TaskResultStatus.READY
        assert "receiver unavailable" in row.traceback
        delays.append((row.run_after - start).total_seconds())
        assert jobs_run_pending() == 0, "not due before its backoff has passed"
        _make_due(result.id)
    # 10 s then 20 s, each with ±20 % jitter
    assert 8 <= delays[0] <= 12.5 and 16 <= delays[1] <= 24.5
    jobs_run_pending()
    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, row.return_value, len(row.worker_ids)) == (TaskResultStatus.SUCCESSFUL, 3, 3)


def test_a_job_that_keeps_failing_is_dead_and_visible(db, tmp_path) -> None:
    counter = tmp_path / "n"
    result = jobs_for_tests.flaky.enqueue(str(counter), 99)
    for _ in range(4):
        _make_due(result.id)
        jobs_run_pending()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.FAILED
    assert counter.read_text() == "4"  # max_attempts=4, then no more tries
    assert "ConnectionError" in row.exception_class_path
    assert row in DBTaskResult.objects.failed()


def test_a_permanent_error_is_not_retried(db, tmp_path) -> None:
    counter = tmp_path / "n"
    result = jobs_for_tests.rejected.enqueue(str(counter))
    jobs_run_pending()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.status == TaskResultStatus.FAILED and counter.read_text() == "1"
    assert "40035" in row.traceback


def test_backoff_is_capped(settings) -> None:
    assert backoff_delay(30, 5.0) <= settings.ORDERHUB_JOBS["BACKOFF_MAX_SECONDS"] * 1.2


def test_periodic_jobs_are_enqueued_once_per_interval(db) -> None:
    now = timezone.now()
    assert "audit_anchor" in periodic_enqueue_due(now)
    assert periodic_enqueue_due(now + timedelta(seconds=1)) == []
    assert DBTaskResult.objects.filter(task_path="orderhub.orders.tasks.seal_audit_log").count() == 1


def test_transition_notice_reaches_the_responsible_users_once(make_order, staff) -> None:
    order = make_order()
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    jobs_run_pending()
    jobs_run_pending()
    messages = InboxMessage.objects.filter(order=order)
    assert [m.user.username for m in messages] == ["warehouse1"]
    assert messages[0].title == f"订单 {order.order_no} 已进入「已拆单」"


def test_jobs_enqueued_in_bulk_are_stored_and_run_like_single_ones(db, tmp_path) -> None:
    counters = [tmp_path / f"n{i}" for i in range(3)]
    single = jobs_for_tests.flaky.enqueue(str(counters[0]), 0)
    assert jobs_enqueue_many(jobs_for_tests.flaky, [(str(c), 0) for c in counters[1:]]) == 2
    fields = ("task_path", "queue_name", "priority", "backend_name", "status", "run_after")
    rows = list(DBTaskResult.objects.order_by("enqueued_at").values_list(*fields))
    assert len(rows) == 3 and len(set(rows)) == 1, "bulk rows look exactly like the single one"
    assert jobs_run_pending() == 3
    assert [c.read_text() for c in counters] == ["1", "1", "1"]
    assert DBTaskResult.objects.get(pk=single.id).status == TaskResultStatus.SUCCESSFUL


def test_a_batch_of_transitions_notifies_like_single_ones(make_order, staff) -> None:
    orders = [make_order() for _ in range(3)]
    order_transition_many(order_ids=[o.pk for o in orders], to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    jobs_run_pending()
    for order in orders:
        messages = InboxMessage.objects.filter(order=order)
        assert [m.title for m in messages] == [f"订单 {order.order_no} 已进入「已拆单」"]
        assert messages[0].user.username == "warehouse1"


def _wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never appeared")
        time.sleep(0.05)


def _wait_until_successful(job_id: str, failure: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while DBTaskResult.objects.get(pk=job_id).status != TaskResultStatus.SUCCESSFUL:
        assert time.monotonic() < deadline, failure
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_runs_the_job_again_on_restart_and_the_message_appears_once(
    make_order, staff, tmp_path
) -> None:
    order = make_order()
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE], notify=False)
    entry = OperationLog.objects.filter(order=order).order_by("-seq").first()
    started, gate = tmp_path / "started", tmp_path / "gate"
    gate.write_text("closed")
    job = jobs_for_tests.notice_then_block.enqueue(entry.pk, str(started), str(gate))
    env = orderhub_env(ORDERHUB_WORKER_LEASE_SECONDS="2", ORDERHUB_WORKER_HEARTBEAT_SECONDS="0.5")

    first = subprocess.Popen(orderhub_cmd("worker", "--queues", "notify", "--no-periodic"), cwd=REPO, env=env)
    try:
        _wait_for(started)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert DBTaskResult.objects.get(pk=job.id).status == TaskResultStatus.RUNNING
    assert InboxMessage.objects.filter(order=order).count() == 1

    started.unlink()
    gate.unlink()
    second = subprocess.Popen(
        orderhub_cmd("worker", "--queues", "notify", "--no-periodic", "--interval", "0.2"), cwd=REPO, env=env
    )
    try:
        _wait_until_successful(job.id, "the abandoned job was never run again")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    row = DBTaskResult.objects.get(pk=job.id)
    assert len(row.worker_ids) == 2
    assert started.exists()
    # The message was delivered by the killed run; the re-run found it and wrote nothing more.
    assert row.return_value == 0
    messages = InboxMessage.objects.filter(order=order)
    assert [(m.user.username, m.key) for m in messages] == [("warehouse1", f"log:{entry.pk}")]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_job_longer_than_the_lease_keeps_it_and_a_second_worker_does_not_run_it_again(tmp_path) -> None:
    counter = tmp_path / "runs"
    # Three leases long; the lease is long enough that only a stall of 3 s would take it away.
    job = jobs_for_tests.long_quiet.enqueue(str(counter), 9.0)
    env = orderhub_env(ORDERHUB_WORKER_LEASE_SECONDS="3", ORDERHUB_WORKER_HEARTBEAT_SECONDS="0.3")
    workers = [
        subprocess.Popen(
            orderhub_cmd("worker", "--queues", "default", "--no-periodic", "--interval", "0.1"),
            cwd=REPO,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        _wait_until_successful(job.id, "the job never finished")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=20)
    row = DBTaskResult.objects.get(pk=job.id)
    assert len(row.worker_ids) == 1, "the job was handed to the other worker while it ran"
    assert counter.read_text() == "1"
    assert "requeued" not in (row.traceback or "")
