"""Fixed-window rate limits counted in database rows, so every web process shares them.

One atomic upsert per key and window (INSERT … ON CONFLICT DO UPDATE … RETURNING, on SQLite
≥ 3.35 and PostgreSQL): no read-then-write race, no process-local cache.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction

from orderhub.portal.conf import portal_conf
from orderhub.portal.models import RateCounter

_SQL = (
    "INSERT INTO portal_ratecounter (key, window_start, count) VALUES (%s, %s, 1) "
    "ON CONFLICT (key, window_start) DO UPDATE SET count = portal_ratecounter.count + 1 "
    "RETURNING count"
)


def hit(key: str, *, window_seconds: int, now: datetime) -> int:
    """Count one hit of `key` in the current window; returns the hits so far in it."""
    start = int(now.timestamp()) // window_seconds * window_seconds
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [key[:120], start])
        return int(cursor.fetchone()[0])


def allowed(*checks: tuple[str, str], now: datetime) -> bool:
    """Count a hit against every limit of each (kind, subject); False when any is exceeded.

    All in one short write transaction: one lock round per request on SQLite.
    """
    ok = True
    limits = portal_conf("LIMITS")
    with transaction.atomic():
        for kind, subject in checks:
            for limit, window in limits[kind]:
                if hit(f"{kind}:{window}:{subject}", window_seconds=window, now=now) > limit:
                    ok = False
    return ok


def counters_prune(*, now: datetime, keep_seconds: int = 2 * 86400) -> int:
    cutoff = int((now - timedelta(seconds=keep_seconds)).timestamp())
    deleted, _ = RateCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted
