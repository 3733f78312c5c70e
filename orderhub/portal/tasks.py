"""Periodic jobs of the self-service lookup."""

from __future__ import annotations

from orderhub.core.jobs import durable_job, periodic
from orderhub.portal.selectors import transit_estimates_refresh
from orderhub.portal.services import codes_prune


@periodic("portal_transit_estimates", every=lambda: 6 * 3600.0)
@durable_job(queue="periodic", max_attempts=2)
def transit_estimates() -> int:
    return transit_estimates_refresh()


@periodic("portal_prune", every=lambda: 3600.0)
@durable_job(queue="periodic", max_attempts=2)
def prune() -> int:
    return codes_prune()
