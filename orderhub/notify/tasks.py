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
    return delivery.delivery_send(delivery_id)


@durable_job(queue="notify")
def flush_endpoint(endpoint_id: int) -> int:
    return delivery.endpoint_flush(endpoint_id)
