"""Benchmark: the stall monitor's scan over 1,000,000 shipped parts, on SQLite and PostgreSQL.

    .venv/bin/python bench/tracking.py [--db sqlite|postgres|both] [--parts N] [--due N]

For each database, on a fresh one (a temporary SQLite file; a new database
`orderhub_bench_tracking` in the throwaway cluster of scripts/pg.sh, started if needed), it
migrates, then bulk-loads N order parts in 已发货, each with one watched parcel: carriers and
destination provinces mixed, the last carrier event spread over the past day so that --due of
them have been silent longer than their threshold (24 h) and the rest have not. Then:

1. the scan: `monitor.stall_due(now)`, the query the periodic job runs every 5 minutes, timed
   cold (first run) and warm (median and max of 5), plus the database's query plan;
2. the steady state: the same scan when nothing is due;
3. raising the stalls: `monitor.stall_scan(now)` over every due parcel (lock, mark, transition
   to 物流异常 with its hash-chained log entry, notification and SMS jobs), per parcel and in
   total, so one scan's whole work can be compared with its 5-minute period.

Figures and how to read them: bench/README.md. Runs on purpose, never in CI.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import django_setup, log, pg_fresh_database, pg_start

REPO = Path(__file__).resolve().parent.parent
BENCH_DB = "orderhub_bench_tracking"
sys.path.insert(0, str(REPO))

CARRIERS = ("zto", "yto", "sto", "yunda", "sf", "jd", "ems", "jt")
PROVINCES = ("330000", "310000", "320000", "440000", "370000", "510000", "420000", "650000")


def pg_in_use_by_others(url: str, ours: str) -> bool:
    """Another client (a test run, another benchmark) started using the cluster meanwhile."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        (n,) = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname IS NOT NULL AND datname <> %s"
            " AND pid <> pg_backend_pid()",
            [ours],
        ).fetchone()
    if n:
        log(f"postgres: left running, {n} other connection(s) use it")
    return bool(n)


def server_description() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT current_setting('server_version'), current_setting('fsync')")
            version, fsync = cur.fetchone()
            return f"PostgreSQL {version} (fsync={fsync})"
        cur.execute("SELECT sqlite_version()")
        (version,) = cur.fetchone()
        return f"SQLite {version}"


# --- loading ---------------------------------------------------------------------------------


def seed(n: int, due: int, now: Any) -> None:
    """Insert n shipped parts and their watched parcels through the ORM (ids 1..n)."""
    from django.db import transaction

    from orderhub.ingest.models import Channel, ChannelKind
    from orderhub.orders.models import Order
    from orderhub.orders.states import OrderStatus
    from orderhub.tracking.models import Shipment

    channel = Channel.objects.create(code="bench", name="压测渠道", kind=ChannelKind.MANUAL)
    rng = random.Random(7)
    due_every = n // due if due else n + 1
    orders, quiet = [], []
    for i in range(n):
        # Due parcels have been silent 24–30 h; the others 0–23.9 h.
        is_due = due and i % due_every == 0 and i // due_every < due
        silent = rng.uniform(24.0, 30.0) if is_due else rng.uniform(0.0, 23.9)
        shipped = now - timedelta(hours=silent + rng.uniform(0, 48))
        orders.append(
            Order(
                id=i + 1,
                order_no=f"B{i:07d}",
                channel=channel,
                ordered_at=shipped - timedelta(hours=20),
                status=OrderStatus.SHIPPED,
                updated_at=shipped,
                status_changed_at=shipped,
                receiver_name="王师傅",
                receiver_phone="13812345678",
                province_code=PROVINCES[i % len(PROVINCES)],
                part_no=1,
            )
        )
        quiet.append((shipped, now - timedelta(hours=silent)))
    with transaction.atomic():
        Order.objects.bulk_create(orders, batch_size=2000)
        Shipment.objects.bulk_create(
            [
                Shipment(
                    id=o.pk,
                    order_id=o.pk,
                    carrier=CARRIERS[j % len(CARRIERS)],
                    tracking_no=f"7731{j:08d}",
                    provider="simulated",
                    province_code=o.province_code,
                    status="in_transit",
                    shipped_at=shipped,
                    last_event_at=q,
                    last_event_desc="快件已到达【杭州转运中心】",
                    quiet_since=q,
                    stall_due_at=q + timedelta(hours=24),
                )
                for j, (o, (shipped, q)) in enumerate(zip(orders, quiet, strict=True))
            ],
            batch_size=2000,
        )


