"""Durable and periodic jobs of tracking."""

from __future__ import annotations

from orderhub.core.jobs import PermanentJobError, durable_job, periodic
from orderhub.tracking import monitor, services
from orderhub.tracking.adapters.base import TrackingError
from orderhub.tracking.conf import tracking_conf


@periodic("tracking_stall_scan", every=lambda: float(tracking_conf()["STALL_SCAN_SECONDS"]))
@durable_job(queue="periodic", max_attempts=2)
def stall_scan() -> dict[str, int]:
    result = monitor.stall_scan()
    return {"due": result.due, "stalled": len(result.stalled), "orders_moved": len(result.orders_moved)}


@periodic("tracking_poll", every=lambda: float(tracking_conf()["POLL_SCAN_SECONDS"]))
@durable_job(queue="periodic", max_attempts=2)
def poll() -> dict[str, int]:
    result = monitor.tracking_poll()
    return {"polled": result.polled, "events_added": result.events_added, "failed": result.failed}


@periodic("tracking_prune_receipts", every=lambda: 24 * 3600.0)
@durable_job(queue="periodic", max_attempts=2)
def prune_receipts() -> int:
    return monitor.callback_receipts_prune()


@durable_job(queue="default", max_attempts=8)
def subscribe_shipment(shipment_id: int) -> None:
    try:
        services.tracking_subscribe(shipment_id=shipment_id)
    except TrackingError as exc:
        if exc.permanent:
            raise PermanentJobError(str(exc)) from exc
        raise
