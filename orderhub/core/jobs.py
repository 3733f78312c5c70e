"""Durable jobs: django-tasks with its database backend, plus retries, leases and schedules.

A job is enqueued with `job.enqueue(...)` inside the transaction of the change that owes it, so
both commit or neither does. `orderhub worker` (see `JobWorker`) runs them:

- a failing job is retried with exponential backoff, up to its `max_attempts`; then it is
  marked FAILED ("dead") and listed on the failed-jobs page and in the admin;
- each worker writes a heartbeat from a thread of its own, so a job holds its lease however long
  it runs; a RUNNING job whose worker stopped reporting (killed, machine lost) is handed back to
  the queue, so it runs again on restart — jobs are therefore written to be idempotent;
- periodic jobs are enqueued by whichever worker first claims their schedule row.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from traceback import format_exception
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.utils import OperationalError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import task
from django_tasks.base import Task, TaskResultStatus
from django_tasks.utils import normalize_json
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from orderhub.core.db import RowInserter
from orderhub.core.models import PeriodicSchedule, WorkerHeartbeat

logger = logging.getLogger("orderhub.jobs")


class PermanentJobError(Exception):
    """Raised by a job when retrying cannot help (e.g. the receiver rejected the payload)."""


@dataclass(frozen=True)
class JobPolicy:
    """Per-job overrides; unset values come from settings.ORDERHUB_JOBS when a job fails."""

    max_attempts: int | None = None
    backoff_base: float | None = None

    def attempts(self) -> int:
        return self.max_attempts or settings.ORDERHUB_JOBS["MAX_ATTEMPTS"]

    def base(self) -> float:
        if self.backoff_base is not None:
            return self.backoff_base
        return settings.ORDERHUB_JOBS["BACKOFF_BASE_SECONDS"]


_POLICIES: dict[str, JobPolicy] = {}
_JOB_ROWS = RowInserter(DBTaskResult)


def durable_job(
    *, queue: str = "default", max_attempts: int | None = None, priority: int = 0
) -> Callable[[Callable[..., Any]], Task]:
    """Declare a durable job (a django-tasks Task) with its retry policy."""

    def wrap(func: Callable[..., Any]) -> Task:
        t = task(queue_name=queue, priority=priority)(func)
        _POLICIES[t.module_path] = JobPolicy(max_attempts=max_attempts)
        return t

    return wrap


def policy_for(task_path: str) -> JobPolicy:
    return _POLICIES.get(task_path, JobPolicy())


def jobs_enqueue_many(job: Task, calls: Iterable[tuple[Any, ...]]) -> int:
    """Enqueue `job` once per argument tuple in `calls`, as `job.enqueue(*args)` would, with one
    INSERT built once (executemany): every transition owes a job, a bulk one hundreds.

    The rows are the ones the database backend writes (same id function, queue, priority,
    backend alias, run_after), so the worker cannot tell them apart. django-tasks' `task_enqueued`
    signal, which only logs at debug level, is not sent. Other backends enqueue one by one.
    """
    backend = job.get_backend()
    calls = list(calls)
    if not isinstance(backend, DatabaseBackend):
        for args in calls:
            job.enqueue(*args)
        return len(calls)
    backend.validate_task(job)
    now = timezone.now()
    _JOB_ROWS.insert_many(
        [
            {
                "id": backend._get_id(),  # the backend's id function (a UUID unless configured)
                "args_kwargs": normalize_json({"args": list(args), "kwargs": {}}),
                "priority": job.priority,
                "task_path": job.module_path,
                "queue_name": job.queue_name,
                # what django-tasks-db's pre_save handler stores for "as soon as possible"
                "run_after": job.run_after or get_date_max(),
                "backend_name": backend.alias,
                "enqueued_at": now,
            }
            for args in calls
        ]
    )
    return len(calls)


def backoff_delay(attempt: int, base: float) -> float:
    """Exponential backoff with ±20 % jitter: base, 2·base, 4·base, … capped."""
    delay = min(base * (2 ** max(attempt - 1, 0)), settings.ORDERHUB_JOBS["BACKOFF_MAX_SECONDS"])
    return delay * random.uniform(0.8, 1.2)


# --- periodic jobs ----------------------------------------------------------------------------

_PERIODIC: dict[str, tuple[Task, Callable[[], float]]] = {}


def periodic(name: str, every: Callable[[], float]) -> Callable[[Task], Task]:
    """Register a job to be enqueued every `every()` seconds by the worker."""

    def wrap(t: Task) -> Task:
        _PERIODIC[name] = (t, every)
        return t

    return wrap


def periodic_enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue every periodic job that is due; safe with several workers (row locks)."""
    now = now or timezone.now()
    enqueued = []
    for name, (t, every) in _PERIODIC.items():
        with transaction.atomic():
            schedule, _ = PeriodicSchedule.objects.get_or_create(name=name, defaults={"next_run_at": now})
            schedule = (
                PeriodicSchedule.objects.select_for_update(skip_locked=True)
                .filter(pk=schedule.pk, next_run_at__lte=now)
                .first()
            )
            if schedule is None:
                continue
            t.enqueue()
            schedule.last_enqueued_at = now
            schedule.next_run_at = now + timedelta(seconds=every())
            schedule.save(update_fields=["last_enqueued_at", "next_run_at"])
            enqueued.append(name)
    return enqueued


