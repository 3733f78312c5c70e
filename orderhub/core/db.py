"""Database helpers for the hottest paths, where the ORM's per-query compilation shows.

`CompiledRows` runs a values query compiled once per database vendor for any key, applying the
ORM's value converters; `RowLoader` reads whole rows of one model by primary key through it and
hands back ordinary model instances (`Model.from_db`). Reading one wide row this way costs a
fraction of `Model.objects.get()` (which compiles the query, its ~40 columns and their
converters anew on every call); use them only where that difference matters, e.g. the
transition service's row lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connections, models
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


# Values no real row has, standing in for the keys while a query is compiled once.
_INT_PLACEHOLDER = -(2**62) + 7919


def _placeholder(kind: type, position: int) -> Any:
    if kind is int:
        return _INT_PLACEHOLDER - position
    if kind is str:
        return f"\x00orderhub-key-{position}\x00"
    raise TypeError(f"keys are int or str, not {kind.__name__}")


class CompiledRows:
    """A `values_list()` query compiled once per database vendor, then run for any key.

    `CompiledRows(lambda key: Model.objects.filter(order_id=key).values_list(...))` builds the
    queryset with a placeholder key, compiles it, and remembers which parameters are the key; each
    `rows(key)` binds the real key and applies the ORM's value converters to the result. Several
    keys: `CompiledRows(lambda a, b: …, keys=(int, str))`, then `rows(a, b)`. Meant for queries
    read on every page view or order move, whose compilation would cost more than running them.
    A key must reach the SQL as it is (an exact match, not `icontains`, which rewrites it).
    """

    def __init__(
        self, build: Callable[..., models.QuerySet[Any]], *, keys: tuple[type, ...] = (int,)
    ) -> None:
        self.build = build
        self.keys = keys
        self._plans: dict[str, tuple[Any, str, list[Any], list[tuple[int, int]], dict[int, Any]]] = {}

    def _plan(self, using: str) -> tuple[Any, str, list[Any], list[tuple[int, int]], dict[int, Any]]:
        vendor = connections[using].vendor
        plan = self._plans.get(vendor)
        if plan is None:
            placeholders = [_placeholder(kind, i) for i, kind in enumerate(self.keys)]
            compiler = self.build(*placeholders).query.get_compiler(using)
            sql, params = compiler.as_sql()
            # (parameter index, key position) for every parameter that is a placeholder
            slots = [
                (i, placeholders.index(p))
                for i, p in enumerate(params)
                if type(p) in (int, str) and any(type(p) is type(ph) and p == ph for ph in placeholders)
            ]
            if {pos for _i, pos in slots} != set(range(len(self.keys))):
                raise ValueError("the query does not use each of its keys as it is")
            converters = compiler.get_converters([col for col, _sel, _alias in compiler.select])
            plan = self._plans[vendor] = (compiler, sql, list(params), slots, converters)
        return plan

    def rows(self, *keys: Any, using: str = "default") -> list[tuple[Any, ...]]:
        compiler, sql, params, slots, converters = self._plan(using)
        bound = list(params)
        for i, pos in slots:
            bound[i] = keys[pos]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, bound)
            fetched = cursor.fetchall()
        if converters:
            return [tuple(r) for r in compiler.apply_converters(fetched, converters)]
        return [tuple(r) for r in fetched]


class RowLoader(Generic[M]):
    """Load instances of `model` by primary key: `RowLoader(Order).get(pk, for_update=True)`.

    Whole rows through `CompiledRows`, handed back as ordinary model instances (`from_db`).
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._attnames = [f.attname for f in model._meta.concrete_fields]
        rows = model._default_manager.values_list
        self._plain = CompiledRows(lambda pk: rows(*self._attnames).filter(pk=pk))
        # Compiled on first use, inside the caller's transaction as select_for_update() requires.
        self._locking = CompiledRows(
            lambda pk: model._default_manager.select_for_update().filter(pk=pk).values_list(*self._attnames)
        )

    def get(self, pk: Any, *, for_update: bool = False, using: str = "default") -> M | None:
        """The row with this primary key as a model instance (None when absent).

        `for_update` locks the row until the end of the transaction where the database can
        (PostgreSQL); SQLite serialises writers instead, as with `select_for_update()`.
        """
        found = (self._locking if for_update else self._plain).rows(pk, using=using)
        return self.model.from_db(using, self._attnames, found[0]) if found else None


