# ruff: noqa: E501, S106  (fixture tables read best one row to a line; a throwaway bench password)
"""Benchmark: the delivery-health dashboard at 1,000,000 orders, and the customer lookup under
50 concurrent clients.

    .venv/bin/python bench/insights.py [--orders N] [--days D] [--db sqlite|postgres] [--reuse]
                                       [--tail T] [--clients C] [--lookups L] [--think S ...]

On a fresh database (a SQLite file in the temp directory, or with --db postgres a database of
its own, `orderhub_bench_insights_<N>`, in the scripts/pg.sh cluster) it migrates, then
bulk-loads N root orders spread over the last D days, each with the operation log a real one
leaves (create, approve, allocate, print, ship, deliver; some rejected back a step, some
cancelled, some held by a rule on creation, recent ones still on their way), about 6 log
entries per order. --reuse measures a database a previous run loaded. Then:

1. the periodic job (`insights_refresh`): past days counted and stored (or only the last
   --backfill-days), and today stored up to a watermark, which is what the job repeats every
   5 minutes (timed: the job's cost late in the day);
2. the dashboard (`dashboard_get` and the whole page through Django's test client, as a
   manager) for the last 7 days and for the last 30 days, each beside its previous period:
   first settled (nothing after today's watermark), then with the last T log entries after it
   (today's row re-stored as if the job had run before them), counted live: cold, then median
   and max of 5, wall time and this process's CPU time;
3. the customer lookup under C concurrent clients against a real gunicorn server
   (`orderhub.core.server`, 4 processes × 8 threads): each client opens /track, then looks an
   order up by order number + last 4 digits (POST /track/order: rate-limit counters, the lookup
   record; 9 in 10 give the right digits; each client from a loopback address of its own, as
   customers have) and reads /track/orders
   (the order and its timeline); p50 / p99 / max of each, the server's CPU per lookup and the
   database connections it opened, once per --think (mean seconds between a client's lookups;
   0 = a closed loop, as fast as the server answers).

Prints its figures; bench/README.md has a measured run. Runs on purpose, never in CI.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import django_setup, log

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


# --- loading ----------------------------------------------------------------------------------

HOUR = 3600.0


def _ts(at: datetime) -> str:
    """How Django stores an aware datetime in SQLite: UTC, no offset."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def master_data() -> dict[str, Any]:
    from orderhub.accounts.models import LegalEntity, User
    from orderhub.accounts.roles import Role
    from orderhub.accounts.services import roles_ensure, system_user, user_set_roles
    from orderhub.ingest.models import Channel
    from orderhub.inventory.models import Warehouse

    roles_ensure()
    people = {}
    for name, role in [("cs1", Role.CUSTOMER_SERVICE), ("cs2", Role.CUSTOMER_SERVICE), ("wh1", Role.WAREHOUSE),
                       ("wh2", Role.WAREHOUSE), ("wh3", Role.WAREHOUSE), ("lg1", Role.LOGISTICS),
                       ("boss", Role.MANAGER)]:  # fmt: skip
        user = User.objects.create_user(username=name, password="Bench-Password-42", display_name=name)
        user_set_roles(user=user, roles=[role])
        people[name] = user.pk
    people["system"] = system_user().pk
    channels = [
        Channel.objects.create(code=c, name=n, kind=k).pk
        for c, n, k in [
            ("pdd", "拼多多", "pinduoduo"),
            ("douyin", "抖音", "douyin"),
            ("1688", "1688", "alibaba"),
            ("taobao", "淘宝", "taobao"),
            ("manual", "手工", "manual"),
        ]
    ]
    warehouses = [
        Warehouse.objects.create(code=f"WH{i}", name=f"{p}仓", province=p).pk
        for i, p in enumerate(["浙江省", "广东省", "四川省"], start=1)
    ]
    entities = [LegalEntity.objects.create(code=f"E{i}", name=f"主体{i}").pk for i in (1, 2)]
    return {"people": people, "channels": channels, "warehouses": warehouses, "entities": entities}


