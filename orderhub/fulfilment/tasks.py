"""Durable and periodic jobs of fulfilment."""

from __future__ import annotations

from django.conf import settings

from orderhub.core.jobs import durable_job, periodic


@durable_job(queue="default", max_attempts=8)
def report_shipment(report_id: int) -> str:
    """Report carrier + tracking number to the channel (retried with backoff; idempotent)."""
    from orderhub.fulfilment.reporting import ship_report_send

    return ship_report_send(report_id=report_id)


@periodic("fulfilment_autopilot", every=lambda: getattr(settings, "ORDERHUB_AUTOPILOT_SECONDS", 30))
@durable_job(queue="periodic", max_attempts=1)
def autopilot() -> dict[str, int]:
    """Review, split and allocate whatever the rules can decide on their own."""
    from orderhub.fulfilment.autopilot import fulfilment_autopilot

    if not getattr(settings, "ORDERHUB_AUTOPILOT", True):
        return {"disabled": 1}
    return fulfilment_autopilot()
