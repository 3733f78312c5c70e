"""Helpers for tests that start OrderHub processes against the test database."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import quote

from django.db import connection

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
