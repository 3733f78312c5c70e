"""The periodic job that keeps the dashboard's stored days current."""

from __future__ import annotations

import os

from orderhub.core.jobs import durable_job, periodic
from orderhub.insights.rollup import insights_refresh


def _every() -> float:
    return float(os.environ.get("ORDERHUB_INSIGHTS_REFRESH_SECONDS", "300"))


@periodic("insights_rollup", every=_every)
@durable_job(queue="periodic", max_attempts=2)
def rollup() -> int:
    return insights_refresh()
