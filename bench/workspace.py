"""Benchmark: the staff workspace at 100,000 active orders, over HTTP against `orderhub serve`.

    .venv/bin/python bench/workspace.py [--db sqlite|postgres] [--orders 100000] [--clients 20]
                                        [--seconds 20] [--floor-seconds 60] [--floor-writes 1]

On a fresh database (a temporary SQLite file, or a new database `orderhub_bench_ws` in the
throwaway cluster of scripts/pg.sh) it migrates, then generates the orders fast with bulk inserts,
but as the services would have left them: order lines, holds in 待审核, e-waybills and tracked
parcels with carrier events, and for every order a complete hash-chained operation log
(create + each transition, same hashing as orders.audit, so `orderhub audit verify` holds).
`--orders` counts the active ones (not completed / cancelled); 10 % more finished orders sit
beside them.

It then starts a real `orderhub serve` (gunicorn, its default workers and threads) on 127.0.0.1
and measures, each phase after a pass with one client (the service time of each request on an
otherwise idle server):

Stress (closed loop, no think time: --clients threads with keep-alive connections, logged in as
customer service, manager, warehouse and sales staff in turn, each sending its next request the
moment the last one answers, --seconds per phase):
1. board:  GET /board/ — the full page with counts and the most urgent cards per column;
2. poll:   GET /board/poll/ with the signatures the page carried (the 2-second live update);
3. search: GET /search/?q=… with an order number, channel order number, phone or waybill number
           drawn at random, i.e. search straight to the order's timeline (one request);
People at work (--floor-seconds, after 10 s of warm-up in which everyone opens the board), the
load the targets are judged on: the same --clients people, each with the board open and polling
every 2 s as the page does, reloading it every ~20 s and looking an order up every ~10 s, while
--floor-writes orders per second are approved through the REST API (others' work: every write
changes the board for everyone).

p50 / p99 / max latency, requests/s and the server's CPU time per request are printed.
Targets: board p99 ≤ 300 ms, search-to-timeline p99 ≤ 100 ms. Runs on purpose, never in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import django_setup, log, pg_fresh_database

REPO = Path(__file__).resolve().parent.parent
BENCH_DB = "orderhub_bench_ws"
# Share of active orders per state, roughly a busy afternoon.
MIX = (
    ("pending_review", 0.18),
    ("split", 0.07),
    ("allocating", 0.15),
    ("label_printed", 0.15),
    ("shipped", 0.37),
    ("exception", 0.08),
)
FORWARD = ("split", "allocating", "label_printed", "shipped")
TRANSITION_NAMES = {
    "split": "approve",
    "allocating": "allocate",
    "label_printed": "print_label",
    "shipped": "ship",
    "exception": "flag_exception",
    "completed": "complete",
    "cancelled": "cancel",
}


# --- database ---------------------------------------------------------------------------------


def fresh_database(kind: str) -> tuple[str, Any]:
    """A DATABASE_URL for a new, empty database, and a cleanup function."""
    if kind == "sqlite":
        tmp = tempfile.mkdtemp(prefix="orderhub-bench-ws-")
        return f"sqlite:///{tmp}/bench.sqlite3", lambda: subprocess.run(["rm", "-rf", tmp], check=False)
    running = subprocess.run([REPO / "scripts" / "pg.sh", "status"], capture_output=True).returncode == 0
    url = (
        subprocess.run([REPO / "scripts" / "pg.sh", "start"], check=True, stdout=subprocess.PIPE, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )

    def stop() -> None:
        if not running:
            subprocess.run([REPO / "scripts" / "pg.sh", "stop"], check=False)

    return pg_fresh_database(url, BENCH_DB), stop


# --- generating the orders ----------------------------------------------------------------------


def company() -> dict[str, Any]:
    from orderhub.accounts.models import LegalEntity, User
    from orderhub.accounts.roles import Role
    from orderhub.accounts.services import roles_ensure, user_set_roles
    from orderhub.catalog.models import Customer, CustomerTier, Sku
    from orderhub.fulfilment.models import Carrier
    from orderhub.ingest.models import Channel, ChannelKind
    from orderhub.inventory.models import Warehouse
    from orderhub.web.models import UserWarehouse

    roles_ensure()
    users = {}
    for key, role in (
        ("cs", Role.CUSTOMER_SERVICE),
        ("mgr", Role.MANAGER),
        ("wh", Role.WAREHOUSE),
        ("sales", Role.SALES),
        ("sales2", Role.SALES),
        ("lg", Role.LOGISTICS),
    ):
        user = User.objects.create(username=f"bench-{key}", display_name=f"bench-{key}")
        user_set_roles(user=user, roles=[role])
        users[key] = user
    channels = [
        Channel.objects.create(code=code, name=name, kind=kind)
        for code, name, kind in (
            ("pdd", "拼多多", ChannelKind.PINDUODUO),
            ("tb", "淘宝", ChannelKind.TAOBAO),
            ("manual", "手工", ChannelKind.MANUAL),
        )
    ]
    warehouses = [
        Warehouse.objects.create(code=c, name=n, province="浙江省")
        for c, n in (("HZ", "杭州仓"), ("NB", "宁波仓"), ("TZ", "台州仓"))
    ]
    UserWarehouse.objects.create(user=users["wh"], warehouse=warehouses[0])
    entity = LegalEntity.objects.create(code="HT", name="台州恒通贸易有限公司")
    skus = [
        Sku.objects.create(code=c, name=n, weight_g=500, unit_price=Decimal(p))
        for c, n, p in (("BP-2231", "陶瓷刹车片 前轮", "88.00"), ("OF-1102", "机油滤清器", "12.50"))
    ]
    tiers = [CustomerTier.VIP, CustomerTier.A, CustomerTier.B, CustomerTier.C]
    customers = [
        Customer.objects.create(
            code=f"D{i:04d}",
            name=f"经销商{i:03d}",
            phone=f"1380000{i:04d}",
            tier=tiers[i % 4],
            owner=users["sales" if i % 2 else "sales2"],
        )
        for i in range(200)
    ]
    carrier = Carrier.objects.create(code="zto", name="中通快递", number_prefix="ZT")
    return {
        "users": users,
        "channels": channels,
        "warehouses": warehouses,
        "entity": entity,
        "skus": skus,
        "customers": customers,
        "carrier": carrier,
    }


def states_for(n_active: int, rng: random.Random) -> list[str]:
    states = []
    for status, share in MIX:
        states += [status] * int(n_active * share)
    states += ["shipped"] * (n_active - len(states))
    states += ["completed"] * (n_active // 12) + ["cancelled"] * (n_active // 50)
    rng.shuffle(states)
    return states


def path_to(status: str) -> list[str]:
    if status == "cancelled":
        return ["cancelled"]
    if status == "exception":
        return [*FORWARD, "exception"]
    if status == "completed":
        return [*FORWARD, "completed"]
    return list(FORWARD[: FORWARD.index(status) + 1]) if status in FORWARD else []


class Inserter:
    """Rows for one model as plain dicts, written with one executemany per batch.

    Ten times faster than bulk_create for these volumes: no model instances, values adapted
    once per column kind exactly as Django would (datetimes, decimals, JSON)."""

    def __init__(self, model: Any) -> None:
        from django.db import connection, models

        self.model = model
        self.rows: list[tuple[Any, ...]] = []
        ops = connection.ops
        self.fields = [f for f in model._meta.concrete_fields]
        self.defaults: dict[str, Any] = {}
        self.adapt: list[Any] = []
        for f in self.fields:
            if f.has_default():
                self.defaults[f.attname] = f.get_default()
            elif f.null:
                self.defaults[f.attname] = None
            elif isinstance(f, (models.CharField, models.TextField)):
                self.defaults[f.attname] = ""
            if isinstance(f, models.DateTimeField):
                self.adapt.append(ops.adapt_datetimefield_value)
            elif isinstance(f, models.DecimalField):
                self.adapt.append(
                    lambda v, f=f: ops.adapt_decimalfield_value(v, f.max_digits, f.decimal_places)
                )
            elif isinstance(f, models.JSONField):
                self.adapt.append(lambda v, f=f: ops.adapt_json_value(v, f.encoder))
            else:
                self.adapt.append(None)
        cols = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({cols}) VALUES ({marks})"

    def add(self, **values: Any) -> None:
        row = {**self.defaults, **values}
        self.rows.append(
            tuple(
                (a(row[f.attname]) if a and row[f.attname] is not None else row[f.attname])
                for f, a in zip(self.fields, self.adapt, strict=True)
            )
        )

    def flush(self, cursor: Any) -> None:
        if self.rows:
            cursor.executemany(self.sql, self.rows)
            self.rows = []


def generate(n_active: int, seed: int = 7) -> dict[str, list[str]]:
    """Insert the orders with lines, holds, waybills, parcels, events and valid log chains."""
    from types import SimpleNamespace

    from django.db import connection, transaction
    from django.utils import timezone

    from orderhub.fulfilment.models import Waybill
    from orderhub.orders.audit import GENESIS, entry_hash
    from orderhub.orders.models import OperationLog, Order, OrderHold, OrderLine
    from orderhub.tracking.models import Shipment, TrackingEvent

    rng = random.Random(seed)
    c = company()
    users, now = c["users"], timezone.now()
    actor_for = {"split": "cs", "allocating": "wh", "label_printed": "wh", "shipped": "wh"}
    statuses = states_for(n_active, rng)
    keys: dict[str, list[str]] = {"order_no": [], "channel_order_no": [], "phone": [], "waybill": []}
    tables = {
        m: Inserter(m) for m in (Order, OrderLine, OperationLog, OrderHold, Waybill, Shipment, TrackingEvent)
    }
    started = time.monotonic()
    log_id = line_id = event_id = hold_id = waybill_id = 0
    for i, status in enumerate(statuses):
        pk = i + 1
        steps = path_to(status)
        created = now - timedelta(minutes=rng.randint(30, 7 * 24 * 60))
        gaps = sorted(rng.uniform(0, (now - created).total_seconds()) for _ in steps)
        changed = created + timedelta(seconds=gaps[-1]) if steps else created
        customer = rng.choice(c["customers"])
        channel = c["channels"][i % 3]
        head = GENESIS
        entries = [("create", "", "", "", created, users["cs"])]
        prev = "pending_review"
        for step, gap in zip(steps, gaps, strict=True):
            at = created + timedelta(seconds=gap)
            entries.append(
                ("transition", TRANSITION_NAMES[step], prev, step, at, users[actor_for.get(step, "lg")])
            )
            prev = step
        for seq, (action, name, src, dst, at, actor) in enumerate(entries, start=1):
            log_id += 1
            e = SimpleNamespace(
                order_id=pk,
                seq=seq,
                action=action,
                transition=name,
                from_status=src,
                to_status=dst,
                actor_id=actor.pk,
                actor_name=str(actor),
                automatic=False,
                reason="客户要求取消" if dst == "cancelled" else "",
                details={},
                at=at,
                prev_hash=head,
            )
            e.hash = entry_hash(e)  # type: ignore[arg-type]
            head = e.hash
            tables[OperationLog].add(id=log_id, **vars(e))
        tables[Order].add(
            id=pk,
            order_no=f"OH{pk:010d}",
            channel_id=channel.pk,
            channel_order_no=f"{channel.code.upper()}{pk:09d}",
            ordered_at=created,
            customer_tier=customer.tier,
            status=status,
            last_operator_id=entries[-1][5].pk,
            updated_at=changed,
            status_changed_at=changed,
            customer_id=customer.pk,
            receiver_name="王师傅",
            receiver_phone=f"139{pk:08d}",
            province="浙江省",
            province_code="330000",
            city="台州市",
            district="椒江区",
            address_detail="东环大道88号",
            goods_amount=Decimal("1760.00"),
            total_amount=Decimal("1760.00"),
            promised_at=created + timedelta(days=3),
            priority=2 if rng.random() < 0.05 else 0,
            owner_id=customer.owner_id,
            selling_entity_id=c["entity"].pk,
            warehouse_id=c["warehouses"][i % 3].pk if status not in ("pending_review", "split") else None,
            lines_snapshot=[],
            created_at=created,
            version=1 + len(steps),
            log_seq=len(entries),
            log_head=head,
        )
        line_id += 1
        tables[OrderLine].add(
            id=line_id,
            order_id=pk,
            line_no=1,
            sku_id=c["skus"][0].pk,
            sku_code="BP-2231",
            name="陶瓷刹车片 前轮",
            quantity=rng.randint(1, 40),
            unit_price=Decimal("88.00"),
        )
        if rng.random() < 0.6:
            line_id += 1
            tables[OrderLine].add(
                id=line_id,
                order_id=pk,
                line_no=2,
                sku_id=c["skus"][1].pk,
                sku_code="OF-1102",
                name="机油滤清器",
                quantity=rng.randint(1, 20),
                unit_price=Decimal("12.50"),
            )
        if status == "pending_review" and rng.random() < 0.1:
            hold_id += 1
            tables[OrderHold].add(
                id=hold_id, order_id=pk, reason="incomplete_address", detail="缺少门牌号", created_at=created
            )
        number = f"ZT{7_000_000_000 + pk}"
        if status in ("label_printed", "shipped", "exception", "completed"):
            waybill_id += 1
            tables[Waybill].add(
                id=waybill_id,
                order_id=pk,
                carrier_id=c["carrier"].pk,
                number=number,
                provider="simulated",
                created_at=changed,
            )
        if status in ("shipped", "exception", "completed"):
            tables[Shipment].add(
                id=pk,
                order_id=pk,
                carrier="zto",
                tracking_no=number,
                provider="simulated",
                province_code="330000",
                status="in_transit",
                shipped_at=changed,
                quiet_since=changed,
                active=status != "completed",
                created_at=changed,
            )
            for k, text in enumerate(("快件已揽收", "快件已到达【杭州转运中心】")):
                event_id += 1
                tables[TrackingEvent].add(
                    id=event_id,
                    shipment_id=pk,
                    at=changed + timedelta(hours=k + 1),
                    status="in_transit",
                    description=text,
                    area="杭州",
                    source="poll",
                    received_at=changed,
                )
        if status not in ("completed", "cancelled") and i % 997 == 0:
            keys["order_no"].append(f"OH{pk:010d}")
            keys["channel_order_no"].append(f"{channel.code.upper()}{pk:09d}")
            keys["phone"].append(f"139{pk:08d}")
            if status in ("label_printed", "shipped", "exception"):
                keys["waybill"].append(number)
        if pk % 10_000 == 0 or pk == len(statuses):
            with transaction.atomic(), connection.cursor() as cur:
                for table in tables.values():
                    table.flush(cur)
            log(f"  {pk:,} / {len(statuses):,} orders ({time.monotonic() - started:.0f} s)")
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            from django.core.management.color import no_style

            for sql in connection.ops.sequence_reset_sql(
                no_style(), [Order, OrderLine, OperationLog, OrderHold, Waybill, Shipment, TrackingEvent]
            ):
                cur.execute(sql)
        cur.execute("ANALYZE")
    return keys


# --- the server and the clients -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO), "ORDERHUB_LOG": "WARNING"}
    cmd = [
        sys.executable,
        "-m",
        "orderhub",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-collectstatic",
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=out.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    import httpx

    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"orderhub serve exited: see {out}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit("orderhub serve did not answer within 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def session_cookies() -> list[str]:
    """Session keys for the staff the clients act as (as if they had logged in)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from orderhub.accounts.models import User

    keys = []
    for name in ("bench-cs", "bench-mgr", "bench-wh", "bench-sales"):
        user = User.objects.get(username=name)
        s = SessionStore()
        s[SESSION_KEY] = str(user.pk)
        s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.create()
        keys.append(s.session_key)
    return keys


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children (gunicorn workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    pids += [int(c) for c in children]
    total = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


SIG = re.compile(r'name="(sig_[a-z_]+)" value="([0-9a-f]+)"')


def run_phase(
    base: str, sessions: list[str], clients: int, seconds: float, make_request: Any, server_pid: int = 0
) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        with httpx.Client(
            base_url=base, cookies={"sessionid": sessions[n % len(sessions)]}, timeout=30
        ) as http:
            state: dict[str, Any] = {}
            while time.monotonic() < stop_at:
                try:
                    method, path, params, ok = make_request(http, rng, state)
                    t0 = time.perf_counter()
                    response = http.request(method, path, params=params)
                    dt = time.perf_counter() - t0
                except httpx.HTTPError as exc:  # a timeout counts as an error, not a crash
                    with lock:
                        errors.append(f"{type(exc).__name__}")
                    continue
                with lock:
                    if response.status_code in ok:
                        latencies.append(dt)
                    else:
                        errors.append(f"{response.status_code} {path}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    cpu0 = process_tree_cpu(server_pid) if server_pid else 0.0
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    server_cpu = process_tree_cpu(server_pid) - cpu0 if server_pid else 0.0
    if not latencies:
        raise SystemExit(f"no successful request: {errors[:5]}")
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "rps": len(latencies) / wall,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "server_cpu_ms_per_request": server_cpu * 1000 / max(1, len(latencies) + len(errors)),
        "load_average_1m_after": os.getloadavg()[0],
    }


def phases(
    base: str, sessions: list[str], keys: dict[str, list[str]], args: argparse.Namespace, server_pid: int
) -> dict[str, Any]:
    def board(http: Any, rng: random.Random, state: dict[str, Any]) -> tuple[str, str, Any, tuple[int, ...]]:
        return "GET", "/board/", None, (200,)

    def poll(http: Any, rng: random.Random, state: dict[str, Any]) -> tuple[str, str, Any, tuple[int, ...]]:
        if "sigs" not in state:
            state["sigs"] = dict(SIG.findall(http.get("/board/").text))
        return "GET", "/board/poll/", state["sigs"], (200, 204)

    flat = [(kind, value) for kind, values in keys.items() for value in values]

    def search(http: Any, rng: random.Random, state: dict[str, Any]) -> tuple[str, str, Any, tuple[int, ...]]:
        _kind, q = rng.choice(flat)
        return "GET", "/search/", {"q": q, "for_customer": "0"}, (200,)

    out = {}
    for name, fn in (("board", board), ("poll", poll), ("search_to_timeline", search)):
        run_phase(base, sessions, args.clients, 2, fn)  # warm-up: connections, caches
        out[name] = run_phase(base, sessions, args.clients, args.seconds, fn, server_pid)
        r = out[name]
        log(
            f"  {name:>18}: p50 {r['p50_ms']:.0f} ms  p99 {r['p99_ms']:.0f} ms  max {r['max_ms']:.0f} ms"
            f"  {r['rps']:.0f} req/s  server CPU {r['server_cpu_ms_per_request']:.1f} ms/req"
            f"  ({r['requests']} ok, {r['errors']} errors, load {r['load_average_1m_after']:.1f})"
        )
    return out


STAMP = re.compile(r'id="board-stamp" name="stamp" value="(\d+)"')


def run_floor(
    base: str,
    sessions: list[str],
    clients: int,
    seconds: float,
    keys: dict[str, list[str]],
    server_pid: int,
    token: str,
    writable: list[tuple[int, int]],
    writes_per_second: float,
    warmup: float = 10.0,
) -> dict[str, Any]:
    """People at work: each keeps the board open (a poll every 2 s, as the page does), reloads it
    every ~20 s and looks an order up every ~10 s, while orders are approved through the API at
    `writes_per_second`. Latency per kind of request; server CPU over the whole phase."""
    import httpx

    flat = [value for values in keys.values() for value in values]
    latencies: dict[str, list[float]] = {"board": [], "poll": [], "search_to_timeline": []}
    errors: list[str] = []
    lock = threading.Lock()
    # Everyone opens the board in the first 2 s (a cold start no floor sees twice a day): the
    # first `warmup` seconds are run but not recorded, the phase then runs `seconds` more.
    record_from = time.monotonic() + warmup
    stop_at = record_from + seconds

    def timed(http: Any, kind: str, path: str, params: Any) -> Any:
        t0 = time.perf_counter()
        try:
            response = http.get(path, params=params)
        except httpx.HTTPError as exc:
            with lock:
                errors.append(type(exc).__name__)
            return None
        with lock:
            if response.status_code in (200, 204):
                if time.monotonic() >= record_from:
                    latencies[kind].append(time.perf_counter() - t0)
            else:
                errors.append(f"{response.status_code} {path}")
        return response

    def person(n: int) -> None:
        rng = random.Random(n)
        time.sleep(rng.uniform(0, 2))  # people do not start in step
        with httpx.Client(
            base_url=base, cookies={"sessionid": sessions[n % len(sessions)]}, timeout=60
        ) as http:
            params: dict[str, str] = {}
            tick = rng.randrange(10)
            while time.monotonic() < stop_at:
                started = time.monotonic()
                if not params or tick % 10 == 0:
                    page = timed(http, "board", "/board/", None)
                    if page is not None:
                        params = dict(SIG.findall(page.text))
                        stamp = STAMP.search(page.text)
                        params["stamp"] = stamp.group(1) if stamp else ""
                else:
                    timed(http, "poll", "/board/poll/", params)
                if tick % 5 == 2:
                    timed(
                        http, "search_to_timeline", "/search/", {"q": rng.choice(flat), "for_customer": "0"}
                    )
                tick += 1
                time.sleep(max(0.0, 2.0 - (time.monotonic() - started)))

    writes: list[float] = []

    def writer() -> None:
        """Someone elsewhere approving orders (a change every 1/writes_per_second s)."""
        if writes_per_second <= 0:
            return
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            for pk, version in writable:
                started = time.monotonic()
                if started >= stop_at:
                    return
                response = http.post(
                    f"/api/orders/{pk}/transitions", json={"to": "split", "expected_version": version}
                )
                with lock:
                    if response.status_code != 200:
                        errors.append(f"{response.status_code} write")
                    elif started >= record_from:
                        writes.append(time.monotonic() - started)
                time.sleep(max(0.0, 1 / writes_per_second - (time.monotonic() - started)))

    threads = [threading.Thread(target=person, args=(n,)) for n in range(clients)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    time.sleep(max(0.0, record_from - time.monotonic()))
    cpu0 = process_tree_cpu(server_pid)
    for t in threads:
        t.join()
    server_cpu = process_tree_cpu(server_pid) - cpu0
    out: dict[str, Any] = {
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "writes": len(writes),
        "write_p50_ms": percentile(writes, 50) * 1000 if writes else None,
        "server_cpu_ms_per_second": server_cpu * 1000 / seconds,
    }
    for kind, values in latencies.items():
        if values:
            out[kind] = {
                "requests": len(values),
                "p50_ms": percentile(values, 50) * 1000,
                "p99_ms": percentile(values, 99) * 1000,
                "max_ms": max(values) * 1000,
            }
            r = out[kind]
            log(
                f"  floor {kind:>18}: p50 {r['p50_ms']:.0f} ms  p99 {r['p99_ms']:.0f} ms"
                f"  max {r['max_ms']:.0f} ms  ({r['requests']} requests)"
            )
    log(
        f"  floor: {len(writes)} writes, server CPU {out['server_cpu_ms_per_second']:.0f} ms per second,"
        f" {len(errors)} errors"
    )
    out["load_average_1m_after"] = os.getloadavg()[0]
    return out


def check_search_hits(base: str, session: str, keys: dict[str, list[str]]) -> None:
    """Every kind of key must reach a timeline (a wrong key would make the search look fast)."""
    import httpx

    with httpx.Client(base_url=base, cookies={"sessionid": session}, timeout=30) as http:
        for kind, values in keys.items():
            text = http.get("/search/", params={"q": values[0], "for_customer": "0"}).text
            if 'id="timeline"' not in text:
                raise SystemExit(f"search by {kind} {values[0]!r} did not reach a timeline")


def writes_prepared(n: int) -> tuple[str, list[tuple[int, int]]]:
    """An API token (customer service) and up to n unheld 待审核 orders to approve, at random."""
    from orderhub.accounts.models import User
    from orderhub.accounts.services import api_token_create
    from orderhub.orders.models import Order, OrderHold

    held = OrderHold.objects.filter(resolved_at__isnull=True).values("order_id")
    rows = list(
        Order.objects.filter(status="pending_review").exclude(pk__in=held).values_list("pk", "version")
    )
    random.Random(3).shuffle(rows)
    _token, raw = api_token_create(user=User.objects.get(username="bench-cs"), name="bench")
    return raw, rows[:n]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--orders", type=int, default=100_000, help="active orders (default 100000)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20, help="length of each stress phase")
    parser.add_argument("--no-stress", action="store_true", help="skip the closed-loop stress phases")
    parser.add_argument("--floor-seconds", type=float, default=60, help="length of the people-at-work phase")
    parser.add_argument(
        "--floor-writes", type=float, default=1.0, help="orders approved per second during it (0: none)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    url, cleanup = fresh_database(args.db)
    server = None
    try:
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO)}
        subprocess.run([sys.executable, "-m", "orderhub", "migrate", "-v", "0"], env=env, check=True)
        django_setup(url)
        from django.db import connection

        log(f"generating {args.orders:,} active orders on {connection.vendor}")
        t0 = time.monotonic()
        keys = generate(args.orders)
        log(f"generated in {time.monotonic() - t0:.0f} s")
        sessions = session_cookies()
        token, writable = writes_prepared(int(args.floor_writes * (args.floor_seconds + 10)) + 10)
        connection.close()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        results: dict[str, Any] = {
            "db": connection.vendor,
            "orders_active": args.orders,
            "clients": args.clients,
        }
        server = start_server(url, port, Path(tempfile.gettempdir()) / "orderhub-bench-ws-server.log")
        check_search_hits(base, sessions[0], keys)
        log("one client, one request at a time (service time)")
        single = argparse.Namespace(clients=1, seconds=min(args.seconds, 10))
        results["one_client"] = phases(base, sessions, keys, single, server.pid)
        if not args.no_stress:
            log(f"stress: {args.clients} clients without think time, {args.seconds:.0f} s per phase")
            results["stress"] = phases(base, sessions, keys, args, server.pid)
        if args.floor_seconds > 0:  # --floor-seconds 0: the stress phases only
            log(
                f"{args.clients} people at work for {args.floor_seconds:.0f} s,"
                f" {args.floor_writes:g} orders approved per second through the API"
            )
            results["floor"] = run_floor(
                base,
                sessions,
                args.clients,
                args.floor_seconds,
                keys,
                server.pid,
                token,
                writable,
                args.floor_writes,
            )
        stop_server(server)
        server = None
        print(json.dumps(results, indent=2))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        if server is not None:
            stop_server(server)
        cleanup()


if __name__ == "__main__":
    main()
