"""Benchmark: notification deliveries per second through `orderhub worker` against a local robot.

    .venv/bin/python bench/notifications.py [--db sqlite|postgres|both] [--messages N] [--workers 1,2,4]

For each database, on a fresh one (a temporary SQLite file; a new database `orderhub_bench_notify`
in the throwaway cluster of scripts/pg.sh, started if needed), it migrates, configures a DingTalk
robot (加签, no rate limit) whose webhook is a local fake server on 127.0.0.1 that checks every
signature and counts messages by id, starts W `orderhub worker --queues notify` processes, then
owes N messages in one transaction (`notify.services.message_send`: a Delivery row plus a durable
job each) and measures the time from that commit until every delivery is recorded as sent:

    deliveries/s = N / (commit → last delivery sent)

Each send is one real HTTP request (keep-alive) with its signature, plus the outbox bookkeeping
(claim the job, mark sending, mark sent, finish the job). Runs on purpose, never in CI; figures
and how to read them: bench/README.md ("Notifications").
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from common import log, pg_fresh_database

REPO = Path(__file__).resolve().parent.parent
BENCH_DB = "orderhub_bench_notify"
SECRET = "SECbench0123456789"  # noqa: S105 - the fake robot's, made up for the run


# --- the fake robot ----------------------------------------------------------------------------


class FakeRobot:
    """DingTalk's contract on a local port: checks 加签, answers errcode 0, counts message ids."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.bad_signatures = 0
        robot = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One segment per answer: headers and body apart, Nagle and delayed ACKs add 40 ms.
            disable_nagle_algorithm = True
            wbufsize = -1

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                ts = query.get("timestamp", "")
                mac = hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
                ok = query.get("sign") == base64.b64encode(mac).decode() and json.loads(body).get("msgtype")
                robot.counts[self.headers.get("X-OrderHub-Message-Id", "")] += 1
                if not ok:
                    robot.bad_signatures += 1
                answer = json.dumps(
                    {"errcode": 0, "errmsg": "ok"} if ok else {"errcode": 310000, "errmsg": "sign not match"}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/robot/send?access_token=bench"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), independent of the machine's load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- databases ---------------------------------------------------------------------------------


def pg_url() -> str:
    out = subprocess.run(
        [REPO / "scripts" / "pg.sh", "start"], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    base = out.strip().splitlines()[-1]
    return pg_fresh_database(base, BENCH_DB)


def prepare(url: str) -> None:
    """Migrate a fresh database in a child process (this process sets Django up only once)."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO), "ORDERHUB_LOG": "WARNING"}
    subprocess.run([sys.executable, "-m", "orderhub", "migrate", "-v", "0"], check=True, cwd=REPO, env=env)


# --- one run -----------------------------------------------------------------------------------


def run_child(url: str, messages: int, worker_counts: list[int]) -> list[dict[str, Any]]:
    """In a child process with Django set up on `url`: the measurements for each worker count."""
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderhub.settings")
    os.environ["ORDERHUB_LOG"] = "WARNING"
    import django

    django.setup()
    from django.db import connection, transaction

    from orderhub.notify.models import Delivery, DeliveryStatus, Endpoint
    from orderhub.notify.services import messages_send

    robot = FakeRobot()
    endpoint = Endpoint.objects.create(
        code="bench", name="压测机器人", provider="dingtalk", url=robot.url, secret=SECRET, rate_limit=0
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "ORDERHUB_WORKER_HEARTBEAT_SECONDS": "1"}
    results = []
    for workers in worker_counts:
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "orderhub",
                    "worker",
                    "--queues",
                    "notify",
                    "--no-periodic",
                    "--interval",
                    "0.02",
                ],
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        time.sleep(3)  # let them start and go idle
        tag = f"w{workers}"
        cpu_before = sum(cpu_seconds(p.pid) for p in procs)
        start = time.perf_counter()
        with transaction.atomic():
            messages_send(
                dict(
                    channel="dingtalk",
                    endpoint=endpoint,
                    key=f"bench:{tag}:{i}",
                    title=f"订单 SO{i:06d} 已进入「已发货」",
                    body="仓库 于 10:00 操作",
                )
                for i in range(messages)
            )
        committed = time.perf_counter()
        pending = Delivery.objects.filter(key__startswith=f"bench:{tag}:").exclude(status=DeliveryStatus.SENT)
        while pending.exists():
            time.sleep(0.02)
            if time.perf_counter() - committed > 600:
                raise SystemExit("deliveries did not finish within 10 minutes")
        done = time.perf_counter()
        worker_cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu_before
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
        received = sum(n for key, n in robot.counts.items() if key.startswith(f"bench:{tag}:"))
        results.append(
            {
                "db": connection.vendor,
                "workers": workers,
                "messages": messages,
                "owe_per_s": messages / (committed - start),
                "deliver_s": done - committed,
                "deliveries_per_s": messages / (done - committed),
                "requests": received,
                "bad_signatures": robot.bad_signatures,
                "load": os.getloadavg()[0],
                "worker_cpu_s": worker_cpu,
            }
        )
        log(f"{connection.vendor}, {workers} worker(s): {results[-1]['deliveries_per_s']:.0f} deliveries/s")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]
    if args.child:
        print(json.dumps(run_child(args.child, args.messages, worker_counts)))
        return
    urls = []
    tmp = tempfile.TemporaryDirectory(prefix="orderhub-bench-notify-")
    if args.db in ("sqlite", "both"):
        urls.append(f"sqlite:///{tmp.name}/bench.sqlite3")
    if args.db in ("postgres", "both"):
        urls.append(pg_url())
    rows = []
    for url in urls:
        log(f"migrating {url.split('@')[-1]}")
        prepare(url)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                url,
                "--messages",
                str(args.messages),
                "--workers",
                args.workers,
            ],
            check=True,
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        rows.extend(json.loads(out.strip().splitlines()[-1]))
    tmp.cleanup()
    print(f"machine: {os.cpu_count()} CPUs; load: 1-minute load average at the end of each run")
    print(
        f"{'database':<10} {'workers':>7} {'messages':>8} {'owed/s':>8} {'delivered in':>12} "
        f"{'deliveries/s':>12} {'per worker-CPU-s':>16} {'requests':>8} {'bad sig':>7} {'load':>5}"
    )
    for r in rows:
        per_cpu = r["messages"] / r["worker_cpu_s"] if r["worker_cpu_s"] else 0
        print(
            f"{r['db']:<10} {r['workers']:>7} {r['messages']:>8} {r['owe_per_s']:>8.0f} "
            f"{r['deliver_s']:>11.2f}s {r['deliveries_per_s']:>12.0f} {per_cpu:>16.0f} {r['requests']:>8} "
            f"{r['bad_signatures']:>7} {r['load']:>5.1f}"
        )


if __name__ == "__main__":
    main()
