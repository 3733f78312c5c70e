"""Workers killed with SIGKILL in the middle of a burst of 1,000 notifications: after a restart
every message has arrived, and the only duplicates are sends that were in flight at the kill."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import transaction

from orderhub.notify.models import Delivery, DeliveryStatus
from orderhub.notify.services import messages_send
from tests.support import REPO, orderhub_cmd, orderhub_env

BURST = 1000
WORKERS = 2
THREADS = 4  # each worker's batch job sends this many at once
SENDERS = WORKERS * THREADS  # concurrent senders


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _start_workers(env: dict[str, str], log: Path) -> list[subprocess.Popen]:
    with log.open("ab") as out:
        return [
            subprocess.Popen(
                orderhub_cmd("worker", "--queues", "notify", "--no-periodic", "--interval", "0.05"),
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=out,
            )
            for _ in range(WORKERS)
        ]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_burst_loses_nothing_and_duplicates_only_in_flight_sends(
    fake, endpoint_for, tmp_path
) -> None:
    robot = fake("dingtalk", secret="SECburst")
    endpoint = endpoint_for(robot, rate_limit=0)
    keys = [f"burst:{i:04d}" for i in range(BURST)]
    with transaction.atomic():
        messages_send(
            {
                "channel": "dingtalk",
                "endpoint": endpoint,
                "key": key,
                "title": f"订单 SO{i:06d} 已进入「已发货」",
            }
            for i, key in enumerate(keys)
        )
    env = orderhub_env(
        ORDERHUB_WORKER_LEASE_SECONDS="2",
        ORDERHUB_WORKER_HEARTBEAT_SECONDS="0.5",
        ORDERHUB_NOTIFY_CONCURRENCY=str(THREADS),
        ORDERHUB_NOTIFY_BATCH_SIZE="100",
    )
    log = tmp_path / "workers.log"

    t_start = time.monotonic()
    first = _start_workers(env, log)
    try:
        _wait(lambda: len(robot.counts) >= BURST * 0.3, 120, "a third of the burst to arrive")
        for worker in first:
            worker.send_signal(signal.SIGKILL)
        for worker in first:
            worker.wait(timeout=10)
    finally:
        for worker in first:
            if worker.poll() is None:
                worker.kill()
    in_flight = set(Delivery.objects.filter(status=DeliveryStatus.SENDING).values_list("key", flat=True))
    arrived_before_restart = len(robot.counts)
    assert arrived_before_restart < BURST, "the kill must land mid-burst"
    assert len(in_flight) <= SENDERS

    t0 = time.monotonic()
    second = _start_workers(env, log)
    try:
        _wait(
            lambda: not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists(),
            180,
            "every delivery to be sent after the restart",
        )
    finally:
        for worker in second:
            worker.send_signal(signal.SIGTERM)
        for worker in second:
            worker.wait(timeout=30)

    assert robot.problems == [], "every request was signed correctly"
    assert set(robot.counts) == set(keys), "every message arrived"
    duplicates = {key: n for key, n in robot.counts.items() if n > 1}
    assert set(duplicates) <= in_flight, f"only in-flight sends may repeat: {duplicates} vs {in_flight}"
    assert sum(n - 1 for n in duplicates.values()) <= SENDERS
    times = [r.at for r in robot.requests]
    print(  # what the kill did, shown with -s
        f"\nkilled after {arrived_before_restart} of {BURST} arrived; in flight {len(in_flight)}; "
        f"duplicates {len(duplicates)}; requests {robot.counts.total()}; "
        f"first request {times[0] - t_start:.1f}s after the start; "
        f"last {times[-1] - t0:.1f}s after the restart"
    )
