"""`orderhub demo`: database, the demo company (台州恒驰汽配), web server and worker in one command."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orderhub.accounts.roles import Role
from orderhub.core.management.commands.serve import add_server_arguments
from orderhub.core.server import JobWorkerProcess, public_url, serve
from orderhub.demo import company
from orderhub.demo.generate import DEFAULT_ORDERS, DEFAULT_SEED, DemoConflict, demo_load
from orderhub.orders.states import OrderStatus


class Command(BaseCommand):
    help = (
        "Migrate the database, load the demo company once, print the demo log-ins, then run the "
        "web server and the background worker together until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_server_arguments(parser)
        parser.add_argument("--load-only", action="store_true", help="load the demo data and exit")
        parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS, help="orders to generate")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed of the demo data")

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stdout.write(f"数据库 / database: {_database_label()}")
        call_command("migrate", interactive=False, verbosity=0)
        self.load(opts["orders"], opts["seed"])
        self.print_logins()
        if opts["load_only"]:
            return
        os.environ["ORDERHUB_COMPANY_NAME"] = company.COMPANY_NAME
        settings.ORDERHUB_COMPANY_NAME = company.COMPANY_NAME
        self.stdout.write(self.style.SUCCESS(f"\n打开 / open  {public_url(opts['host'], opts['port'])}"))
        self.stdout.write(
            "网页服务与后台任务进程运行中，Ctrl-C 停止 / web server and worker running, Ctrl-C stops both\n"
        )
        self.stdout.flush()
        worker = JobWorkerProcess()
        worker.start()
        try:
            serve(
                host=opts["host"],
                port=opts["port"],
                workers=opts["workers"],
                threads=opts["threads"],
                collect_static=not opts["no_collectstatic"],
            )
        finally:
            worker.stop()

    def load(self, orders: int, seed: int) -> None:
        def progress(message: str) -> None:
            self.stdout.write(f"  {message}")
            self.stdout.flush()

        try:
            result = demo_load(orders=orders, seed=seed, progress=progress)
        except DemoConflict as exc:
            raise CommandError(str(exc)) from exc
        counts = "，".join(f"{OrderStatus(s).label} {n}" for s, n in result.by_status.items())
        if result.created:
            done = f"演示公司「{company.COMPANY_NAME}」已生成：{result.orders} 个订单"
            self.stdout.write(self.style.SUCCESS(f"{done}，用时 {result.seconds:.1f} 秒"))
        else:
            self.stdout.write(
                f"演示公司「{company.COMPANY_NAME}」已存在，直接使用 / demo data already loaded, reused"
            )
        self.stdout.write(f"  订单 {result.orders}：{counts}")

    def print_logins(self) -> None:
        rows = [("用户名", "密码", "角色", "姓名")]
        for username, display, role, _mobile, superuser in company.STAFF:
            label = str(Role(role).label) + ("（超级用户）" if superuser else "")
            rows.append((username, company.DEMO_PASSWORD, label, display))
        widths = [max(_width(r[i]) for r in rows) for i in range(4)]
        self.stdout.write("\n演示账号 / demo log-ins（密码相同，若未修改 / same password unless changed）:")
        for n, row in enumerate(rows):
            self.stdout.write(
                ("  " + "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row))).rstrip()
            )
            if n == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))


def _database_label() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite {db['NAME']}"
    return f"{db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or 'localhost'}/{db['NAME']}"


def _width(text: str) -> int:
    """Display width in a terminal: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
