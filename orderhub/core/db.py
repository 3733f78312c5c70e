"""Database helpers for the hottest paths, where the ORM's per-query compilation shows.

`RowLoader` reads whole rows of one model by primary key with SQL built once per database
connection vendor, applying the same value converters the ORM would, and hands back ordinary
model instances (`Model.from_db`). Reading one wide row this way costs a fraction of
`Model.objects.get()` (which compiles the query, its ~40 columns and their converters anew on
every call); use it only where that difference matters, e.g. the transition service's row lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connections, models

M = TypeVar("M", bound=models.Model)
Converter = Callable[[Any, Any, Any], Any]


class RowLoader(Generic[M]):
    """Load instances of `model` by primary key: `RowLoader(Order).get(pk, for_update=True)`."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._fields = list(model._meta.concrete_fields)
        self._attnames = [f.attname for f in self._fields]
        self._plans: dict[str, tuple[str, str, list[tuple[int, Any, list[Converter]]]]] = {}

    def _plan(self, using: str) -> tuple[str, str, list[tuple[int, Any, list[Converter]]]]:
        connection = connections[using]
        plan = self._plans.get(connection.vendor)
        if plan is None:
            quote = connection.ops.quote_name
            table = self.model._meta.db_table
            cols = ", ".join(f"{quote(table)}.{quote(f.column)}" for f in self._fields)
            # Only quoted model metadata goes into the text; the key is a bound parameter.
            pk = quote(self.model._meta.pk.column)
            sql = f"SELECT {cols} FROM {quote(table)} WHERE {pk} = %s"  # noqa: S608
            lock = f" {connection.ops.for_update_sql()}" if connection.features.has_select_for_update else ""
            converters = []
            for i, field in enumerate(self._fields):
                col = field.get_col(table)
                found = [*connection.ops.get_db_converters(col), *field.get_db_converters(connection)]
                if found:
                    converters.append((i, col, found))
            plan = self._plans[connection.vendor] = (sql, sql + lock, converters)
        return plan

    def get(self, pk: Any, *, for_update: bool = False, using: str = "default") -> M | None:
        """The row with this primary key as a model instance (None when absent).

        `for_update` locks the row until the end of the transaction where the database can
        (PostgreSQL); SQLite serialises writers instead, as with `select_for_update()`.
        """
        plain, locking, converters = self._plan(using)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(locking if for_update else plain, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for i, col, found in converters:
            value = values[i]
            for convert in found:
                value = convert(value, col, connection)
            values[i] = value
        return self.model.from_db(using, self._attnames, values)
