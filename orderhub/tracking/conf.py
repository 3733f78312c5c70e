"""Tracking settings: these defaults, overridden key by key by settings.TRACKING."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Which provider follows a new shipment: "simulated" (offline demo) or "kuaidi100".
    "PROVIDER": "simulated",
    "PROVIDER_BY_CARRIER": {},
    # Default stall threshold; StallThreshold rows refine it per carrier and province.
    "STALL_HOURS": 24.0,
    # The stall scan runs this often: detection lag = this + the worker's pick-up delay.
    "STALL_SCAN_SECONDS": 300,
    "POLL_SCAN_SECONDS": 300,
    "POLL_BATCH": 500,
    "CALLBACK_RECEIPT_DAYS": 90,
    # A verified push seen again within this window is Kuaidi100 re-sending (acknowledged, not
    # applied); seen again later it is a replay (refused). Kuaidi100 retries 3× ~35 min apart.
    "CALLBACK_RETRY_WINDOW_SECONDS": 3 * 3600,
    # Aliyun template code of the SMS that tells the receiver their parcel is delayed; its
    # variables: name, order_no, carrier, tracking_no (see tracking/notices.py).
    "SMS_STALL_TEMPLATE": "",
    "SIMULATED": {
        "POLL_INTERVAL_SECONDS": 900,
        # Share of parcels that stall (then resume), hit 疑难 (then get re-delivered), are
        # returned (退回) or refused (拒签); the rest go straight to 签收.
        "STALL_RATE": 0.03,
        "PROBLEM_RATE": 0.02,
        "RETURN_RATE": 0.01,
        "REJECT_RATE": 0.01,
        "STALL_GAP_HOURS": (30.0, 60.0),
        "SEED": "orderhub",
    },
    "KUAIDI100": {
        "CUSTOMER": "",
        "KEY": "",
        "SALT": "",
        # Our public callback URL, e.g. https://orderhub.example.com/tracking/kuaidi100/callback
        "CALLBACK_URL": "",
        "QUERY_URL": "https://poll.kuaidi100.com/poll/query.do",
        "SUBSCRIBE_URL": "https://poll.kuaidi100.com/poll",
        "TIMEOUT_SECONDS": 10.0,
        # Fallback polling: only parcels silent this long, at most this often each. Kuaidi100
        # pushes on change every ~4 h, so 6 h of silence means pushes may have been missed.
        "POLL_QUIET_SECONDS": 6 * 3600,
        "POLL_INTERVAL_SECONDS": 4 * 3600,
        # After an "abort" push (3 days without records), resubscribe this much later.
        "RESUBSCRIBE_AFTER_SECONDS": 1800,
        "MAX_RESUBSCRIBES": 3,
    },
}


def tracking_conf() -> dict[str, Any]:
    """The effective settings, read on every call so overrides (tests, admin) apply at once."""
    user: dict[str, Any] = getattr(settings, "TRACKING", {}) or {}
    merged = {**DEFAULTS, **user}
    for section in ("SIMULATED", "KUAIDI100"):
        merged[section] = {**DEFAULTS[section], **(user.get(section) or {})}
    return merged
