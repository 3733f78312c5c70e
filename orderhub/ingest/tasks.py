"""Durable jobs of the importer: running a batch in the worker, owed hold notices, SQL pulls."""

from __future__ import annotations

from django.db import transaction

from orderhub.core.jobs import durable_job, periodic


@durable_job(queue="default", max_attempts=3)
def run_import_batch(batch_id: int) -> str:
    """Stage and process one batch (resumes where a stopped worker left it)."""
    from orderhub.ingest.services import batch_run

    return str(batch_run(batch_id).status)


@durable_job(queue="notify")
def notify_import_holds(items: list[list[object]]) -> int:
    """Tell the responsible people about orders an import held: [[order_id, [reason, …]], …].

    Enqueued with the chunk that created the orders, so a bulk import pays the routing later, in
    the worker, and never in the import's transaction.
    """
    from orderhub.notify.services import notify_for_hold
    from orderhub.orders.models import Order

    orders = Order.objects.in_bulk([int(i[0]) for i in items])  # type: ignore[arg-type]
    done = 0
    for order_id, reasons in items:
        order = orders.get(int(order_id))  # type: ignore[arg-type]
        if order is None:
            continue
        with transaction.atomic():
            notify_for_hold(order, list(reasons))  # type: ignore[arg-type]
        done += 1
    return done


@durable_job(queue="default")
def pull_sql_source(source_id: int) -> str:
    """One scheduled pull of an SQL source (a failure is retried with backoff and kept on the source)."""
    from orderhub.ingest.models import SqlSource
    from orderhub.ingest.sql_source import sql_source_pull

    source = SqlSource.objects.select_related("preset", "channel").get(pk=source_id)
    batch = sql_source_pull(source=source)
    return f"batch {batch.pk}: {batch.status}" if batch else "nothing new"


def _every_minute() -> float:
    return 60.0


@periodic("ingest.sql_sources", every=_every_minute)
@durable_job(queue="periodic")
def enqueue_due_sql_sources() -> int:
    """Every minute: enqueue a pull for each active SQL source whose interval has passed."""
    from django.utils import timezone

    from orderhub.ingest.models import SqlSource
    from orderhub.ingest.sql_source import sql_sources_due

    due = sql_sources_due()
    for source in due:
        with transaction.atomic():
            # Marking the run now keeps the next minute's tick from enqueuing it again.
            SqlSource.objects.filter(pk=source.pk).update(last_run_at=timezone.now())
            pull_sql_source.enqueue(source.pk)
    return len(due)
