"""Benchmark: orders end to end through the fulfilment path, on SQLite and PostgreSQL.

    .venv/bin/python bench/flow.py [--db sqlite|postgres|both] [--orders N] [--clients 1,2] [--pg-url URL]

Each client process takes its own N orders of 3 lines, one after the other, through create →
approve (automatic review, all 8 default rules) → split (default rules) → allocate (reserve
stock) → waybill (simulated provider, carrier rules) → ship (consume stock, owe the report-back
job), one transaction per step, as an API client or a person at a screen would. Every client
first takes --warm orders through uncounted (a running process), then all start together.
Prints orders/s end to end (all clients' orders / wall time) and per step, and CPU per order,
for each client count of --clients, on a fresh database (PostgreSQL: a database of its own in
the cluster of --pg-url, default `scripts/pg.sh start`); on SQLite also how long each step holds
the write lock and waits for it. Figures: bench/README.md ("Fulfilment").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import common
from common import log, pg_fresh_database

REPO = Path(__file__).resolve().parent.parent
STEPS = ("create", "approve", "split", "allocate", "waybill", "ship")


# --- databases (parent process) -----------------------------------------------------------------


def pg_base_url(given: str | None) -> str:
    if given:
        return given
    out = subprocess.run([REPO / "scripts" / "pg.sh", "start"], check=True, stdout=subprocess.PIPE, text=True)
    return out.stdout.strip().splitlines()[-1]


# --- inside a database run (child process) ------------------------------------------------------


def django_setup(url: str) -> None:
    """Django against `url`, migrated (unless ORDERHUB_SKIP_MIGRATE=1)."""
    common.django_setup(url)
    if os.environ.get("ORDERHUB_SKIP_MIGRATE") != "1":
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def server_description() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT current_setting('server_version'), current_setting('fsync')")
            version, fsync = cur.fetchone()
            return f"PostgreSQL {version.split()[0]} (fsync={fsync})"
        cur.execute("SELECT sqlite_version()")
        return f"SQLite {cur.fetchone()[0]} (WAL)"


PROVINCES = (
    ("浙江省", "杭州市", "西湖区"),
    ("广东省", "广州市", "天河区"),
    ("四川省", "成都市", "武侯区"),
    ("江苏省", "南京市", "鼓楼区"),
    ("北京市", "北京市", "朝阳区"),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
)


def setup_company(*, skus: int, stock_per_sku: int) -> dict[str, Any]:
    """Staff, a channel, a dealer, 3 warehouses, `skus` SKUs stocked in every warehouse, carriers."""
    from orderhub.accounts.models import User
    from orderhub.accounts.roles import Role
    from orderhub.accounts.services import roles_ensure, system_user, user_set_roles
    from orderhub.catalog.models import Customer, CustomerTier, Sku
    from orderhub.fulfilment.models import Carrier, CarrierRule, ProvincePreference
    from orderhub.ingest.models import Channel, ChannelKind
    from orderhub.inventory.models import Stock, StockMovement, Warehouse

    roles_ensure()
    system_user()
    users = {}
    for key, role in (("cs", Role.CUSTOMER_SERVICE), ("wh", Role.WAREHOUSE)):
        user = User.objects.create(username=f"bench-{key}", display_name=key)
        user_set_roles(user=user, roles=[role])
        users[key] = user
    Channel.objects.create(code="bench", name="压测渠道", kind=ChannelKind.MANUAL)
    Customer.objects.create(code="BENCH01", name="椒江恒通汽配", tier=CustomerTier.A, is_dealer=True)
    whs = [
        Warehouse.objects.create(code="HZ", name="杭州仓", province="浙江省", city="杭州市", priority=10),
        Warehouse.objects.create(code="GZ", name="广州仓", province="广东省", city="广州市", priority=20),
        Warehouse.objects.create(code="CD", name="成都仓", province="四川省", city="成都市", priority=30),
    ]
    for prov, wh in (("浙江省", 0), ("江苏省", 0), ("广东省", 1), ("四川省", 2), ("新疆维吾尔自治区", 2)):
        ProvincePreference.objects.create(province=prov, warehouse=whs[wh], rank=1)
    Sku.objects.bulk_create(
        Sku(code=f"SKU{i:05d}", name=f"配件{i:05d}", weight_g=200 + (i % 40) * 50, barcode=f"69{i:011d}")
        for i in range(skus)
    )
    sku_ids = list(Sku.objects.order_by("pk").values_list("pk", flat=True))
    Stock.objects.bulk_create(
        Stock(warehouse=wh, sku_id=s, on_hand=stock_per_sku, bin_location=f"{s % 30:02d}-{s % 7}")
        for wh in whs
        for s in sku_ids
    )
    StockMovement.objects.bulk_create(
        StockMovement(stock=st, kind="receipt", on_hand_delta=st.on_hand, note="期初")
        for st in Stock.objects.all()
    )
    carriers = {}
    for code, name, prefix in (
        ("ZTO", "中通快递", "7"),
        ("EMS", "邮政EMS", "1"),
        ("YUNDA", "韵达快递", "43"),
    ):
        carriers[code] = Carrier.objects.create(
            code=code,
            name=name,
            number_prefix=prefix,
            range_start=10**11,
            next_number=10**11,
            range_end=10**12 - 1,
        )
    CarrierRule.objects.create(
        position=1, name="江浙沪走中通", provinces="浙江省、江苏省、上海市", carrier=carriers["ZTO"]
    )
    CarrierRule.objects.create(
        position=2, name="新疆西藏走邮政", provinces="新疆、西藏", carrier=carriers["EMS"]
    )
    CarrierRule.objects.create(position=9, name="默认韵达", carrier=carriers["YUNDA"])
    return users


def make_draft(n: int, skus: int) -> Any:
    from orderhub.orders.services import LineDraft, OrderDraft

    prov, city, district = PROVINCES[n % len(PROVINCES)]
    codes = [f"SKU{(n * 7 + k * 13) % skus:05d}" for k in range(3)]
    return OrderDraft(
        channel_code="bench",
        channel_order_no=f"F{n:08d}",
        customer_code="BENCH01",
        receiver_name=f"客户{n}",
        receiver_phone=f"138{n % 100_000_000:08d}",
        province=prov,
        city=city,
        district=district,
        address_detail=f"测试路{n % 999 + 1}号",
        lines=[LineDraft(c, 1 + (n + k) % 3, Decimal("25.00")) for k, c in enumerate(codes)],
    )


class WriteLock:
    """Per step, on SQLite: time spent taking the write lock (BEGIN IMMEDIATE waits on the busy
    timeout while another process writes), BEGINs that waited over half a millisecond, and time
    the lock was held (BEGIN to COMMIT; other writers wait that long)."""

    def __init__(self) -> None:
        self.step = ""
        self.waited = dict.fromkeys(STEPS, 0.0)
        self.waits = dict.fromkeys(STEPS, 0)
        self.held = dict.fromkeys(STEPS, 0.0)
        self.pending: tuple[str, float] | None = None

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        from django.db import connection, transaction

        if self.pending is not None and connection.in_atomic_block:
            # The first statement after BEGIN: the atomic block is open now, so on_commit waits
            # for its COMMIT (at BEGIN itself it would run at once).
            step, got = self.pending
            self.pending = None

            def committed() -> None:
                self.held[step] += time.perf_counter() - got

            transaction.on_commit(committed)
        if not sql.startswith("BEGIN"):
            return execute(sql, params, many, context)
        t0 = time.perf_counter()
        result = execute(sql, params, many, context)
        got = time.perf_counter()
        self.waited[self.step] += got - t0
        self.waits[self.step] += got - t0 > 0.0005
        self.pending = (self.step, got)
        return result

    @contextlib.contextmanager
    def counting(self) -> Iterator[WriteLock]:
        from django.db import connection

        with connection.execute_wrapper(self):
            yield self


def client_run(*, first: int, n_orders: int, skus: int, warm: int, go_file: Path, ready_file: Path) -> dict:
    """Take orders first … first+n_orders-1 through the whole path, one transaction per step.

    `warm` orders go through first, uncounted (a running process has its queries compiled and
    its rule tables cached); then the client waits for `go_file`, so that all clients start
    together, and times every step of every order.
    """
    from orderhub.accounts.models import User
    from orderhub.accounts.services import system_user
    from orderhub.fulfilment.allocation import order_allocate
    from orderhub.fulfilment.review import order_auto_review
    from orderhub.fulfilment.split import order_split
    from orderhub.fulfilment.waybills import waybills_issue
    from orderhub.orders.services import order_create, order_transition

    cs = User.objects.get(username="bench-cs")
    wh = User.objects.get(username="bench-wh")
    bot = system_user()  # the autopilot looks it up once per run
    _ = cs.role_names, wh.role_names, bot.role_names
    seconds = dict.fromkeys(STEPS, 0.0)
    cpu = dict.fromkeys(STEPS, 0.0)
    lock = WriteLock()

    def one(n: int, timed: bool) -> bool:
        """One order through every step; False when a step left it behind."""
        marks = [(time.perf_counter(), time.process_time())]

        def mark(next_step: str) -> None:
            marks.append((time.perf_counter(), time.process_time()))
            lock.step = next_step

        lock.step = "create"
        order_id = order_create(draft=make_draft(n, skus), actor=cs)[0].pk
        mark("approve")
        ok = order_auto_review(order_id=order_id, actor=bot).approved
        mark("split")
        cards = [order_id]
        if ok:
            cards = [p.pk for p in order_split(order_id=order_id, actor=bot).parts] or [order_id]
        mark("allocate")
        if ok:
            ok = all(order_allocate(order_id=c, actor=bot).allocated for c in cards)
        mark("waybill")
        if ok:
            ok = all(o.ok for c in cards for o in waybills_issue(order_ids=[c], actor=bot))
        mark("ship")
        if ok:
            for c in cards:
                order_transition(order_id=c, to="shipped", actor=wh)
        mark("")
        if timed:
            for k, step in enumerate(STEPS):
                seconds[step] += marks[k + 1][0] - marks[k][0]
                cpu[step] += marks[k + 1][1] - marks[k][1]
        return ok

    for n in range(first - warm, first):
        one(n, timed=False)
    ready_file.write_text("ready")
    while not go_file.exists():
        time.sleep(0.005)
    began, cpu0 = time.time(), time.process_time()
    with lock.counting():
        shipped = sum(one(n, timed=True) for n in range(first, first + n_orders))
    return {
        "orders": n_orders,
        "shipped": shipped,
        "began": began,
        "ended": time.time(),
        "cpu_total": time.process_time() - cpu0,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "lock_waited": lock.waited,
        "lock_waits": lock.waits,
        "lock_held": lock.held,
    }


def child_main(args: argparse.Namespace) -> None:
    """One process: `--child-role setup` migrates and loads the company; `client` runs orders."""
    if args.child_role == "setup":
        django_setup(args.child_url)
        setup_company(skus=args.skus, stock_per_sku=1_000_000)
        Path(args.child_out).write_text(json.dumps({"server": server_description()}))
        return
    os.environ["ORDERHUB_SKIP_MIGRATE"] = "1"
    django_setup(args.child_url)
    out = client_run(
        first=args.child_first,
        n_orders=args.orders,
        skus=args.skus,
        warm=args.warm,
        go_file=Path(args.child_go),
        ready_file=Path(args.child_out + ".ready"),
    )
    Path(args.child_out).write_text(json.dumps(out))


def run_database(db: str, args: argparse.Namespace, argv: list[str]) -> list[dict[str, Any]]:
    """A fresh database of kind `db`, then each client count of --clients against it in turn."""
    tmpdir = Path(tempfile.mkdtemp(prefix=f"orderhub-flow-{db}-"))
    url = (
        f"sqlite:///{tmpdir}/bench.sqlite3"
        if db == "sqlite"
        else pg_fresh_database(pg_base_url(args.pg_url), "orderhub_bench_flow")
    )
    base = [sys.executable, __file__, *argv, "--child-db", db, "--child-url", url]
    setup_out = tmpdir / "setup.json"
    subprocess.run([*base, "--child-role", "setup", "--child-out", str(setup_out)], check=True, cwd=tmpdir)
    server = json.loads(setup_out.read_text())["server"]
    results = []
    offset = 0
    for clients in [int(c) for c in args.clients.split(",")]:
        go = tmpdir / f"go-{clients}"
        outs = [tmpdir / f"client-{clients}-{i}.json" for i in range(clients)]
        procs = []
        for i, out in enumerate(outs):
            first = offset + args.warm * (i + 1) + args.orders * i
            cmd = [*base, "--child-role", "client", "--child-out", str(out), "--child-go", str(go)]
            procs.append(subprocess.Popen([*cmd, "--child-first", str(first)], cwd=tmpdir))
        offset += (args.warm + args.orders) * clients + args.warm
        while not all(Path(f"{o}.ready").exists() for o in outs):
            if any(p.poll() not in (None, 0) for p in procs):
                raise SystemExit("a client failed while warming up")
            time.sleep(0.01)
        load_before = os.getloadavg()[0]
        go.write_text("go")
        for p in procs:
            if p.wait() != 0:
                raise SystemExit("a client failed")
        runs = [json.loads(o.read_text()) for o in outs]
        results.append(summarise(db, server, clients, runs, load_before))
        log(f"{db}, {clients} client(s): {results[-1]}")
    return results


def summarise(db: str, server: str, clients: int, runs: list[dict], load_before: float) -> dict[str, Any]:
    orders = sum(r["orders"] for r in runs)
    wall = max(r["ended"] for r in runs) - min(r["began"] for r in runs)
    step_s = {s: sum(r["seconds"][s] for r in runs) for s in STEPS}
    step_cpu = {s: sum(r["cpu_seconds"][s] for r in runs) for s in STEPS}
    cpu = sum(r["cpu_total"] for r in runs)
    return {
        "db": db,
        "server": server,
        "clients": clients,
        "orders": orders,
        "shipped": sum(r["shipped"] for r in runs),
        "wall_s": round(wall, 3),
        "end_to_end_per_s": round(orders / wall, 1),
        "cpu_ms_per_order": round(1000 * cpu / orders, 2),
        # SQLite's write lock, per order in each step: ms waiting for it, waits > 0.5 ms, ms held.
        "lock_wait_ms": {s: round(1000 * sum(r["lock_waited"][s] for r in runs) / orders, 2) for s in STEPS},
        "lock_waits": {s: round(sum(r["lock_waits"][s] for r in runs) / orders, 2) for s in STEPS},
        "lock_held_ms": {s: round(1000 * sum(r["lock_held"][s] for r in runs) / orders, 2) for s in STEPS},
        "end_to_end_per_cpu_s": round(orders / cpu, 1),
        # Per step: orders/s while the clients were in that step (each client's seconds in it,
        # as if they worked side by side), and CPU per order in it.
        "per_s": {s: round(orders * clients / v, 1) if v else None for s, v in step_s.items()},
        "step_ms": {s: round(1000 * v / orders, 2) for s, v in step_s.items()},
        "step_cpu_ms": {s: round(1000 * v / orders, 2) for s, v in step_cpu.items()},
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--orders", type=int, default=500, help="orders per client")
    p.add_argument("--clients", default="1,2", help="client process counts to measure, e.g. 1,2")
    p.add_argument("--warm", type=int, default=10, help="uncounted orders per client first")
    p.add_argument("--skus", type=int, default=200)
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL"))
    p.add_argument("--child-db", help=argparse.SUPPRESS)
    p.add_argument("--child-url", help=argparse.SUPPRESS)
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    p.add_argument("--child-role", help=argparse.SUPPRESS)
    p.add_argument("--child-go", help=argparse.SUPPRESS)
    p.add_argument("--child-first", type=int, default=0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main() -> None:
    argv = sys.argv[1:]
    args = parse_args(argv)
    if args.child_db:
        child_main(args)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = [r for db in dbs for r in run_database(db, args, argv)]
    print(f"\nFulfilment flow: {args.orders} orders × 3 lines per client, one transaction per step per order")
    print(f"{'database, clients':<40} {'end to end':>11} " + " ".join(f"{s:>9}" for s in STEPS))
    for r in results:
        steps = " ".join(f"{r['per_s'][s]:>9.0f}" for s in STEPS)
        print(f"{r['server'] + ', ' + str(r['clients']):<40} {r['end_to_end_per_s']:>9.0f}/s {steps}")
        cpu = " ".join(f"{r['step_cpu_ms'][s]:>9.2f}" for s in STEPS)
        label = f"  CPU ms per order ({r['end_to_end_per_cpu_s']:.0f} per CPU-s)"
        print(f"{label:<40} {r['cpu_ms_per_order']:>9.2f}ms {cpu}")
        if r["db"] == "sqlite":
            for key, what in (
                ("lock_held_ms", "write lock held, ms"),
                ("lock_wait_ms", "waiting for it, ms"),
            ):
                steps = " ".join(f"{r[key][s]:>9.2f}" for s in STEPS)
                print(f"  {what + ' per order':<38} {sum(r[key].values()):>9.2f}ms {steps}")
        print(
            f"  ({r['shipped']} of {r['orders']} shipped; load average {r['load_average'][0]:.1f} before, "
            f"{r['load_average'][1]:.1f} after; {os.cpu_count()} cores)"
        )
    print("(orders/s end to end = all clients' orders / wall time; per step = orders / time in that step;")
    print(" CPU = the client processes' own CPU: SQLite's engine included, PostgreSQL's server not)")


if __name__ == "__main__":
    main()
