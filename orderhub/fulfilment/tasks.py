"""Durable and periodic jobs of fulfilment."""

from __future__ import annotations

from django.conf import settings

from orderhub.core.jobs import PermanentJobError, durable_job, periodic


@durable_job(queue="default", max_attempts=8)
def report_shipment(report_id: int) -> str:
    """Report carrier + tracking number to the channel (retried with backoff; idempotent)."""
    from orderhub.fulfilment.reporting import ship_report_send

    return ship_report_send(report_id=report_id)


@durable_job(queue="default", max_attempts=6)
def discard_waybill(waybill_id: int) -> str:
    """Give a voided e-waybill number back to its provider (TMS_WAYBILL_DISCARD); idempotent."""
    from orderhub.fulfilment.adapters.cainiao import provider_for
    from orderhub.fulfilment.adapters.waybill import WaybillError
    from orderhub.fulfilment.models import Waybill

    wb = Waybill.objects.select_related("carrier").get(pk=waybill_id)
    try:
        provider_for(wb.provider).void(wb.carrier.cp_code or wb.carrier.code, wb.number)
    except WaybillError as e:
        if not e.retryable:
            raise PermanentJobError(str(e)) from e
        raise
    return f"discarded {wb.number}"


@periodic("fulfilment_autopilot", every=lambda: getattr(settings, "ORDERHUB_AUTOPILOT_SECONDS", 30))
@durable_job(queue="periodic", max_attempts=1)
def autopilot() -> dict[str, int]:
    """Review, split and allocate whatever the rules can decide on their own."""
    from orderhub.fulfilment.autopilot import fulfilment_autopilot

    if not getattr(settings, "ORDERHUB_AUTOPILOT", True):
        return {"disabled": 1}
    return fulfilment_autopilot()