ORDER_COLS = (
    "id", "order_no", "channel_id", "ordered_at", "customer_tier", "status", "last_operator_id", "updated_at",
    "channel_order_no", "receiver_name", "receiver_phone", "phone_kind", "province", "province_code", "city",
    "city_code", "district", "district_code", "address_detail", "goods_amount", "shipping_fee", "total_amount",
    "remark", "promised_at", "priority", "selling_entity_id", "warehouse_id", "lines_snapshot", "created_at",
    "status_changed_at", "version", "log_seq", "log_head",
)  # fmt: skip
LOG_COLS = (
    "order_id", "seq", "action", "transition", "from_status", "to_status", "actor_id", "actor_name",
    "automatic", "reason", "details", "at", "prev_hash", "hash",
)  # fmt: skip
PATH = [("approve", "pending_review", "split", "cs"), ("allocate", "split", "allocating", "cs"),
        ("print_label", "allocating", "label_printed", "wh"), ("ship", "label_printed", "shipped", "wh"),
        ("complete", "shipped", "completed", "system")]  # fmt: skip
MEDIAN_HOURS = [1.5, 2.0, 6.0, 3.0, 48.0]


def plan_order(
    rng: random.Random, oid: int, ordered: datetime, now: datetime, md: dict[str, Any]
) -> tuple[tuple, list[tuple]]:
    people = md["people"]
    held = rng.random() < 0.03
    logs: list[tuple] = []
    seq = 1
    details = '{"channel":"b","holds":["incomplete_address"]}' if held else '{"channel":"b","holds":[]}'
    logs.append(
        (oid, seq, "create", "", "", "pending_review", people["cs1"], "cs1", False, "", details, _ts(ordered))
    )
    t, status = ordered, "pending_review"
    cancel_at = 1 if rng.random() < 0.02 else None
    for i, (name, src, dst, who) in enumerate(PATH):
        t = t + timedelta(hours=rng.lognormvariate(0, 0.6) * MEDIAN_HOURS[i])
        if t > now:
            break
        if cancel_at == i:
            seq += 1
            logs.append(
                (
                    oid,
                    seq,
                    "transition",
                    "cancel",
                    src,
                    "cancelled",
                    people["cs2"],
                    "cs2",
                    False,
                    "客户取消",
                    "{}",
                    _ts(t),
                )
            )
            status = "cancelled"
            break
        if name == "print_label" and rng.random() < 0.05:  # stock gone: back to review and again
            seq += 1
            logs.append(
                (
                    oid,
                    seq,
                    "transition",
                    "reject_allocation",
                    "allocating",
                    "pending_review",
                    people["wh1"],
                    "wh1",
                    False,
                    "缺货",
                    "{}",
                    _ts(t),
                )
            )
            for again, (n2, s2, d2) in enumerate(
                [("approve", "pending_review", "split"), ("allocate", "split", "allocating")]
            ):
                t = t + timedelta(hours=1 + again)
                seq += 1
                logs.append(
                    (oid, seq, "transition", n2, s2, d2, people["cs1"], "cs1", False, "", "{}", _ts(t))
                )
            t = t + timedelta(hours=2)
        actor = {
            "cs": rng.choice(["cs1", "cs2"]),
            "wh": rng.choice(["wh1", "wh2", "wh3"]),
            "system": "system",
        }[who]
        seq += 1
        logs.append(
            (
                oid,
                seq,
                "transition",
                name,
                src,
                dst,
                people[actor],
                actor,
                who == "system",
                "",
                "{}",
                _ts(t),
            )
        )
        status = dst
    phone = f"13{rng.randrange(10**9):09d}"
    promised = ordered + timedelta(hours=72)
    row = (
        oid, f"BN{oid:010d}", rng.choice(md["channels"]), _ts(ordered), rng.choice("abc" + "a"), status, people["cs1"], _ts(t),
        f"C{oid:010d}", "王师傅", phone, "normal", "浙江省", "330000", "台州市", "331000", "椒江区", "331002", "东环大道88号",
        "176.00", "0.00", "176.00", "", _ts(promised), 0, rng.choice(md["entities"]), rng.choice(md["warehouses"]), "[]",
        _ts(ordered), _ts(t), seq, seq, "0" * 64,
    )  # fmt: skip
    return row, logs


