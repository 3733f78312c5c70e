"""Periodic jobs of the orders app."""

from __future__ import annotations

from django.conf import settings

from orderhub.core.jobs import durable_job, periodic
from orderhub.orders.audit import audit_anchor_create


@periodic("audit_anchor", every=lambda: settings.ORDERHUB_AUDIT_ANCHOR_EVERY_SECONDS)
@durable_job(queue="periodic", max_attempts=3)
def seal_audit_log() -> int | None:
    anchor = audit_anchor_create()
    return anchor.pk if anchor else None
