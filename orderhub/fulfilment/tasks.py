"""Durable jobs of fulfilment."""

from __future__ import annotations

from orderhub.core.jobs import durable_job


@durable_job(queue="default", max_attempts=8)
def report_shipment(report_id: int) -> str:
    """Report carrier + tracking number to the channel (retried with backoff; idempotent)."""
    from orderhub.fulfilment.reporting import ship_report_send

    return ship_report_send(report_id=report_id)