def load(orders: int, days: int, now: datetime, md: dict[str, Any]) -> int:
    from django.db import connection, transaction

    rng = random.Random(20250312)
    span = days * 86400.0
    o_sql = (
        f"INSERT INTO orders_order ({', '.join(ORDER_COLS)}) VALUES ({', '.join(['%s'] * len(ORDER_COLS))})"
    )
    cols = [*LOG_COLS]
    l_sql = f"INSERT INTO orders_operationlog ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    entries = 0
    batch = 20_000
    start = now - timedelta(seconds=span)
    # Orders in time order (ids follow ordered_at, as they would in real life).
    offsets = sorted(rng.random() * span for _ in range(orders))
    for lo in range(0, orders, batch):
        o_rows, l_rows = [], []
        for i in range(lo, min(lo + batch, orders)):
            row, logs = plan_order(rng, i + 1, start + timedelta(seconds=offsets[i]), now, md)
            o_rows.append(row)
            l_rows.extend((*entry, "0" * 64, "0" * 64) for entry in logs)
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(o_sql, o_rows)
            cur.executemany(l_sql, l_rows)
        entries += len(l_rows)
        if (lo // batch) % 10 == 0:
            log(f"  {lo + len(o_rows):,} orders, {entries:,} log entries")
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":  # ids were given: move the sequence past them
            cur.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), %s)", [orders])
        cur.execute("ANALYZE")
    return entries


# --- measuring --------------------------------------------------------------------------------


def timed(fn: Any, repeat: int = 5) -> str:
    """Cold, then median and max of `repeat` runs: wall seconds, and this process's CPU."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
    runs, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        runs.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return (
        f"cold {cold:.3f} s (CPU {cold_cpu:.3f}), median {statistics.median(runs):.3f} s"
        f" (CPU {statistics.median(cpus):.3f}), max {max(runs):.3f} s"
    )


def bench_dashboard(now: datetime, label: str) -> list[str]:
    from django.test import Client

    from orderhub.accounts.models import User
    from orderhub.insights.scope import Period, Scope
    from orderhub.insights.selectors import dashboard_get

    client = Client()
    client.force_login(User.objects.get(username="boss"))
    today = now.date()
    lines = []
    for days in (7, 30):
        period = Period(today - timedelta(days=days - 1), today)
        figures = timed(lambda p=period: dashboard_get(period=p, scope=Scope(), now=now))
        lines.append(f"[{label}] dashboard_get, last {days} days + previous {days}: {figures}")
        query = {"from": period.first.isoformat(), "to": period.last.isoformat()}
        figures = timed(lambda q=query: client.get("/dashboard/", q))
        lines.append(f"[{label}] GET /dashboard/ (whole page), last {days} days: {figures}")
    figures = timed(lambda: client.get("/dashboard/", {"channel": "1"}), repeat=3)
    lines.append(f"[{label}] GET /dashboard/?channel=1 (one filter): {figures}")
    return lines


def store_today(now: datetime, tail: int) -> tuple[float, float, int]:
    """Store today's rows as the job does, counted up to `tail` log entries before the newest
    (and the orders created by then). Returns (wall s, CPU s, entries after the watermark)."""
    from django.db.models import Max

    from orderhub.insights.rollup import rollup_days
    from orderhub.insights.sources import Ids
    from orderhub.orders.models import LogAction, OperationLog

    newest = OperationLog.objects.aggregate(m=Max("id"))["m"] or 0
    cut = newest - tail
    orders = OperationLog.objects.filter(action=LogAction.CREATE, id__lte=cut).aggregate(m=Max("order_id"))
    upto = Ids(log_upto=cut, order_upto=orders["m"] or 0)
    t0, c0 = time.perf_counter(), time.process_time()
    rollup_days([now.date()], now=now, upto=upto)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    start = datetime.combine(now.date(), datetime.min.time(), tzinfo=now.tzinfo)
    after = OperationLog.objects.filter(id__gt=cut, at__gte=start).count()
    return wall, cpu, after


SETTINGS = """
from orderhub.settings import *  # noqa: F403
ORDERHUB_PORTAL = {"LIMITS": {k: [(10**9, 600)] for k in
    ("code_phone", "code_ip", "verify_phone", "verify_ip", "order_ip", "order_no")}}

import os
from django.db.backends.signals import connection_created

def _count_connection(sender, connection, **kwargs):
    with open(os.environ["BENCH_CONNECTIONS_FILE"], "a") as f:
        f.write(f"{os.getpid()}\\n")

