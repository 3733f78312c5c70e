"""The developer scripts: the test database is the one DATABASE_URL names, and pg.sh's URL."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parent.parent


def test_suite_runs_on_the_database_that_database_url_names() -> None:
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


def test_pg_sh_prints_the_loopback_database_url() -> None:
    env = {**os.environ, "ORDERHUB_PGPORT": "54444"}
    out = subprocess.run(
        [str(REPO / "scripts" / "pg.sh"), "url"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "postgres://orderhub:orderhub@127.0.0.1:54444/orderhub"
