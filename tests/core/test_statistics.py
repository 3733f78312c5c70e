"""Planner statistics: gathered for SQLite after migrating a database with orders, and hourly."""

from __future__ import annotations

from django.db import connection

from orderhub.core.jobs import _PERIODIC
from orderhub.core.statistics import statistics_after_migrate, statistics_refresh


def _stat_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return 0
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = %s", [table])
        return cursor.fetchone()[0]


def test_statistics_cover_the_order_indexes_after_a_refresh(make_order) -> None:
    for _ in range(3):
        make_order()
    said = statistics_refresh()
    if connection.vendor != "sqlite":
        assert "autovacuum" in said
        return
    assert said.startswith("sqlite: statistics for")
    assert _stat_rows("orders_order") >= 5, "each index of the orders table has its row"


def test_a_migrated_database_without_orders_is_left_to_the_periodic_job(db) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
    statistics_after_migrate(sender=None)
    if connection.vendor == "sqlite":
        assert _stat_rows("orders_order") == 0


def test_a_migrated_database_with_orders_gets_statistics(make_order) -> None:
    make_order()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
    statistics_after_migrate(sender=None)
    if connection.vendor == "sqlite":
        assert _stat_rows("orders_order") >= 5


def test_the_refresh_is_an_hourly_periodic_job() -> None:
    job, every = _PERIODIC["database_statistics"]
    assert every() == 3600.0 and job.queue_name == "periodic"
