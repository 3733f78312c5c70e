"""`orderhub export orders --format xlsx|csv|jsonl [filters] -o FILE`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from orderhub.accounts.models import User
from orderhub.accounts.services import system_user
from orderhub.core.errors import AppError
from orderhub.ingest.export import FORMATS, orders_export
from orderhub.orders.selectors import OrderFilters


def _date(text: str) -> datetime:
    try:
        return timezone.make_aware(datetime.fromisoformat(text))
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD[ HH:MM]：{text}") from None


class Command(BaseCommand):
    help = "Export orders with their lines and state, filtered like the order list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["orders"])
        parser.add_argument("--format", choices=FORMATS, default="xlsx")
        parser.add_argument("-o", "--output", required=True, help="file to write")
        parser.add_argument("--status", action="append", default=[], help="repeatable")
        parser.add_argument("--channel", action="append", default=[], help="channel code, repeatable")
        parser.add_argument("--tier", action="append", default=[], help="customer tier, repeatable")
        parser.add_argument("--owner", help="salesperson's username")
        parser.add_argument("--from", dest="ordered_from", help="ordered at or after (YYYY-MM-DD)")
        parser.add_argument("--to", dest="ordered_to", help="ordered before (YYYY-MM-DD)")
        parser.add_argument("--user", help="export as this user (scope: sales see their own orders)")

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = system_user()
        if opts.get("user"):
            found = User.objects.filter(username=opts["user"]).first()
            if found is None:
                raise CommandError(f"用户不存在：{opts['user']}")
            actor = found
        filters = OrderFilters(
            status=opts["status"],
            channel=opts["channel"],
            customer_tier=opts["tier"],
            owner=opts.get("owner"),
            ordered_from=_date(opts["ordered_from"]) if opts.get("ordered_from") else None,
            ordered_to=_date(opts["ordered_to"]) if opts.get("ordered_to") else None,
        )
        path = Path(opts["output"])
        try:
            with path.open("wb") as out:
                n = orders_export(actor=actor, filters=filters, fmt=opts["format"], out=out)
        except AppError as exc:
            raise CommandError(exc.message) from None
        unit = "个订单" if opts["format"] == "jsonl" else "行"
        self.stdout.write(f"已导出 {n:,} {unit}到 {path}")
