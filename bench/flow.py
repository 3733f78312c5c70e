"""Benchmark: orders end to end through the fulfilment path, on SQLite and PostgreSQL.

    .venv/bin/python bench/flow.py [--db sqlite|postgres|both] [--orders N] [--pg-url URL]

N orders of 3 lines each go create → approve (automatic review, all 8 default rules) → split
(default rules) → allocate (reserve stock) → waybill (simulated provider, carrier rules) →
ship (consume stock, owe the report-back job), one transaction per step per order, one
process. Prints orders/s per step and end to end. PostgreSQL: a fresh database in the cluster
of --pg-url (default: `scripts/pg.sh start`). Figures: bench/README.md ("Fulfilment").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
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


def run_child(script: str, db: str, args: argparse.Namespace, argv: list[str], dbname: str) -> dict[str, Any]:
    """Run `script --child` against a fresh database of kind `db`; return its JSON result."""
    tmpdir = tempfile.mkdtemp(prefix=f"orderhub-{dbname}-{db}-")
    url = (
        f"sqlite:///{tmpdir}/bench.sqlite3"
        if db == "sqlite"
        else pg_fresh_database(pg_base_url(args.pg_url), dbname)
    )
    out_file = Path(tmpdir) / "result.json"
    subprocess.run(
        [sys.executable, script, *argv, "--child-db", db, "--child-url", url, "--child-out", str(out_file)],
        check=True,
        cwd=tmpdir,
    )
    return json.loads(out_file.read_text())


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
            return f"PostgreSQL {version} (fsync={fsync})"
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


def flow(n_orders: int, skus: int) -> dict[str, Any]:
    from orderhub.accounts.services import system_user
    from orderhub.fulfilment.allocation import order_allocate
    from orderhub.fulfilment.review import order_auto_review
    from orderhub.fulfilment.split import order_split
    from orderhub.fulfilment.waybills import waybills_issue
    from orderhub.orders.models import Order
    from orderhub.orders.services import order_create, order_transition

    users = setup_company(skus=skus, stock_per_sku=1_000_000)
    cs, wh = users["cs"], users["wh"]
    bot = system_user()  # the autopilot looks it up once per run
    _ = cs.role_names, wh.role_names, bot.role_names
    seconds = dict.fromkeys(STEPS, 0.0)
    cpu = dict.fromkeys(STEPS, 0.0)
    clock: dict[str, float] = {}

    def start() -> None:
        clock["wall"], clock["cpu"] = time.perf_counter(), time.process_time()

    def stop(step: str) -> None:
        seconds[step] = time.perf_counter() - clock["wall"]
        cpu[step] = time.process_time() - clock["cpu"]

    ids: list[int] = []
    start()
    for n in range(n_orders):
        ids.append(order_create(draft=make_draft(n, skus), actor=cs)[0].pk)
    stop("create")
    start()
    approved = [i for i in ids if order_auto_review(order_id=i, actor=bot).approved]
    stop("approve")
    start()
    cards: list[int] = []
    for i in approved:
        parts = order_split(order_id=i, actor=bot).parts
        cards += [p.pk for p in parts] or [i]
    stop("split")
    start()
    allocated = [i for i in cards if order_allocate(order_id=i, actor=bot).allocated]
    stop("allocate")
    start()
    printed = [o.order_id for i in allocated for o in waybills_issue(order_ids=[i], actor=bot) if o.ok]
    stop("waybill")
    start()
    for i in printed:
        order_transition(order_id=i, to="shipped", actor=wh)
    stop("ship")
    total = sum(seconds.values())
    shipped = Order.objects.filter(pk__in=ids, status="shipped").count()
    return {
        "orders": n_orders,
        "approved": len(approved),
        "cards": len(cards),
        "shipped_orders": shipped,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "per_s": {k: round(n_orders / v, 1) if v else None for k, v in seconds.items()},
        "end_to_end_per_s": round(n_orders / total, 1),
        "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
        "end_to_end_per_cpu_s": round(n_orders / sum(cpu.values()), 1),
        "load_average": os.getloadavg()[0],
    }


def child_main(args: argparse.Namespace) -> None:
    django_setup(args.child_url)
    out = {"db": args.child_db, "server": server_description()}
    out.update(flow(args.orders, args.skus))
    log(f"{args.child_db}: {out}")
    Path(args.child_out).write_text(json.dumps(out))


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--orders", type=int, default=2000)
    p.add_argument("--skus", type=int, default=200)
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL"))
    p.add_argument("--child-db", help=argparse.SUPPRESS)
    p.add_argument("--child-url", help=argparse.SUPPRESS)
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main() -> None:
    argv = sys.argv[1:]
    args = parse_args(argv)
    if args.child_db:
        child_main(args)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = [run_child(__file__, db, args, argv, "orderhub_bench_flow") for db in dbs]
    print(f"\nFulfilment flow: {args.orders} orders × 3 lines, one transaction per step per order, 1 process")
    print(f"{'database':<34} {'end to end':>11} " + " ".join(f"{s:>9}" for s in STEPS))
    for r in results:
        steps = " ".join(f"{r['per_s'][s]:>9.0f}" for s in STEPS)
        print(f"{r['server']:<34} {r['end_to_end_per_s']:>9.0f}/s {steps}")
        cpu = " ".join(f"{r['orders'] / r['cpu_seconds'][s]:>9.0f}" for s in STEPS)
        print(f"{'  per CPU-second of this process':<34} {r['end_to_end_per_cpu_s']:>9.0f}/s {cpu}")
        print(f"  (machine load average during the run: {r['load_average']:.1f}, {os.cpu_count()} cores)")
    print("(orders/s; per step = orders / seconds spent in that step)")


if __name__ == "__main__":
    main()
