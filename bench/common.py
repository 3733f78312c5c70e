"""What the benchmark scripts share: progress lines, the throwaway PostgreSQL cluster of
scripts/pg.sh, a fresh database in it, and Django set up against a database URL.

The scripts run as `python bench/<name>.py`, so this folder is on their import path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG_SH = REPO / "scripts" / "pg.sh"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pg_start() -> tuple[str, bool]:
    """Start the scripts/pg.sh cluster if needed; return its URL and whether we started it."""
    running = subprocess.run([PG_SH, "status"], capture_output=True).returncode == 0
    out = subprocess.run([PG_SH, "start"], check=True, stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1], not running


def pg_stop() -> None:
    subprocess.run([PG_SH, "stop"], check=False)


def pg_fresh_database(url: str, name: str) -> str:
    """Drop and create database `name` in the cluster at `url`; return its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + "/" + name


def django_setup(url: str) -> None:
    """Set Django up against `url` (quiet logs; no collected static files needed)."""
    import warnings

    # WhiteNoise warns that collectstatic has not run: irrelevant to a benchmark.
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderhub.settings")
    os.environ.setdefault("ORDERHUB_LOG", "WARNING")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()
