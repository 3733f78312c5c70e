"""`orderhub worker`: run durable and periodic jobs until stopped."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from orderhub.core.jobs import JobWorker


class Command(BaseCommand):
    help = "Run OrderHub's background jobs (notifications, periodic checks) until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queues", default="", help="comma-separated queues (default: all)")
        parser.add_argument("--interval", type=float, default=0.5, help="idle poll interval, s")
        parser.add_argument("--batch", action="store_true", help="run what is ready, then exit")
        parser.add_argument("--max-jobs", type=int, default=None)
        parser.add_argument("--no-periodic", action="store_true", help="do not schedule periodic jobs")
        parser.add_argument("--worker-id", default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        logging.getLogger("orderhub").setLevel(logging.INFO)
        worker = JobWorker(
            queues=[q for q in opts["queues"].split(",") if q] or None,
            interval=opts["interval"],
            batch=opts["batch"],
            max_jobs=opts["max_jobs"],
            run_periodic=not opts["no_periodic"],
            worker_id=opts["worker_id"],
        )
        worker.install_signals()
        ran = worker.run()
        self.stdout.write(f"worker {worker.worker_id} stopped after {ran} job(s)")
