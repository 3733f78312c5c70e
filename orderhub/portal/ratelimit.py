"""Fixed-window rate limits counted in database rows, so every web process shares them and they
survive a restart.

A request's limits are counted with ONE statement (INSERT … ON CONFLICT DO UPDATE … RETURNING,
on SQLite ≥ 3.35 and PostgreSQL) in autocommit: no read-then-write race, no process-local cache,
and on SQLite the write lock is held for that one statement only, not across Python code.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection

from orderhub.portal.conf import portal_conf
from orderhub.portal.models import RateCounter

_TABLE = RateCounter._meta.db_table


def _upsert_sql(rows: int) -> str:
    """The statement for `rows` keys; only the table name and placeholders are interpolated."""
    table = connection.ops.quote_name(_TABLE)
    values = ", ".join(["(%s, %s, 1)"] * rows)
    insert = f'INSERT INTO {table} ("key", "window_start", "count") VALUES {values} '  # noqa: S608
    return (
        insert + f'ON CONFLICT ("key", "window_start") DO UPDATE SET "count" = {table}."count" + 1 '
        'RETURNING "key", "window_start", "count"'
    )


def hits(keys: dict[str, int], *, now: datetime) -> dict[str, int]:
    """Count one hit of each key (key → its window in seconds) in its current window; returns
    the hits so far in each window."""
    stamp = int(now.timestamp())
    windows = {key[:120]: stamp // window * window for key, window in keys.items()}
    params: list[object] = []
    for key, start in windows.items():
        params += [key, start]
    with connection.cursor() as cursor:
        cursor.execute(_upsert_sql(len(windows)), params)
        counted = {(key, start): count for key, start, count in cursor.fetchall()}
    return {key: int(counted[(key[:120], windows[key[:120]])]) for key in keys}


def hit(key: str, *, window_seconds: int, now: datetime) -> int:
    """Count one hit of `key` in the current window; returns the hits so far in it."""
    return hits({key: window_seconds}, now=now)[key]


def allowed(*checks: tuple[str, str], now: datetime) -> bool:
    """Count a hit against every limit of each (kind, subject); False when any is exceeded.

    Every limit is counted, also when an earlier one is already exceeded: a refused attempt
    still uses up the others (five an hour means five attempts, refused ones included).
    """
    limits = portal_conf("LIMITS")
    wanted = {
        f"{kind}:{window}:{subject}": (window, limit)
        for kind, subject in checks
        for limit, window in limits[kind]
    }
    if not wanted:
        return True
    counts = hits({key: window for key, (window, _limit) in wanted.items()}, now=now)
    return all(counts[key] <= limit for key, (_window, limit) in wanted.items())


def counters_prune(*, now: datetime, keep_seconds: int = 2 * 86400) -> int:
    cutoff = int((now - timedelta(seconds=keep_seconds)).timestamp())
    deleted, _ = RateCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted
