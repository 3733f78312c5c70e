"""Periodic jobs of the core app."""

from __future__ import annotations

from orderhub.core.jobs import durable_job, periodic
from orderhub.core.statistics import statistics_refresh


@periodic("database_statistics", every=lambda: 3600.0)
@durable_job(queue="periodic", max_attempts=3)
def refresh_statistics() -> str:
    return statistics_refresh()