class RowInserter(Generic[M]):
    """INSERTs into `model`'s table with the statement built once per database vendor.

    `RowInserter(Waybill).insert(order_id=…, carrier_id=…, …)` takes attribute names (`order_id`,
    not `order`); a field left out gets its default (auto_now(_add) fields: now). Values are
    prepared by their fields exactly as `save()` would; database errors (an IntegrityError from a
    unique constraint) come out as Django's. Returns the new primary key. `insert_many(rows)`
    writes many rows with one executemany. No signals are sent: only for rows that nothing
    listens to. A primary key the database does not generate (a UUID) is a column like any other.
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._generated_pk = bool(getattr(model._meta.pk, "db_returning", False))  # auto-increment
        self.fields = [f for f in model._meta.concrete_fields if not (f.primary_key and self._generated_pk)]
        self._names = {f.attname for f in self.fields}
        self._sql: dict[tuple[str, bool], tuple[str, bool]] = {}

    def _statement(self, using: str, *, returning: bool) -> tuple[str, bool]:
        """The INSERT and whether it returns the new key (where the database can)."""
        conn = connections[using]
        returning = returning and self._generated_pk and bool(conn.features.can_return_columns_from_insert)
        built = self._sql.get((conn.vendor, returning))
        if built is None:
            qn = conn.ops.quote_name
            meta = self.model._meta
            # Only quoted model metadata in the text; every value is a bound parameter.
            sql = "INSERT INTO {} ({}) VALUES ({}){}".format(  # noqa: S608
                qn(meta.db_table),
                ", ".join(qn(f.column) for f in self.fields),
                ", ".join(["%s"] * len(self.fields)),
                f" RETURNING {qn(meta.pk.column)}" if returning else "",
            )
            built = self._sql[(conn.vendor, returning)] = (sql, returning)
        return built

    def _value(self, f: models.Field, values: dict[str, Any]) -> Any:
        if f.attname in values:
            return values[f.attname]
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            return timezone.now()
        return f.get_default()

    def _params(self, values: dict[str, Any], conn: Any) -> list[Any]:
        unknown = set(values) - self._names
        if unknown:
            raise TypeError(f"{self.model.__name__} has no columns {sorted(unknown)}")
        return [f.get_db_prep_save(self._value(f, values), conn) for f in self.fields]

    def insert(self, *, using: str = "default", **values: Any) -> Any:
        conn = connections[using]
        if not self._generated_pk:
            pk = self.model._meta.pk
            values.setdefault(pk.attname, pk.get_default())
        sql, returning = self._statement(using, returning=True)
        params = self._params(values, conn)
        with conn.cursor() as cur:
            cur.execute(sql, params)
            if not self._generated_pk:
                return values[self.model._meta.pk.attname]
            return cur.fetchone()[0] if returning else cur.lastrowid

    def insert_many(self, rows: list[dict[str, Any]], *, using: str = "default") -> None:
        """Many rows (each as `insert` takes them) with one executemany; no keys returned."""
        if not rows:
            return
        conn = connections[using]
        sql, _returning = self._statement(using, returning=False)
        with conn.cursor() as cur:
            cur.executemany(sql, [self._params(dict(values), conn) for values in rows])


class RowUpdater(Generic[M]):
    """`UPDATE <table> SET <columns> WHERE <conditions>` built once per database vendor.

    `RowUpdater(Order, ["log_seq", "log_head"]).update({"id": pk}, log_seq=2, log_head="…")`:
    attribute names, values prepared by their fields as `save()` would; returns the rows updated.
    The conditions are equalities on the `where` columns (the primary key unless given).
    """

    def __init__(self, model: type[M], columns: Sequence[str], *, where: Sequence[str] = ("id",)) -> None:
        meta = model._meta
        self.model = model
        self.fields = [meta.get_field(name) for name in columns]
        self.where = [meta.get_field(name) for name in where]
        self._sql: dict[str, str] = {}

    def _statement(self, conn: Any) -> str:
        sql = self._sql.get(conn.vendor)
        if sql is None:
            qn = conn.ops.quote_name
            sets = ", ".join(f"{qn(f.column)} = %s" for f in self.fields)
            conditions = " AND ".join(f"{qn(f.column)} = %s" for f in self.where)
            # Only quoted model metadata in the text; every value is a bound parameter.
            sql = self._sql[conn.vendor] = (
                f"UPDATE {qn(self.model._meta.db_table)} SET {sets} WHERE {conditions}"  # noqa: S608
            )
        return sql

    def update(self, where: dict[str, Any], *, using: str = "default", **values: Any) -> int:
        conn = connections[using]
        params = [f.get_db_prep_save(values[f.attname], conn) for f in self.fields]
        params += [f.get_db_prep_value(where[f.attname], conn) for f in self.where]
        with conn.cursor() as cur:
            cur.execute(self._statement(conn), params)
            return cur.rowcount
