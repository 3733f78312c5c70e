"""Benchmark: file import end to end (read → stage → map → persist) on SQLite and PostgreSQL.

    .venv/bin/python bench/ingest.py [--db sqlite|postgres|both] [--rows N] [--multi-rows M] [--helpers H]

For each database, on a fresh one (a temporary SQLite file; a new database `orderhub_bench_ingest`
in the throwaway cluster of scripts/pg.sh), in a child process it migrates, creates channels and
SKUs, then measures:

1. one 拼多多 layout GBK CSV of --rows rows (one row per order; 2 % of rows with an unknown SKU,
   1 % with a bad quantity), imported through `ingest.services.batch_run`: rows/s, wall time, CPU
   seconds of the importing process (the writer) and of its helper processes (--helpers, default 2:
   they map and validate chunks while the writer inserts; 0 imports in one process), and the
   peak RSS of each (ru_maxrss);
2. 17 files of the six built-in layouts (CSV in GBK / UTF-8 BOM and XLSX, line-per-row grouping)
   totalling --multi-rows rows: total wall time and rows/s;
3. `orderhub audit verify` over everything imported (must say OK).

Targets (issue "Multi-channel order intake"): 1,000,000 rows < 2 min on SQLite with peak memory
< 1 GiB; 17 files totalling 100,000 rows < 30 s. Figures: bench/README.md. Run on purpose, not in CI.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import log, pg_fresh_database

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BENCH_DB = "orderhub_bench_ingest"
SKUS = [f"SKU-{i:05d}" for i in range(2000)]
PLACES = [
    ("浙江省", "台州市", "椒江区"),
    ("北京", "北京市", "朝阳区"),
    ("广东省", "东莞市", ""),
    ("湖北省", "仙桃市", ""),
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
    ("上海", "上海市", "浦东新区"),
    ("江苏省", "苏州市", "吴中区"),
    ("四川省", "成都市", "武侯区"),
]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def helper_cpu_seconds() -> float:
    """CPU of the importer's finished child processes (the helper that prepares chunks)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> float:
    return os.getloadavg()[0]


# --- files -----------------------------------------------------------------------------------


def _pdd_rows(n: int, prefix: str, rnd: random.Random) -> Any:
    from orderhub.ingest.presets import BUILTIN_PRESETS

    headers = list(next(p for p in BUILTIN_PRESETS if p.name.startswith("拼多多")).headers)
    yield headers
    col = {h: i for i, h in enumerate(headers)}
    for i in range(n):
        row = [""] * len(headers)
        prov, city, dist = PLACES[i % len(PLACES)]
        sku = SKUS[i % len(SKUS)] if rnd.random() > 0.02 else "UNKNOWN-1"
        qty = rnd.randint(1, 5) if rnd.random() > 0.01 else 0
        row[col["订单号"]] = f"\t{prefix}-{i:09d}"
        row[col["商品"]] = "汽车配件"
        row[col["商品总价(元)"]] = f"{qty * 35}.00"
        row[col["商品数量(件)"]] = str(qty)
        row[col["收货人"]] = f"买家{i % 9973}"
        row[col["手机"]] = f"138{i % 100_000_000:08d}" if i % 3 else "138****5678"
        row[col["省"]], row[col["市"]], row[col["区"]] = prov, city, dist
        row[col["街道"]] = f"幸福路{i % 997}号"
        row[col["拼单成功时间"]] = f"2023-12-{1 + i % 28:02d} 10:{i % 60:02d}:00"
        row[col["商家编码-SKU维度"]] = sku
        yield row