# --- leases -----------------------------------------------------------------------------------


def requeue_abandoned(now: datetime | None = None) -> int:
    """Hand RUNNING jobs of workers that stopped reporting back to the queue."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.ORDERHUB_JOBS["WORKER_LEASE_SECONDS"])
    live = set(WorkerHeartbeat.objects.filter(last_seen__gte=now - lease).values_list("worker_id", flat=True))
    requeued = 0
    with transaction.atomic():
        running = DBTaskResult.objects.running().select_for_update(skip_locked=True)
        for result in running:
            owner = result.worker_ids[-1] if result.worker_ids else None
            if owner in live:
                continue
            result.status = TaskResultStatus.READY
            result.run_after = now
            result.traceback = f"worker {owner} stopped while running this job; requeued"
            result.save(update_fields=["status", "run_after", "traceback"])
            requeued += 1
    WorkerHeartbeat.objects.filter(last_seen__lt=now - 10 * lease).delete()
    if requeued:
        logger.warning("requeued %d job(s) abandoned by stopped workers", requeued)
    return requeued


# --- the worker -------------------------------------------------------------------------------


def _heartbeat_write(worker_id: str) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"last_seen": timezone.now(), "pid": os.getpid(), "hostname": socket.gethostname()},
    )


class _HeartbeatThread(threading.Thread):
    """Reports the worker alive every HEARTBEAT_SECONDS for as long as its process lives, so a
    job of any length keeps its lease without calling anything; a killed process stops
    reporting and its job goes back to the queue after the lease."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(name="orderhub-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.wait(settings.ORDERHUB_JOBS["HEARTBEAT_SECONDS"]):
                try:
                    _heartbeat_write(self.worker_id)
                except DatabaseError as exc:  # a locked or lost database: try again next beat
                    logger.warning("worker %s: heartbeat not written: %s", self.worker_id, exc)
                    connection.close()
        finally:
            connection.close()


