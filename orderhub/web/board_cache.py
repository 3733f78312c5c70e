"""The board's columns, built and rendered once per scope and reused until an order changes.

At 100,000 orders one board costs ~50 ms of CPU (counts, column pages, ~80 cards and their HTML),
and everyone with the same roles, scope and filters sees the same columns. They are kept in a
Django cache shared by every worker process, keyed by the scope, and valid for the board stamp
they were built under (the newest operation-log entry: every change to any order appends one), so
the first request after a change builds them afresh and an open board still shows the change at
its next poll. The cache is CACHES["board"] when the settings define one, else a file-based cache
in a private directory under the temporary one (ORDERHUB_BOARD_CACHE_DIR overrides it): a
per-process memory cache would make each of gunicorn's workers build the same columns again after
every change. What changes without a log entry (a warehouse linked to a person, a renamed
customer or warehouse) shows within MAX_AGE.

A stamp younger than `board.STAMP_SETTLE` may still be followed by a commit with a lower log id
(PostgreSQL sequences are not commit-ordered); columns built under such a stamp are reused for
UNSETTLED_REUSE only. Settled ones live at most MAX_AGE (time in state, the 7-day window of the
finished columns). State targets (edited in the admin, not logged) are part of the key.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.filebased import FileBasedCache
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from orderhub.accounts.models import User
from orderhub.web.board import BoardFilters, Stamp, Target, board_get, done_window_days, state_targets
from orderhub.web.roles import Preset

UNSETTLED_REUSE = 2.0  # seconds
MAX_AGE = 30.0  # seconds
OOB = ' hx-swap-oob="true"'  # only ever written by the templates: data is escaped (" → &quot;)


@dataclass(frozen=True)
class CachedColumn:
    status: str
    sig: str
    html: str  # the column as a poll sends it (out-of-band swap)
    built_at: float  # time.time()

    def page_html(self) -> str:
        return self.html.replace(OOB, "")


@dataclass
class CachedBoard:
    stamp: str  # the board stamp read before the columns were built
    settled: bool
    built_at: float  # time.time()
    total: int
    no_warehouse: bool
    columns: list[CachedColumn] = field(default_factory=list)

    def usable(self, stamp: Stamp, now: float) -> bool:
        age = now - self.built_at
        if self.stamp != stamp.key or age >= MAX_AGE or age < 0:
            return False
        return self.settled or age < UNSETTLED_REUSE

    def page_html(self) -> SafeString:
        return mark_safe("".join(c.page_html() for c in self.columns))  # noqa: S308 - rendered templates


@lru_cache(maxsize=4)
def _file_cache(location: str) -> BaseCache:
    return FileBasedCache(location, {"TIMEOUT": MAX_AGE, "OPTIONS": {"MAX_ENTRIES": 1000}})


def _private_dir(path: Path) -> bool:
    """The file cache unpickles what it reads: only a directory of our own that nobody else may
    write to will do (a shared temporary directory could hold one planted by another user)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def store() -> BaseCache:
    """CACHES["board"] if configured; else a file cache of this user's own; else the default cache."""
    if "board" in settings.CACHES:
        return caches["board"]
    default = Path(tempfile.gettempdir()) / f"orderhub-board-cache-{os.getuid()}"
    location = Path(getattr(settings, "ORDERHUB_BOARD_CACHE_DIR", default))
    return _file_cache(str(location)) if _private_dir(location) else caches["default"]


def clear() -> None:
    store().clear()


def _database() -> str:
    """Which database the columns come from (several sites or test runs may share the store)."""
    db = connection.settings_dict
    return f"{db['ENGINE']}|{db['HOST']}|{db['PORT']}|{db['NAME']}"


def scope_key(actor: User, filters: BoardFilters, query_string: str, targets: dict[str, Target]) -> str:
    """What decides the columns' content: roles (moves allowed, preset), whose orders, filters,
    the state targets and finished-column window, language and time zone. People who see every
    order share one key per role set."""
    personal = filters.mine or not actor.sees_all_orders
    raw = "|".join(
        (
            _database(),
            ",".join(sorted(actor.role_names)),
            str(actor.pk) if personal else "all",
            repr(filters),
            query_string,
            repr(sorted(targets.items())),  # edited in the admin, not in the log
            str(done_window_days()),
            get_language() or "",
            timezone.get_current_timezone_name(),
        )
    )
    return "web:board:" + hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()


def board_columns(
    *, actor: User, preset: Preset, filters: BoardFilters, query_string: str, stamp: Stamp
) -> CachedBoard:
    """The columns for this scope under `stamp`: from the cache, or built, rendered and cached."""
    targets = state_targets()
    key = scope_key(actor, filters, query_string, targets)
    now = time.time()
    entry = store().get(key)
    if isinstance(entry, CachedBoard) and entry.usable(stamp, now):
        return entry
    # A change usually touches two columns: the others' cards and HTML are taken over from the
    # previous entry when their signature is the same (and they are younger than MAX_AGE).
    reusable: dict[str, CachedColumn] = {}
    if isinstance(entry, CachedBoard):
        reusable = {c.status: c for c in entry.columns if 0 <= now - c.built_at < MAX_AGE}
    known = {status: c.sig for status, c in reusable.items()}
    board = board_get(actor=actor, preset=preset, filters=filters, targets=targets, known=known)
    context = {"oob": True, "filter_qs": query_string, "selected": frozenset()}
    columns = [
        reusable[col.status]
        if col.unchanged
        else CachedColumn(
            col.status, col.sig, render_to_string("web/board/_column.html", {**context, "col": col}), now
        )
        for col in board.columns
    ]
    entry = CachedBoard(stamp.key, stamp.settled, now, board.total, board.no_warehouse, columns)
    store().set(key, entry, MAX_AGE)
    return entry
