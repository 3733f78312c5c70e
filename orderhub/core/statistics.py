"""Planner statistics for the embedded SQLite database.

SQLite plans queries from the statistics `ANALYZE` stores, and a fresh database (or a table a
migration rebuilt) has none: it then guesses, and at a million orders a guess can turn a 2 ms
index lookup into a 15 s scan of the orders table. So statistics are gathered after every
migration and refreshed by a periodic job. PostgreSQL's autovacuum already does this itself.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

# Rows sampled per index: approximate statistics in well under a second even at a million orders
# (SQLite's own recommendation for `PRAGMA optimize`-style maintenance).
ANALYSIS_LIMIT = 1000


def statistics_refresh(*, using: str = "default") -> str:
    """Gather fresh planner statistics where the database does not do it itself."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return f"{connection.vendor}: statistics are kept by the server (autovacuum)"
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM sqlite_stat1")
        (rows,) = cursor.fetchone()
    return f"sqlite: statistics for {rows} indexes"


def statistics_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate handler: a migrated SQLite database that holds orders gets statistics at once
    (a migration that rebuilds a table drops its statistics). An empty one is left without:
    statistics saying "empty" would mislead the planner once orders arrive, until the
    periodic job ran."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM orders_order LIMIT 1")
        if cursor.fetchone() is None:
            return
    statistics_refresh(using=using)
