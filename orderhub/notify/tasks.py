"""Durable notification jobs (queue "notify")."""

from __future__ import annotations

from orderhub.core.jobs import durable_job
from orderhub.notify import delivery, services

# A delivery counts its own attempts (notify MAX_ATTEMPTS) and raises PermanentJobError when
# dead; this ceiling only stops a job whose worker keeps getting killed.
SEND_JOB_CEILING = 50


@durable_job(queue="notify")
def deliver_transition_notice(log_id: int) -> int:
    return services.transition_notice_deliver(log_id)


@durable_job(queue="notify")
def deliver_hold_notice(order_id: int, reasons: list[str]) -> int:
    return services.hold_notice_deliver(order_id, reasons)


@durable_job(queue="notify", max_attempts=SEND_JOB_CEILING)
def send_delivery(delivery_id: int) -> str:
    """One delivery: a retry after a failed first attempt, a digest, a manual retry."""
    return delivery.delivery_send(delivery_id)


@durable_job(queue="notify")
def send_batch(delivery_ids: list[int]) -> dict[str, int]:
    """The first attempt of deliveries owed together; failures get their own `send_delivery`."""
    return delivery.deliveries_send(delivery_ids)


@durable_job(queue="notify")
def flush_endpoint(endpoint_id: int) -> int:
    return delivery.endpoint_flush(endpoint_id)