class JobWorker:
    """Claims READY jobs with row locks (SKIP LOCKED on PostgreSQL) and runs them."""

    def __init__(
        self,
        *,
        queues: list[str] | None = None,
        interval: float = 0.5,
        batch: bool = False,
        max_jobs: int | None = None,
        run_periodic: bool = True,
        worker_id: str | None = None,
        heartbeat_thread: bool = True,
    ) -> None:
        self.queues = queues
        self.interval = interval
        self.batch = batch
        self.max_jobs = max_jobs
        self.run_periodic = run_periodic
        self.worker_id = worker_id or f"{socket.gethostname()[:20]}-{os.getpid()}-{get_random_string(8)}"
        self.running = True
        self.jobs_run = 0
        self._last_heartbeat = 0.0
        self._heartbeat_thread = _HeartbeatThread(self.worker_id) if heartbeat_thread else None

    # signals: the first Ctrl-C finishes the current job, the second stops at once
    def _shutdown(self, signum: int, frame: object) -> None:
        if not self.running:
            raise SystemExit(1)
        logger.warning("worker %s: stopping after the current job", self.worker_id)
        self.running = False

    def install_signals(self) -> None:
        signal.signal(signal.SIGINT, self._shutdown)
        signal.signal(signal.SIGTERM, self._shutdown)

    def heartbeat(self) -> None:
        """Between jobs: report alive, hand back abandoned jobs, enqueue due periodic jobs."""
        now_mono = time.monotonic()
        if now_mono - self._last_heartbeat < settings.ORDERHUB_JOBS["HEARTBEAT_SECONDS"]:
            return
        self._last_heartbeat = now_mono
        _heartbeat_write(self.worker_id)
        requeue_abandoned()
        if self.run_periodic:
            periodic_enqueue_due()

    def claim(self) -> DBTaskResult | None:
        tasks = DBTaskResult.objects.ready().filter(backend_name="default")
        if self.queues:
            tasks = tasks.filter(queue_name__in=self.queues)
        try:
            with exclusive_transaction(tasks.db):
                result = tasks.get_locked()
                if result is not None:
                    result.claim(self.worker_id)
                return result
        except OperationalError as e:
            if is_locked_database_exception(e):
                return None
            raise

    def run(self) -> int:
        logger.info("worker %s started (queues: %s)", self.worker_id, self.queues or "all")
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.start()
        try:
            while self.running:
                if not self.batch:  # a batch run in-process keeps its caller's connection
                    close_old_connections()
                self.heartbeat()
                result = self.claim()
                if result is not None:
                    self.execute(result)
                elif self.batch:
                    break
                if self.max_jobs is not None and self.jobs_run >= self.max_jobs:
                    break
                if result is None and self.running:
                    time.sleep(self.interval)
        finally:
            if self._heartbeat_thread is not None:
                self._heartbeat_thread.stopping.set()
                self._heartbeat_thread.join()
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        return self.jobs_run

    def execute(self, result: DBTaskResult) -> None:
        """Run one claimed job: success, a retry with backoff, or dead after the last attempt."""
        try:
            t = result.task
            value = t.call(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
            result.set_successful(value)
        except Exception as exc:  # a job's failure must never stop the worker
            self._failed(result, exc)
        finally:
            self.jobs_run += 1

    def _failed(self, result: DBTaskResult, exc: Exception) -> None:
        policy = policy_for(result.task_path)
        attempt = len(result.worker_ids)
        permanent = isinstance(exc, PermanentJobError)
        if permanent or attempt >= policy.attempts():
            logger.error(
                "job %s (%s) is dead after %d attempt(s): %s", result.id, result.task_path, attempt, exc
            )
            result.set_failed(exc)
            return
        delay = backoff_delay(attempt, policy.base())
        logger.warning("job %s attempt %d failed (%s); retry in %.1fs", result.id, attempt, exc, delay)
        result.status = TaskResultStatus.READY
        result.run_after = timezone.now() + timedelta(seconds=delay)
        result.exception_class_path = f"{type(exc).__module__}.{type(exc).__qualname__}"
        result.traceback = "".join(format_exception(exc))
        result.save(update_fields=["status", "run_after", "exception_class_path", "traceback"])


def jobs_run_pending(*, queues: list[str] | None = None, max_jobs: int = 10_000) -> int:
    """Run every job that is ready now, in this process and on its connection (tests,
    benchmarks): no heartbeat thread, whose own connection would write outside the caller's
    transaction."""
    return JobWorker(
        queues=queues, batch=True, max_jobs=max_jobs, run_periodic=False, heartbeat_thread=False
    ).run()
