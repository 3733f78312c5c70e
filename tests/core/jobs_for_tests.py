"""Jobs used by the worker tests. They live in an importable module because the worker
resolves a job by its dotted path, in another process."""

from __future__ import annotations

import time
from pathlib import Path

from orderhub.core.jobs import PermanentJobError, durable_job
from orderhub.notify.services import transition_notice_deliver


def _bump(counter: str) -> int:
    path = Path(counter)
    n = int(path.read_text() or "0") + 1 if path.exists() else 1
    path.write_text(str(n))
    return n


@durable_job(max_attempts=4)
def flaky(counter: str, fail_times: int) -> int:
    n = _bump(counter)
    if n <= fail_times:
        raise ConnectionError(f"receiver unavailable (attempt {n})")
    return n


@durable_job()
def rejected(counter: str) -> None:
    _bump(counter)
    raise PermanentJobError("receiver rejected the payload: 40035 invalid parameter")


@durable_job(queue="notify")
def notice_then_block(log_id: int, started: str, gate: str) -> int:
    """Deliver a real notice, then wait at a gate: a kill here lands after the side effect."""
    written = transition_notice_deliver(log_id)
    Path(started).write_text("started")
    while Path(gate).exists():
        time.sleep(0.05)
    return written


@durable_job()
def long_quiet(counter: str, seconds: float) -> int:
    """A job that outlasts the lease without calling anything, like a large import."""
    n = _bump(counter)
    time.sleep(seconds)
    return n
