"""Pulling orders or stock levels from a configured SQL source (e.g. Yonyou U8) on a schedule.

The query runs read-only through SQLAlchemy; its columns are the "headers" a mapping preset maps
(built-ins: 「U8-销售订单-SQL」 for SO_SOMain ⋈ SO_SODetails, 「U8-现存量-SQL」 for stock). With a
watermark column, each pull asks only for rows at or after the last value seen: the boundary rows
come again, which is harmless because imports are idempotent (channel + channel order number for
orders, warehouse + SKU for stock), and no row committed late at the boundary is ever skipped.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.core.errors import ValidationFailed
from orderhub.ingest.conf import ingest_setting
from orderhub.ingest.models import BatchSource, ImportBatch, SqlSource
from orderhub.ingest.readers import FileRefused

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def source_url(source: SqlSource) -> str:
    """`env:NAME` reads the URL (with its password) from the environment, never from the database."""
    if source.url.startswith("env:"):
        value = os.environ.get(source.url[4:])
        if not value:
            raise ValidationFailed(
                _("环境变量 %(n)s 未设置（数据源「%(s)s」的连接 URL）")
                % {"n": source.url[4:], "s": source.name},
                field="url",
            )
        return value
    return source.url


def _encode_mark(value: Any) -> str:
    if isinstance(value, bool):
        return f"s:{value}"
    if isinstance(value, int):
        return f"i:{value}"
    if isinstance(value, datetime):
        return f"t:{value.isoformat()}"
    if isinstance(value, date):
        return f"d:{value.isoformat()}"
    if isinstance(value, Decimal | float):
        return f"n:{value}"
    return f"s:{value}"


def _decode_mark(text: str) -> Any:
    kind, _sep, raw = text.partition(":")
    if kind == "i":
        return int(raw)
    if kind == "t":
        return datetime.fromisoformat(raw)
    if kind == "d":
        return date.fromisoformat(raw)
    if kind == "n":
        return Decimal(raw)
    return raw


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return (
            value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")
            if value.tzinfo is None
            else (timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S"))
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return None
    return value


def _fetch(source: SqlSource) -> tuple[list[str], list[list[Any]], Any]:
    import sqlalchemy as sa

    column = source.watermark_column.strip()
    if column and not _IDENT.match(column):
        raise ValidationFailed(_("增量列名无效：%(c)s") % {"c": column}, field="watermark_column")
    query = source.query.strip().rstrip(";")
    params: dict[str, Any] = {}
    if column:
        query = f"SELECT * FROM ({query}) src"  # noqa: S608 - the admin's own query, run read-only
        if source.watermark:
            query += f" WHERE src.{column} >= :watermark"
            params["watermark"] = _decode_mark(source.watermark)
        query += f" ORDER BY src.{column}"
    engine = sa.create_engine(source_url(source))
    max_rows = ingest_setting("MAX_ROWS")
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            result = conn.execution_options(stream_results=True).execute(sa.text(query), params)
            headers = [str(k) for k in result.keys()]  # noqa: SIM118 - a Result, not a dict
            rows: list[list[Any]] = []
            mark = None
            # PostgreSQL folds unquoted names to lower case: match the column case-insensitively.
            idx = next((i for i, h in enumerate(headers) if column and h.lower() == column.lower()), None)
            for part in result.partitions(5000):
                for r in part:
                    rows.append([_cell(v) for v in r])
                    if idx is not None and r[idx] is not None:
                        mark = r[idx]
                if len(rows) > max_rows:
                    raise FileRefused(_("查询结果超过 %(m)s 行的上限") % {"m": max_rows}, field="query")
            conn.rollback()
    finally:
        engine.dispose()
    return headers, rows, mark


def sql_source_pull(*, source: SqlSource, actor: User | None = None) -> ImportBatch | None:
    """Run the source's query and import what it returns; None when there is nothing new."""
    from orderhub.accounts.services import system_user
    from orderhub.ingest.services import batch_create_from_rows, batch_run

    actor = actor or system_user()
    now = timezone.now()
    try:
        headers, rows, mark = _fetch(source)
        if not rows:
            SqlSource.objects.filter(pk=source.pk).update(last_run_at=now, last_error="")
            return None
        batch = batch_create_from_rows(
            kind=source.kind,
            source=BatchSource.SQL,
            headers=headers,
            rows=rows,
            actor=actor,
            preset=source.preset,
            channel=source.channel,
            label=f"SQL {source.name}",
            options={"sql_source": source.pk, "watermark_from": source.watermark},
        )
        batch = batch_run(batch.pk, actor=actor)
    except Exception as exc:  # the source's database may be down or the query wrong: keep the reason
        SqlSource.objects.filter(pk=source.pk).update(last_run_at=now, last_error=str(exc)[:2000])
        raise
    update: dict[str, Any] = {"last_run_at": now, "last_error": batch.message, "last_batch": batch}
    if mark is not None and batch.status == "done":
        update["watermark"] = _encode_mark(mark)
        source.watermark = update["watermark"]
    SqlSource.objects.filter(pk=source.pk).update(**update)
    return batch


def sql_sources_due(now: datetime | None = None) -> list[SqlSource]:
    now = now or timezone.now()
    due = []
    for s in SqlSource.objects.filter(active=True).filter(
        Q(last_run_at__isnull=True) | Q(last_run_at__lt=now)
    ):
        if s.last_run_at is None or s.last_run_at + timedelta(minutes=s.every_minutes) <= now:
            due.append(s)
    return due
