"""Durable notification jobs."""

from __future__ import annotations

from orderhub.core.jobs import durable_job
from orderhub.notify import services


@durable_job(queue="notify")
def deliver_transition_notice(log_id: int) -> int:
    return services.transition_notice_deliver(log_id)


@durable_job(queue="notify")
def deliver_hold_notice(order_id: int, reasons: list[str]) -> int:
    return services.hold_notice_deliver(order_id, reasons)
