"""Benchmark: allocation throughput, the overselling race, and label printing for a wave.

    .venv/bin/python bench/fulfilment.py [--db sqlite|postgres|both] [--orders 100000]
                                         [--allocate 5000] [--procs 1,2] [--wave 1000] [--pg-url URL]
                                         [--wave-size 200] [--wave-orders 10000] [--wave-procs 1,2]
                                         [--queue-procs 1,2]

On a fresh database: 3 warehouses, 2,000 SKUs stocked in each, and --orders orders of 3 lines
waiting in 已拆单 (bulk-inserted: setting up is not what is measured). Then:
1. allocations/s through `order_allocate` (lock order, lock candidate stock rows in pk order,
   rank warehouses, conditional UPDATE reservations, ledger, transition with its log entry and
   owed notification), with each process count of --procs working on distinct orders;
1b. allocations/s through `orders_allocate` in waves of --wave-size (one transaction per wave,
   orders and stock rows locked once, counters moved once per row, one bulk transition per
   warehouse), --wave-orders orders per measurement: with each process count of --wave-procs
   taking distinct runs of orders by id, then with each of --queue-procs asking for "the next N"
   (SKIP LOCKED on PostgreSQL, so processes take different orders);
   client CPU per allocation, and on PostgreSQL the server backends' CPU read from /proc;
2. the race: 64 threads allocate 64 one-unit orders against 10 units; reserved must be 10;
3. a wave of --wave orders: e-waybills (simulated) then one PDF of all labels, labels/s.
Figures: bench/README.md ("Fulfilment"). Runs on purpose, never in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import log, pg_fresh_database
from flow import django_setup, pg_base_url, server_description, setup_company

SKUS = 2000


def run_child(db: str, args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """Run this script as a child against a fresh database of kind `db`; return its JSON result."""
    tmpdir = tempfile.mkdtemp(prefix=f"orderhub-bench-fulfil-{db}-")
    url = (
        f"sqlite:///{tmpdir}/bench.sqlite3"
        if db == "sqlite"
        else pg_fresh_database(pg_base_url(args.pg_url), "orderhub_bench_fulfil")
    )
    out_file = Path(tmpdir) / "result.json"
    subprocess.run(
        [sys.executable, __file__, *argv, "--child-db", db, "--child-url", url, "--child-out", str(out_file)],
        check=True,
        cwd=tmpdir,
    )
    return json.loads(out_file.read_text())


def bulk_orders(count: int, *, prefix: str, status: str = "split", warehouse: Any = None) -> list[int]:
    """Insert `count` orders of 3 lines directly (fixture data, not the measured path)."""
    from django.utils import timezone
    from flow import PROVINCES

    from orderhub.catalog.models import Sku
    from orderhub.ingest.models import Channel
    from orderhub.orders.models import Order, OrderLine

    channel = Channel.objects.get(code="bench")
    skus = list(Sku.objects.filter(code__startswith="SKU").order_by("pk").values_list("pk", "code", "name"))
    now = timezone.now()
    ids: list[int] = []
    batch = 2000
    for start in range(0, count, batch):
        orders = []
        for n in range(start, min(start + batch, count)):
            prov, city, district = PROVINCES[n % len(PROVINCES)]
            orders.append(
                Order(
                    order_no=f"{prefix}{n:08d}",
                    channel=channel,
                    ordered_at=now,
                    status=status,
                    updated_at=now,
                    status_changed_at=now,
                    receiver_name=f"客户{n}",
                    receiver_phone=f"139{n:08d}",
                    province=prov,
                    city=city,
                    district=district,
                    address_detail=f"测试路{n % 999 + 1}号",
                    goods_amount=Decimal("150.00"),
                    total_amount=Decimal("150.00"),
                    warehouse=warehouse,
                )
            )
        Order.objects.bulk_create(orders)
        made = list(
            Order.objects.filter(order_no__in=[o.order_no for o in orders])
            .order_by("pk")
            .values_list("pk", "order_no")
        )
        lines = []
        for pk, no in made:
            n = int(no[len(prefix) :])
            for k in range(3):
                sku_id, code, name = skus[(n * 7 + k * 641) % len(skus)]
                lines.append(
                    OrderLine(
                        order_id=pk,
                        line_no=k + 1,
                        sku_id=sku_id,
                        sku_code=code,
                        name=name,
                        quantity=1 + (n + k) % 3,
                    )
                )
        OrderLine.objects.bulk_create(lines)
        ids += [pk for pk, _no in made]
    return ids


def _backend_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of a local PostgreSQL backend process, 0 when unreadable."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def allocate_worker(url: str, ids: list[int], out: str, wave: int, queue: int = 0) -> None:
    os.environ["ORDERHUB_SKIP_MIGRATE"] = "1"
    django_setup(url)
    from django.db import connection

    from orderhub.accounts.services import system_user
    from orderhub.fulfilment.allocation import order_allocate, orders_allocate

    bot = system_user()
    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
    server = _backend_cpu(backend)
    t, c = time.perf_counter(), time.process_time()
    if queue:  # "the next N waiting", as a warehouse's screen or the autopilot asks
        ok = len(orders_allocate(limit=queue, actor=bot, chunk=wave).allocated)
    elif wave:
        ok = len(orders_allocate(order_ids=ids, actor=bot, chunk=wave).allocated)
    else:
        ok = sum(order_allocate(order_id=i, actor=bot).allocated for i in ids)
    result = {
        "seconds": time.perf_counter() - t,
        "cpu": time.process_time() - c,
        "server_cpu": _backend_cpu(backend) - server,
        "allocated": ok,
    }
    Path(out).write_text(json.dumps(result))


def measure_allocations(
    url: str, ids: list[int], procs: int, tmp: Path, wave: int = 0, queue: bool = False
) -> dict[str, Any]:
    # Waves: each process takes whole runs of consecutive orders (as "the next 200" would).
    if wave:
        blocks = [ids[i : i + wave] for i in range(0, len(ids), wave)]
        chunks = [[o for b in blocks[k::procs] for o in b] for k in range(procs)]
    else:
        chunks = [ids[i::procs] for i in range(procs)]
    outs = [tmp / f"alloc-{procs}-{wave}-{queue}-{i}.json" for i in range(procs)]
    t = time.perf_counter()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker-url",
                url,
                "--worker-ids",
                "" if queue else ",".join(map(str, c)),
                "--worker-queue",
                str(len(c) if queue else 0),
                "--worker-out",
                str(o),
                "--worker-wave",
                str(wave),
            ]
        )
        for c, o in zip(chunks, outs, strict=True)
    ]
    for w in workers:
        if w.wait() != 0:
            raise SystemExit("an allocation worker failed")
    wall = time.perf_counter() - t
    results = [json.loads(o.read_text()) for o in outs]
    busy = max(r["seconds"] for r in results)
    allocated = sum(r["allocated"] for r in results)
    cpu = sum(r["cpu"] for r in results)
    server_cpu = sum(r["server_cpu"] for r in results)
    return {
        "procs": procs,
        "wave": wave,
        "queue": queue,
        "orders": len(ids),
        "allocated": allocated,
        "per_s": round(len(ids) / busy, 1),
        "per_client_cpu_s": round(len(ids) / cpu, 1),
        "client_ms": round(1000 * cpu / len(ids), 2),
        "server_ms": round(1000 * server_cpu / len(ids), 2),
        "wall_s": round(wall, 1),
        "load_average": os.getloadavg()[0],
    }


def race() -> dict[str, Any]:
    from django.db import connections

    from orderhub.catalog.models import Sku
    from orderhub.fulfilment.allocation import order_allocate
    from orderhub.inventory.models import Stock, Warehouse

    sku = Sku.objects.create(code="RACE-1", name="限量配件", weight_g=300)
    Stock.objects.create(warehouse=Warehouse.objects.get(code="HZ"), sku=sku, on_hand=10)
    from orderhub.orders.models import OrderLine

    ids = bulk_orders(64, prefix="RACE")
    OrderLine.objects.filter(order_id__in=ids).delete()
    OrderLine.objects.bulk_create(
        OrderLine(order_id=i, line_no=1, sku=sku, sku_code=sku.code, quantity=1) for i in ids
    )
    barrier = threading.Barrier(64)
    results: list[bool] = []
    errors: list[BaseException] = []

    def go(order_id: int) -> None:
        try:
            barrier.wait()
            results.append(order_allocate(order_id=order_id).allocated)
        except BaseException as e:
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go, args=(i,)) for i in ids]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stock = Stock.objects.get(sku=sku)
    return {
        "racers": 64,
        "units": 10,
        "allocated": results.count(True),
        "held": results.count(False),
        "errors": len(errors),
        "on_hand": stock.on_hand,
        "reserved": stock.reserved,
        "seconds": round(time.perf_counter() - t, 2),
    }


def wave(size: int) -> dict[str, Any]:
    from orderhub.fulfilment.allocation import order_allocate
    from orderhub.fulfilment.labels import labels_print, wave_create
    from orderhub.fulfilment.waybills import waybills_issue
    from orderhub.inventory.models import Warehouse

    ids = bulk_orders(size, prefix="WAVE")
    hz = Warehouse.objects.get(code="HZ")
    for i in ids:
        order_allocate(order_id=i, warehouse_id=hz.pk)
    t = time.perf_counter()
    issued = waybills_issue(order_ids=ids)
    waybill_s = time.perf_counter() - t
    w = wave_create(warehouse_id=hz.pk, actor=None, order_ids=ids)
    t = time.perf_counter()
    job = labels_print(wave=w, actor=None)
    label_s = time.perf_counter() - t
    return {
        "orders": size,
        "waybills": sum(o.ok for o in issued),
        "waybill_s": round(waybill_s, 2),
        "labels": job.pages,
        "label_s": round(label_s, 2),
        "labels_per_s": round(job.pages / label_s, 1),
        "pdf_mb": round(len(job.pdf) / 2**20, 2),
    }


def child_main(args: argparse.Namespace) -> None:
    django_setup(args.child_url)
    out: dict[str, Any] = {"db": args.child_db, "server": server_description()}
    t = time.perf_counter()
    setup_company(skus=SKUS, stock_per_sku=10_000_000)
    ids = bulk_orders(args.orders, prefix="B")
    log(
        f"{args.child_db}: {args.orders} orders, {SKUS} SKUs × 3 warehouses "
        f"set up in {time.perf_counter() - t:.0f}s"
    )
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    connection.close()
    out["allocations"] = []
    start = 0
    tmp = Path(args.child_out).parent
    for procs in [int(p) for p in args.procs.split(",")]:
        if args.child_db == "sqlite" and procs > 1:
            continue  # one writer at a time on SQLite: more processes only queue
        chunk = ids[start : start + args.allocate]
        start += args.allocate
        res = measure_allocations(args.child_url, chunk, procs, tmp)
        log(f"{args.child_db}: {res}")
        out["allocations"].append(res)
    for procs in [int(p) for p in args.wave_procs.split(",")]:
        chunk = ids[start : start + args.wave_orders]
        start += args.wave_orders
        res = measure_allocations(args.child_url, chunk, procs, tmp, wave=args.wave_size)
        log(f"{args.child_db}: {res}")
        out["allocations"].append(res)
    for procs in [int(p) for p in args.queue_procs.split(",") if p]:
        # The same count, taken as "the next wave" from the queue (the orders after those above).
        chunk = ids[start : start + args.wave_orders]
        start += args.wave_orders
        res = measure_allocations(args.child_url, chunk, procs, tmp, wave=args.wave_size, queue=True)
        log(f"{args.child_db}: {res}")
        out["allocations"].append(res)
    out["race"] = race()
    log(f"{args.child_db}: race {out['race']}")
    out["wave"] = wave(args.wave)
    log(f"{args.child_db}: wave {out['wave']}")
    Path(args.child_out).write_text(json.dumps(out))


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--allocate", type=int, default=5000, help="orders allocated per measurement")
    p.add_argument("--procs", default="1,2", help="process counts to measure (PostgreSQL)")
    p.add_argument("--wave", type=int, default=1000)
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL"))
    p.add_argument("--child-db", help=argparse.SUPPRESS)
    p.add_argument("--child-url", help=argparse.SUPPRESS)
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    p.add_argument("--worker-url", help=argparse.SUPPRESS)
    p.add_argument("--worker-ids", help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    p.add_argument("--worker-wave", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--wave-size", type=int, default=200, help="orders per allocation wave")
    p.add_argument("--wave-orders", type=int, default=10_000, help="orders allocated per wave measurement")
    p.add_argument("--wave-procs", default="1,2", help="process counts for the wave measurements")
    p.add_argument(
        "--queue-procs", default="1,2", help="process counts for waves taken as 'the next N' (empty: none)"
    )
    p.add_argument("--worker-queue", type=int, default=0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main() -> None:
    argv = sys.argv[1:]
    args = parse_args(argv)
    if args.worker_url:
        ids = [int(i) for i in args.worker_ids.split(",") if i]
        allocate_worker(args.worker_url, ids, args.worker_out, args.worker_wave, args.worker_queue)
        return
    if args.child_db:
        child_main(args)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = [run_child(db, args, argv) for db in dbs]
    print(f"\nFulfilment: 3 warehouses, {SKUS} SKUs, {args.orders} orders of 3 lines")
    for r in results:
        print(f"\n{r['server']}")
        for a in r["allocations"]:
            how = f"waves of {a['wave']}" if a.get("wave") else "one per transaction"
            how += ", next N from the queue" if a.get("queue") else ""
            server = f", server {a['server_ms']} ms" if a.get("server_ms") else ""
            print(
                f"  allocations/s, {how}, {a['procs']} process(es): {a['per_s']:.0f}  "
                f"({a['allocated']}/{a['orders']} allocated; {a['per_client_cpu_s']:.0f} per CPU-second "
                f"of the allocating processes; CPU per allocation: client {a['client_ms']} ms{server}; "
                f"wall {a['wall_s']} s; load average {a['load_average']:.1f})"
            )
        rc = r["race"]
        print(
            f"  race: {rc['racers']} allocations for {rc['units']} units → {rc['allocated']} reserved, "
            f"{rc['held']} held, {rc['errors']} errors; "
            f"stock on hand {rc['on_hand']}, reserved {rc['reserved']}"
        )
        w = r["wave"]
        print(
            f"  wave of {w['orders']}: waybills {w['waybill_s']}s; labels PDF {w['label_s']}s "
            f"({w['labels_per_s']:.0f} labels/s, {w['pdf_mb']} MB)"
        )


if __name__ == "__main__":
    main()