def write_csv(path: Path, rows: Any, encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        for r in rows:
            w.writerow(r)


def multi_files(folder: Path, total: int) -> list[tuple[Path, str | None]]:
    """17 files over the built-in layouts; line-per-row layouts get 2 lines per order."""
    from openpyxl import Workbook

    from orderhub.ingest.presets import BUILTIN_PRESETS

    layouts = [p for p in BUILTIN_PRESETS if p.kind == "orders" and not p.name.endswith("SQL")]
    per_file = total // 17
    out: list[tuple[Path, str | None]] = []
    for f in range(17):
        preset = layouts[f % len(layouts)]
        headers = list(preset.headers)
        fields = {k: (v[0][0] if isinstance(v, tuple) else v) for k, v in preset.fields.items()}
        rows: list[list[Any]] = [headers]
        for i in range(per_file):
            row = [""] * len(headers)
            values = {
                "channel_order_no": f"F{f:02d}-{i // 2:07d}",
                "sku_code": SKUS[(i * 7) % len(SKUS)],
                "quantity": str(1 + i % 4),
                "unit_price": "35.00",
                "line_amount": f"{35 * (1 + i % 4)}.00",
                "receiver_name": f"客户{i % 501}",
                "receiver_phone": f"139{(f * per_file + i) % 100_000_000:08d}",
                "address": "浙江省台州市椒江区东环大道88号",
                "province": "浙江省",
                "city": "台州市",
                "district": "椒江区",
                "address_detail": f"东环大道{i % 300}号",
                "ordered_at": "2023-12-12 10:00:00",
                "customer_code": "D0001",
            }
            for name, header in fields.items():
                if name in values:
                    row[headers.index(header)] = values[name]
            rows.append(row)
        if f % 3 == 2:
            path = folder / f"{f:02d}-{preset.name}.xlsx"
            wb = Workbook(write_only=True)
            ws = wb.create_sheet()
            for r in rows:
                ws.append(r)
            wb.save(path)
            out.append((path, None))
        else:
            path = folder / f"{f:02d}-{preset.name}.csv"
            write_csv(path, rows, "gbk" if f % 2 else "utf-8-sig")
            out.append((path, None))
    return out


# --- one database run (child) ------------------------------------------------------------------


def child(url: str, rows: int, multi_rows: int, workdir: Path, helpers: int) -> dict[str, Any]:
    import warnings

    warnings.filterwarnings("ignore")
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "orderhub.settings"
    os.environ.setdefault("ORDERHUB_LOG", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ORDERHUB_INGEST = {
        "FILES_DIR": str(workdir / "files"),
        "MAX_UPLOAD_BYTES": 2 * 1024**3,
        "HELPER_PROCESSES": max(helpers, 1),
        "HELPER_MIN_CHUNKS": 10 if helpers else None,
    }
    call_command("migrate", verbosity=0)
    from orderhub.accounts.services import system_user
    from orderhub.catalog.models import Customer, Sku
    from orderhub.ingest.models import Channel, ChannelKind
    from orderhub.ingest.services import batch_create_from_file, batch_run
    from orderhub.orders.audit import audit_verify

    actor = system_user()
    for code, name, kind, masks in [
        ("pdd", "拼多多", ChannelKind.PINDUODUO, True),
        ("douyin", "抖店", ChannelKind.DOUYIN, True),
        ("1688", "1688", ChannelKind.ALIBABA_1688, False),
        ("taobao", "天猫", ChannelKind.TAOBAO, True),
        ("kuaishou", "快手", ChannelKind.KUAISHOU, True),
        ("u8", "U8", ChannelKind.ERP, False),
    ]:
        Channel.objects.create(code=code, name=name, kind=kind, masks_phone=masks)
    Sku.objects.bulk_create(Sku(code=c, name=f"配件{c}") for c in SKUS)
    Customer.objects.create(
        code="D0001",
        name="椒江恒通",
        phone="13812345678",
        province="浙江省",
        city="台州市",
        district="椒江区",
        address_detail="东环大道88号",
    )
    result: dict[str, Any] = {
        "vendor": django.db.connection.vendor,
        "helpers": helpers,
        "load_before": load_average(),
    }

    def run(path: Path) -> Any:
        with path.open("rb") as fh:
            b = batch_create_from_file(fileobj=fh, filename=path.name, actor=actor, size=path.stat().st_size)
        return batch_run(b.pk, actor=actor)

    if rows:
        path = workdir / "pdd.csv"
        write_csv(path, _pdd_rows(rows, "P", random.Random(1)), "gbk")
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0, c0, h0 = time.perf_counter(), cpu_seconds(), helper_cpu_seconds()
        batch = run(path)
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        helper = helper_cpu_seconds() - h0
        result["single"] = {
            "rows": rows,
            "seconds": round(elapsed, 1),
            "rows_per_s": round(rows / elapsed),
            # On a shared machine wall time depends on the neighbours; CPU time does not (the
            # database server's own CPU is not counted for PostgreSQL).
            "cpu_seconds": round(cpu, 1),
            "helper_cpu_seconds": round(helper, 1),
            "rows_per_cpu_s": round(rows / (cpu + helper)),
            "cpu_us_per_row": {"writer": round(cpu / rows * 1e6), "helper": round(helper / rows * 1e6)},
            "load_during": round(load_average(), 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "helper_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
            "rss_before_mib": round(rss0 / 1024),
            "status": batch.status,
            "created": batch.created_count,
            "held": batch.held_count,
            "rejected": batch.rejected_count,
        }
        log(f"single file: {result['single']}")
    if multi_rows:
        files = multi_files(workdir, multi_rows)
        t0, c0, h0 = time.perf_counter(), cpu_seconds(), helper_cpu_seconds()
        batches = [run(p) for p, _c in files]
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        helper = helper_cpu_seconds() - h0
        result["multi"] = {
            "files": len(files),
            "rows": sum(b.total_rows for b in batches),
            "seconds": round(elapsed, 1),
            "rows_per_s": round(sum(b.total_rows for b in batches) / elapsed),
            "cpu_seconds": round(cpu, 1),
            "helper_cpu_seconds": round(helper, 1),
            "load_during": round(load_average(), 1),
            "failed": [b.message for b in batches if b.status != "done"],
            "presets": sorted({b.preset_name for b in batches}),
        }
        log(f"17 files: {result['multi']}")
    result["load_after"] = load_average()
    t0 = time.perf_counter()
    report = audit_verify()
    result["audit"] = {
        "ok": report.ok,
        "entries": report.entries,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return result


# --- parent ------------------------------------------------------------------------------------


def pg_url() -> tuple[str, bool]:
    pg = REPO / "scripts" / "pg.sh"
    running = subprocess.run([pg, "status"], capture_output=True).returncode == 0
    url = (
        subprocess.run([pg, "start"], check=True, stdout=subprocess.PIPE, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    return pg_fresh_database(url, BENCH_DB), not running


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--multi-rows", type=int, default=100_000)
    ap.add_argument("--helpers", type=int, default=2, help="helper processes preparing chunks (0: none)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.multi_rows, Path(args.workdir), args.helpers)))
        return
    results = []
    for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        with tempfile.TemporaryDirectory(prefix="orderhub-bench-ingest-") as tmp:
            started = False
            if db == "sqlite":
                url = f"sqlite:///{tmp}/bench.sqlite3"
            else:
                url, started = pg_url()
            log(f"{db}: importing {args.rows:,} rows, then 17 files / {args.multi_rows:,} rows")
            try:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        url,
                        "--workdir",
                        tmp,
                        "--rows",
                        str(args.rows),
                        "--multi-rows",
                        str(args.multi_rows),
                        "--helpers",
                        str(args.helpers),
                    ],
                    check=True,
                    stdout=subprocess.PIPE,
                    text=True,
                ).stdout
            finally:
                if started:
                    subprocess.run([REPO / "scripts" / "pg.sh", "stop"], check=False)
            results.append(json.loads(out.strip().splitlines()[-1]))
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