connection_created.connect(_count_connection)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children (gunicorn workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    total = 0.0
    for p in [pid, *map(int, children)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _source_address_adapter() -> type:
    from requests.adapters import HTTPAdapter

    class Adapter(HTTPAdapter):
        """Connections from one local address (Linux routes all of 127/8 to the loopback)."""

        def __init__(self, address: str) -> None:
            self.address = address
            super().__init__()

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["source_address"] = (self.address, 0)
            super().init_poolmanager(*args, **kwargs)

    return Adapter


def lookup_keys(orders: int, n: int = 5000) -> list[tuple[str, str]]:
    """(order number, the receiver phone's last 4 digits) of n random root orders."""
    from orderhub.orders.models import Order

    rng = random.Random(7)
    ids = rng.sample(range(1, orders + 1), min(n, orders))
    rows = Order.objects.filter(pk__in=ids).values_list("order_no", "receiver_phone")
    return [(no, phone[-4:]) for no, phone in rows]


def bench_portal(
    url: str, clients: int, lookups: int, keys: list[tuple[str, str]], think: float
) -> list[str]:
    import requests

    SourceAddress = _source_address_adapter()
    tmp = Path(tempfile.mkdtemp(prefix="orderhub-bench-"))
    (tmp / "bench_portal_settings.py").write_text(SETTINGS)
    conn_file = tmp / "connections.txt"
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench_portal_settings",
           "PYTHONPATH": f"{tmp}:{REPO}", "ORDERHUB_LOG": "WARNING",
           "BENCH_CONNECTIONS_FILE": str(conn_file)}  # fmt: skip
    code = (
        "from orderhub.core.server import OrderHubServer, server_options;"
        f"OrderHubServer(server_options(host='127.0.0.1', port={port}, workers=4, threads=8)).run()"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", "import django; django.setup();" + code],
        env=env,
        stdout=subprocess.DEVNULL,  # gunicorn's access log
        stderr=subprocess.DEVNULL,
    )
    log(f"portal: server starting on port {port}, think time {think:g} s")
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/track", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.2)
        for _ in range(32):  # warm every worker (imports, templates) before timing
            requests.get(base + "/track", timeout=30)
        post_times: list[float] = []
        get_times: list[float] = []
        errors: list[str] = []
        found = [0]
        lock = threading.Lock()

        def client(n: int) -> None:
            rng = random.Random(n)
            s = requests.Session()
            # Each customer from an address of its own (127.0.0.2, …): the per-address limit
            # counts each one's lookups, not everybody's in one hot row.
            s.mount("http://", SourceAddress(f"127.0.{(n + 2) // 256}.{(n + 2) % 256}"))
            page = ""
            for _attempt in range(3):  # the first requests of a cold server can be slow
                try:
                    page = s.get(base + "/track", timeout=30).text
                    break
                except requests.RequestException:
                    continue
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            for _ in range(lookups):
                if think:
                    time.sleep(rng.expovariate(1 / think))
                number, last4 = rng.choice(keys)
                if rng.random() < 0.1:  # a mistyped phone ending: refused, after the same work
                    last4 = f"{(int(last4) + 1) % 10000:04d}"
                t0 = time.perf_counter()
                r = s.post(base + "/track/order", {"csrfmiddlewaretoken": token, "order_no": number,
                           "last4": last4}, headers={"Referer": base + "/track"}, timeout=30, allow_redirects=False)  # fmt: skip
                t1 = time.perf_counter()
                g = s.get(base + "/track/orders", timeout=30, allow_redirects=False)
                t2 = time.perf_counter()
                with lock:
                    post_times.append(t1 - t0)
                    get_times.append(t2 - t1)
                    found[0] += r.status_code == 302
                    if r.status_code not in (200, 302) or g.status_code not in (200, 302):
                        errors.append(f"{r.status_code}/{g.status_code}")

        log(f"portal: server warm, {clients} clients × {lookups} lookups")
        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        conn_file.write_text("")
        cpu0 = process_tree_cpu(server.pid)
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        server_cpu = process_tree_cpu(server.pid) - cpu0
        opened = len(conn_file.read_text().split())
    finally:
        server.terminate()
        server.wait(timeout=30)

    def q(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)] * 1000  # nearest rank

    n = len(post_times)
    return [
        f"portal, {clients} concurrent clients, think time {think:g} s: {n:,} lookups ({found[0]:,} found)"
        f" in {wall:.1f} s ({n / wall:.0f}/s), {len(errors)} errors; server CPU {server_cpu * 1000 / n:.1f} ms"
        f" per lookup (POST + GET); {opened} database connections opened",
        f"  POST /track/order (lookup): p50 {q(post_times, 0.5):.1f} ms, p99 {q(post_times, 0.99):.1f} ms, max {max(post_times) * 1000:.1f} ms",
        f"  GET /track/orders (timeline): p50 {q(get_times, 0.5):.1f} ms, p99 {q(get_times, 0.99):.1f} ms, max {max(get_times) * 1000:.1f} ms",
    ]