def clone(block: int, copy: int) -> None:
    """Copy the seed block (ids 1..block) once more, as ids copy*block+1 .. (copy+1)*block, in
    two INSERT … SELECT statements; the column lists come from the models, so a column another
    app adds is copied too."""
    from django.db import connection, transaction

    from orderhub.orders.models import Order
    from orderhub.tracking.models import Shipment

    shift = copy * block
    changed = {
        Order: {"id": f"id + {shift}", "order_no": f"order_no || '-{copy}'"},
        Shipment: {
            "id": f"id + {shift}",
            "order_id": f"order_id + {shift}",
            "tracking_no": f"tracking_no || '-{copy}'",
        },
    }
    with transaction.atomic(), connection.cursor() as cur:
        for model, exprs in changed.items():
            cols = [f.column for f in model._meta.concrete_fields]
            select = ", ".join(exprs.get(c, c) for c in cols)
            table = model._meta.db_table
            cur.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} FROM {table} WHERE id <= %s",
                [block],
            )


def reset_sequences() -> None:
    from django.core.management.color import no_style
    from django.db import connection

    from orderhub.orders.models import Order
    from orderhub.tracking.models import Shipment

    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Order, Shipment]):
            cur.execute(sql)


def load(parts: int, due: int, now: Any, block: int = 10_000) -> float:
    """parts shipped order parts with one watched parcel each, `due` of them silent past their
    threshold: a seed block through the ORM, copied by SQL. Returns seconds."""
    block = min(block, parts)
    if parts % block or (due and due % (parts // block)):
        raise SystemExit(f"--parts must be a multiple of {block} and --due of {parts // block}")
    copies = parts // block
    t0 = time.monotonic()
    seed(block, due // copies, now)
    for copy in range(1, copies):
        clone(block, copy)
        if copy % 20 == 0:
            log(f"  loaded {(copy + 1) * block:,} parts")
    reset_sequences()
    return time.monotonic() - t0


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")


def plan(now: Any) -> str:
    from django.db import connection

    from orderhub.tracking.models import Shipment

    qs = (
        Shipment.objects.filter(stall_due_at__lte=now)
        .order_by("stall_due_at", "pk")
        .values_list("pk", "order_id")
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("EXPLAIN " + sql, params)
        else:
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " / ".join(str(r[-1]) for r in cur.fetchall())


# --- measuring -------------------------------------------------------------------------------


def time_scan(now: Any, runs: int = 5) -> dict[str, Any]:
    from orderhub.tracking.monitor import stall_due

    t0 = time.perf_counter()
    rows = stall_due(now=now)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(runs):
        t0 = time.perf_counter()
        stall_due(now=now)
        warm.append(time.perf_counter() - t0)
    return {
        "due": len(rows),
        "cold_ms": cold * 1000,
        "warm_median_ms": statistics.median(warm) * 1000,
        "warm_max_ms": max(warm) * 1000,
    }


def raise_stalls(now: Any, profile: str | None = None) -> dict[str, Any]:
    from orderhub.tracking.monitor import stall_scan

    profiler = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    result = stall_scan(now=now)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    seconds = time.perf_counter() - t0
    return {
        "due": result.due,
        "stalled": len(result.stalled),
        "orders_moved": len(result.orders_moved),
        "seconds": seconds,
        "ms_per_parcel": seconds * 1000 / max(result.due, 1),
    }


def run_one(db: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    django_setup(url)
    from django.core.management import call_command
    from django.utils import timezone

    from orderhub.orders.models import Order
    from orderhub.tracking.models import Shipment

    out: dict[str, Any] = {"db": db, "parts": args.parts}
    call_command("migrate", verbosity=0, interactive=False)
    out["server"] = server_description()
    now = timezone.now().replace(microsecond=0)
    log(f"{db}: {out['server']}; loading {args.parts:,} shipped parts ({args.due:,} due)...")
    out["load_seconds"] = load(args.parts, args.due, now)
    analyze()
    out["orders"] = Order.objects.count()
    out["watched"] = Shipment.objects.filter(stall_due_at__isnull=False).count()
    log(f"{db}: loaded in {out['load_seconds']:.0f}s; {out['watched']:,} watched parcels")
    out["plan"] = plan(now)
    out["scan"] = time_scan(now)
    log(f"{db}: scan {out['scan']}")
    out["scan_none_due"] = time_scan(now - timedelta(hours=12))
    log(f"{db}: scan with nothing due {out['scan_none_due']}")
    profile = f"{args.profile}/raise-{db}.prof" if args.profile else None
    out["raise"] = raise_stalls(now, profile)
    log(f"{db}: raising stalls {out['raise']}")
    out["scan_after"] = time_scan(now)
    out["load"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return out


def run_database(db: str, args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    started_pg, base = False, ""
    tmpdir = tempfile.mkdtemp(prefix=f"orderhub-bench-tracking-{db}-")
    if db == "sqlite":
        url = f"sqlite:///{tmpdir}/bench.sqlite3"
    else:
        base, started_pg = pg_start()
        url = pg_fresh_database(base, BENCH_DB)
    out_file = Path(tmpdir) / "result.json"
    try:
        subprocess.run(
            [
                sys.executable,
                __file__,
                *argv,
                "--child-db",
                db,
                "--child-url",
                url,
                "--child-out",
                str(out_file),
                *(["--profile", args.profile] if args.profile else []),
            ],
            check=True,
            cwd=tmpdir,
        )
        return json.loads(out_file.read_text())
    finally:
        if started_pg and not pg_in_use_by_others(base, BENCH_DB):
            subprocess.run([REPO / "scripts" / "pg.sh", "stop"], check=False)
        if db == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{tmpdir}/bench.sqlite3{suffix}").unlink(missing_ok=True)


def print_table(results: list[dict[str, Any]]) -> None:
    def row(label: str, values: list[str], target: str = "") -> None:
        print(f"| {label:<46} | " + " | ".join(f"{v:>12}" for v in values) + f" | {target:<10} |")

    print()
    print(f"Stall monitor over {results[0]['parts']:,} shipped parts, {os.cpu_count()} CPU cores")
    for r in results:
        print(f"  {r['db']}: load average during the run {r['load']}")
    for r in results:
        print(f"  {r['db']}: {r['server']}")
    print()
    row("metric", [r["db"] for r in results], "target")
    print("|" + "-" * 48 + "|" + "|".join("-" * 14 for _ in results) + "|" + "-" * 12 + "|")
    row("watched parcels scanned", [f"{r['watched']:,}" for r in results])
    row("parcels due (silent ≥ threshold)", [f"{r['scan']['due']:,}" for r in results])
    row("scan, cold (ms)", [f"{r['scan']['cold_ms']:.1f}" for r in results], "≤ 5,000")
    row("scan, warm median (ms)", [f"{r['scan']['warm_median_ms']:.1f}" for r in results], "≤ 5,000")
    row("scan, warm max (ms)", [f"{r['scan']['warm_max_ms']:.1f}" for r in results], "≤ 5,000")
    row(
        "scan with nothing due, median (ms)", [f"{r['scan_none_due']['warm_median_ms']:.2f}" for r in results]
    )
    row("raise stalls: parcels moved to 物流异常", [f"{r['raise']['orders_moved']:,}" for r in results])
    row("raise stalls: ms per parcel", [f"{r['raise']['ms_per_parcel']:.2f}" for r in results])
    row("raise stalls: whole scan job (s)", [f"{r['raise']['seconds']:.1f}" for r in results], "< 300")
    row("scan after raising, median (ms)", [f"{r['scan_after']['warm_median_ms']:.2f}" for r in results])
    print()
    for r in results:
        print(f"{r['db']} plan: {r['plan']}")
    for r in results:
        ok = r["scan"]["warm_max_ms"] <= 5000 and r["scan"]["cold_ms"] <= 5000
        print(f"{r['db']}: scan target {'met' if ok else 'MISSED'}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--parts", type=int, default=1_000_000, help="shipped order parts, one parcel each")
    p.add_argument("--due", type=int, default=5_000, help="of which silent longer than the threshold")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--profile", metavar="DIR", help="write cProfile stats of raising the stalls here")
    p.add_argument("--child-db", help=argparse.SUPPRESS)
    p.add_argument("--child-url", help=argparse.SUPPRESS)
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main() -> None:
    argv = sys.argv[1:]
    args = parse_args(argv)
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    if args.child_db:
        Path(args.child_out).write_text(json.dumps(run_one(args.child_db, args.child_url, args)))
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = [run_database(db, args, argv) for db in dbs]
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
