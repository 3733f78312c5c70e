"""Helpers for tests that start OrderHub processes against the test database."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection, connections

REPO = Path(__file__).resolve().parent.parent


def database_url_of_this_run() -> str:
    """A DATABASE_URL pointing at the database this test run uses (SQLite file or PostgreSQL)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = quote(s["USER"] or "", safe="")
    password = quote(s["PASSWORD"] or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def orderhub_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url_of_this_run()
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def orderhub_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "orderhub", *args]


def run_at_once(jobs: Sequence[Callable[[], Any]], *, timeout: float = 300) -> list[Any]:
    """Start every job in a thread of its own at the same moment (a barrier) and wait for all;
    returns, in job order, what each returned or the exception it raised. Each thread uses,
    and closes, its own database connection."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = jobs[i]()
        except BaseException as exc:  # handed to the test, which asserts on it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), "a job never finished"
    return results
