"""Ingest limits and knobs, read from settings with safe defaults (see settings.py's ingest block)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # A file larger than this is refused before it is read.
    "MAX_UPLOAD_BYTES": 200 * 1024 * 1024,
    # An XLSX whose parts unzip to more than this, or unzip at a ratio above MAX_ZIP_RATIO, is a bomb.
    "MAX_UNZIPPED_BYTES": 2 * 1024 * 1024 * 1024,
    "MAX_ZIP_RATIO": 200,
    "MAX_COLUMNS": 500,
    "MAX_ROWS": 2_000_000,
    "MAX_CELL_CHARS": 32_767,  # Excel's own cell limit
    # Rows staged and persisted per transaction.
    "CHUNK_ROWS": 2000,
    # Files at least this large are imported by the worker rather than in the web request.
    "BACKGROUND_BYTES": 2 * 1024 * 1024,
    # Two orders to the same receiver, address and goods within this window are suspected duplicates.
    "DUPLICATE_WINDOW_HOURS": 24,
    "FILES_DIR": None,  # default: <cwd>/orderhub-ingest
    # A batch of at least this many chunks is mapped and validated in a helper process while this one
    # writes (None: never).
    "HELPER_MIN_CHUNKS": 10,
    # Two: they run niced (HELPER_NICE), so the second only takes a core nothing else wants; on two
    # idle cores 300,000 rows took 29 s with two, 34–35 s with one (bench/README.md, Ingest).
    "HELPER_PROCESSES": 2,
    # Niceness added to the helper processes (the importing process, their bottleneck, goes first).
    "HELPER_NICE": 10,
    # Chunks the helpers may prepare ahead while the file is still being staged (each is held as
    # ~1.3 MB of pickled rows until the writer takes it).
    "HELPER_AHEAD_CHUNKS": 64,
    # Page cache of the importing connection on SQLite (MB).
    "SQLITE_CACHE_MB": 256,
    # During a batch, checkpoint SQLite's WAL every this many pages (SQLite's default: 1000).
    "SQLITE_CHECKPOINT_PAGES": 20_000,
    # On SQLite, a large batch commits its chunks together for up to this long (0: each on its own).
    "SQLITE_GROUP_SECONDS": 1.0,
}


def ingest_setting(name: str) -> Any:
    return getattr(settings, "ORDERHUB_INGEST", {}).get(name, DEFAULTS[name])


def files_dir() -> Path:
    configured = ingest_setting("FILES_DIR")
    return Path(configured) if configured else Path.cwd() / "orderhub-ingest"
