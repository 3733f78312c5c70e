"""Self-service lookup settings: defaults here, overridden by settings.ORDERHUB_PORTAL."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "CODE_TTL_SECONDS": 300,  # a code is valid for 5 minutes
    "CODE_MAX_ATTEMPTS": 5,  # wrong guesses before a code is burnt
    "SESSION_SECONDS": 1800,  # how long a verified customer may look without a new code
    # (hits, window seconds) per key; every limit applies to known and unknown numbers alike
    "LIMITS": {
        "code_phone": [(1, 60), (5, 3600)],
        "code_ip": [(10, 3600)],
        "verify_phone": [(10, 600)],
        "verify_ip": [(30, 600)],
        "order_ip": [(20, 600)],
        "order_no": [(5, 600)],
    },
    "SMS_TEMPLATE": "",  # the Aliyun template code of the lookup code message (variable: code)
    "HISTORY_DAYS": 90,  # delivered parcels used for the transit-time estimates
    "MIN_SAMPLES": 5,  # parcels needed before a carrier-to-province median is trusted
}


def portal_conf(name: str) -> Any:
    return getattr(settings, "ORDERHUB_PORTAL", {}).get(name, DEFAULTS[name])
