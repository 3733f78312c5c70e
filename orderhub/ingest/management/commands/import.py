"""`orderhub import FILE [--preset NAME | --channel CODE] [--kind orders|skus|customers|stock]`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orderhub.accounts.models import User
from orderhub.accounts.services import system_user
from orderhub.core.errors import AppError
from orderhub.ingest.fields import ImportKind
from orderhub.ingest.models import BatchStatus, ImportBatch
from orderhub.ingest.report import batch_summary_lines
from orderhub.ingest.services import batch_create_from_file, batch_run


class Command(BaseCommand):
    help = "Import orders (or SKUs, customers, stock) from a CSV / XLSX / XLS file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--preset", help="mapping preset name (default: recognised from the header row)")
        parser.add_argument("--channel", help="channel code the orders come from")
        parser.add_argument("--kind", choices=[k.value for k in ImportKind], default=ImportKind.ORDERS)
        parser.add_argument("--encoding", help="force a CSV encoding (default: detected)")
        parser.add_argument("--sheet", help="worksheet name (default: the first)")
        parser.add_argument("--user", help="username recorded as the operator (default: the system account)")
        parser.add_argument("--quiet", action="store_true", help="no progress lines")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = self._actor(opts.get("user"))
        try:
            with path.open("rb") as fh:
                batch = batch_create_from_file(
                    fileobj=fh,
                    filename=path.name,
                    actor=actor,
                    kind=opts["kind"],
                    preset_name=opts.get("preset"),
                    channel_code=opts.get("channel"),
                    encoding=opts.get("encoding"),
                    sheet=opts.get("sheet"),
                    size=path.stat().st_size,
                )
        except AppError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"批次 #{batch.pk}：{path.name}（{batch.size:,} 字节）")
        announced = False

        def progress(b: ImportBatch) -> None:
            nonlocal announced
            if not announced:
                announced = True
                self._describe(b)
            if not opts["quiet"] and b.total_rows:
                sys.stderr.write(f"\r已处理 {b.processed_rows:,}/{b.total_rows:,} 行（{b.progress}%）")
                sys.stderr.flush()

        batch = batch_run(batch.pk, actor=actor, progress=progress)
        if not opts["quiet"] and announced:
            sys.stderr.write("\n")
        if batch.status == BatchStatus.FAILED:
            raise CommandError(f"导入失败，未写入任何数据：{batch.message}")
        for line in batch_summary_lines(batch):
            self.stdout.write(line)

    def _describe(self, b: ImportBatch) -> None:
        fmt = b.file_format.upper()
        if b.encoding:
            fmt += f"，编码 {b.encoding}"
        if b.sheet:
            fmt += f"，工作表「{b.sheet}」"
        self.stdout.write(f"格式：{fmt}；表头在第 {b.header_row} 行；{b.total_rows:,} 行数据")
        self.stdout.write(f"映射：{b.mapping_note}")
        if b.channel_id:
            self.stdout.write(f"渠道：{b.channel.name}（{b.channel.code}）")  # type: ignore[union-attr]

    def _actor(self, username: str | None) -> User:
        if not username:
            return system_user()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户不存在：{username}")
        return user
