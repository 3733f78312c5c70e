"""Notification settings: defaults here, overridden by settings.ORDERHUB_NOTIFY and the environment."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Attempts per delivery before it is dead (listed on /notify/failed/ with a retry button).
    "MAX_ATTEMPTS": 6,
    # Connect and read timeouts for provider HTTP calls, seconds.
    "CONNECT_TIMEOUT_SECONDS": 3.0,
    "READ_TIMEOUT_SECONDS": 5.0,
    # When a provider throttles us without saying for how long (钉钉: 10 minutes).
    "THROTTLE_PAUSE_SECONDS": 600.0,
    # At most this many messages are listed in one digest; more make more digests.
    "DIGEST_MAX_ITEMS": 30,
    # Deliveries a batch job sends at once (threads, each with its own DB connection).
    "SEND_CONCURRENCY": 8,
    # Deliveries per batch job when many are owed at once.
    "BATCH_SIZE": 200,
    # Absolute base of links to order pages in robot messages, e.g. https://orderhub.example.com
    "BASE_URL": "",
}

_ENV = {
    "MAX_ATTEMPTS": ("ORDERHUB_NOTIFY_MAX_ATTEMPTS", int),
    "CONNECT_TIMEOUT_SECONDS": ("ORDERHUB_NOTIFY_CONNECT_TIMEOUT", float),
    "READ_TIMEOUT_SECONDS": ("ORDERHUB_NOTIFY_READ_TIMEOUT", float),
    "THROTTLE_PAUSE_SECONDS": ("ORDERHUB_NOTIFY_THROTTLE_PAUSE", float),
    "DIGEST_MAX_ITEMS": ("ORDERHUB_NOTIFY_DIGEST_MAX_ITEMS", int),
    "BASE_URL": ("ORDERHUB_BASE_URL", str),
    "SEND_CONCURRENCY": ("ORDERHUB_NOTIFY_CONCURRENCY", int),
    "BATCH_SIZE": ("ORDERHUB_NOTIFY_BATCH_SIZE", int),
}


def notify_conf(name: str) -> Any:
    """One notification setting: settings.ORDERHUB_NOTIFY, else the environment, else the default."""
    configured = getattr(settings, "ORDERHUB_NOTIFY", {})
    if name in configured:
        return configured[name]
    env_name, cast = _ENV.get(name, (None, str))
    if env_name and os.environ.get(env_name):
        return cast(os.environ[env_name])
    return DEFAULTS[name]