def database(kind: str, orders: int, reuse: bool) -> tuple[str, bool]:
    """(DATABASE_URL, whether it must be loaded) for this run's own database."""
    if kind == "sqlite":
        path = Path(tempfile.gettempdir()) / f"orderhub-bench-insights-{orders}.sqlite3"
        if not reuse and path.exists():
            path.unlink()
        return f"sqlite:///{path}", not reuse
    import psycopg

    base = subprocess.run([str(REPO / "scripts/pg.sh"), "url"], capture_output=True, text=True, check=True)
    admin = base.stdout.strip()
    name = f"orderhub_bench_insights_{orders}"
    if not reuse:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name, not reuse


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="measure the database a previous run loaded")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--lookups", type=int, default=40, help="lookups per client")
    parser.add_argument("--think", type=float, nargs="*", default=[0.0, 1.0], help="mean think times (s)")
    parser.add_argument("--tail", type=int, default=1000, help="log entries after today's watermark")
    parser.add_argument("--skip-portal", action="store_true")
    parser.add_argument("--skip-dashboard", action="store_true")
    parser.add_argument(
        "--backfill-days",
        type=int,
        default=0,
        help="store only this many past days instead of the job's first run",
    )
    args = parser.parse_args()

    url, fresh = database(args.db, args.orders, args.reuse)
    django_setup(url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from orderhub.insights.rollup import insights_refresh

    # Late in the day, so that today's share of the dashboard is as large as it gets.
    now = timezone.localtime().replace(hour=20, minute=0, second=0, microsecond=0)
    load1 = os.getloadavg()
    out = [
        f"{connection.vendor} {connection.settings_dict['NAME']}; {os.cpu_count()} cores; now = {now:%Y-%m-%d %H:%M};"
        f" load average at start {load1[0]:.1f} / {load1[1]:.1f} / {load1[2]:.1f}"
    ]
    call_command("migrate", verbosity=0)
    log("migrated")
    if fresh:
        md = master_data()
        t0 = time.perf_counter()
        entries = load(args.orders, args.days, now, md)
        out.append(
            f"loaded {args.orders:,} orders and {entries:,} log entries in {time.perf_counter() - t0:.0f} s"
        )
    from orderhub.insights.models import RefreshMark

    if args.backfill_days and not RefreshMark.objects.exists():
        # Only the days the dashboards below need (the first run would count all of them, at
        # the per-day cost printed here), then the job's marks as if it had run.
        from orderhub.insights.rollup import high_marks, rollup_days

        today = now.date()
        days = [today - timedelta(days=d) for d in range(1, args.backfill_days + 1)]
        upto = high_marks()
        t0 = time.perf_counter()
        rows = rollup_days(days, now=now, upto=upto)
        spent = time.perf_counter() - t0
        out.append(
            f"rollup of the last {len(days)} past days: {rows:,} rows in {spent:.1f} s ({spent / len(days):.2f} s a day)"
        )
        RefreshMark.objects.update_or_create(
            name="rollup", defaults={"last_log_id": upto.log_upto, "last_order_id": upto.order_upto}
        )
    elif not RefreshMark.objects.exists():
        t0 = time.perf_counter()
        rows = insights_refresh(now=now)
        out.append(
            f"insights_refresh, first run (every past day): {rows:,} rows in {time.perf_counter() - t0:.1f} s"
        )
    if not args.skip_dashboard:
        log("dashboard")
        wall, cpu, _after = store_today(now, 0)
        out.append(
            f"the job storing today at {now:%H:%M} (every 5 min; all scopes): {wall:.2f} s (CPU {cpu:.2f} s)"
        )
        insights_refresh(now=now)
        t0 = time.perf_counter()
        insights_refresh(now=now)
        out.append(
            f"insights_refresh, steady state (nothing new): {(time.perf_counter() - t0) * 1000:.0f} ms"
        )
        out += bench_dashboard(now, "settled")
        if args.tail:
            _wall, _cpu, after = store_today(now, args.tail)
            out += bench_dashboard(now, f"{after:,} of today's entries after the watermark")
            store_today(now, 0)
    keys = lookup_keys(args.orders)
    from django.db import connections

    connections.close_all()
    for think in () if args.skip_portal else args.think:
        out += bench_portal(url, args.clients, args.lookups, keys, think)
    load1 = os.getloadavg()
    out.append(f"load average at the end {load1[0]:.1f} / {load1[1]:.1f} / {load1[2]:.1f}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
