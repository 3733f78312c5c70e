"""Dashboard filters (channel, warehouse, customer tier, legal entity) and the date range.

A scope's `key` names its pre-aggregated rows: "" for no filter, "channel:3" for one filter,
"channel:3|tier:A" for several (dimensions always in the same order).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import F, Q, Value
from django.db.models.functions import Concat
from django.db.models.lookups import Exact
from django.utils import timezone

# Dimension name → the Order field it filters on.
DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("channel", "channel_id"),
    ("warehouse", "warehouse_id"),
    ("tier", "customer_tier"),
    ("entity", "selling_entity_id"),
)
DIM_FIELDS: dict[str, str] = dict(DIMENSIONS)
# (channel id, warehouse id, customer tier, selling entity id) of one order
Dims = tuple[Any, Any, Any, Any]


@dataclass(frozen=True)
class Scope:
    channel: int | None = None
    warehouse: int | None = None
    tier: str | None = None
    entity: int | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> Scope:
        """A scope from request parameters; values that do not parse are ignored."""

        def as_int(name: str) -> int | None:
            value = str(query.get(name) or "").strip()
            return int(value) if value.isdigit() and len(value) < 19 else None

        tier = str(query.get("tier") or "").strip()[:8] or None
        return cls(as_int("channel"), as_int("warehouse"), tier, as_int("entity"))

    def items(self) -> Iterator[tuple[str, Any]]:
        for name, _field in DIMENSIONS:
            value = getattr(self, name)
            if value is not None:
                yield name, value

    @property
    def key(self) -> str:
        return "|".join(f"{n}:{v}" for n, v in self.items())

    @property
    def dimensions(self) -> int:
        return sum(1 for _ in self.items())

    def order_q(self, prefix: str = "") -> Q:
        """Filter on orders (prefix "order__" when filtering log entries)."""
        return Q(**{f"{prefix}{DIM_FIELDS[n]}": v for n, v in self.items()})

    def order_filters(self) -> list[Exact]:
        """The same filter on orders, written so that no index of the filter columns can drive
        the query (`channel_id + 0`, `customer_tier || ''`): a filter matches a fifth of the
        orders, yet without statistics (a fresh SQLite) the planner would read it first."""
        out = []
        for name, value in self.items():
            column = DIM_FIELDS[name]
            lhs = Concat(F(column), Value("")) if name == "tier" else F(column) + 0
            out.append(Exact(lhs, value))
        return out

    def query(self) -> dict[str, str]:
        return {n: str(v) for n, v in self.items()}


def row_keys(channel: int | None, warehouse: int | None, tier: str | None, entity: int | None) -> list[str]:
    """The stored scopes a row with these dimension values counts in: all, and each single filter."""
    keys = [""]
    if channel is not None:
        keys.append(f"channel:{channel}")
    if warehouse is not None:
        keys.append(f"warehouse:{warehouse}")
    if tier:
        keys.append(f"tier:{tier}")
    if entity is not None:
        keys.append(f"entity:{entity}")
    return keys


def scope_matches(scope: Scope, dims: tuple[Any, Any, Any, Any]) -> bool:
    channel, warehouse, tier, entity = dims
    return (
        (scope.channel is None or scope.channel == channel)
        and (scope.warehouse is None or scope.warehouse == warehouse)
        and (scope.tier is None or scope.tier == tier)
        and (scope.entity is None or scope.entity == entity)
    )


def scope_from_key(key: str) -> Scope:
    values: dict[str, Any] = {}
    for part in filter(None, key.split("|")):
        name, _sep, value = part.partition(":")
        values[name] = value if name == "tier" else int(value)
    return Scope(**values)


# --- days and ranges --------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    """Midnight of `day` in the configured time zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def local_day(at: datetime) -> date:
    return timezone.localtime(at).date()


@dataclass(frozen=True)
class Period:
    """Whole local days first..last (inclusive)."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        return day_start(self.last + timedelta(days=1))

    def previous(self) -> Period:
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]


MAX_DAYS = 366


@dataclass
class RangeChoice:
    period: Period
    errors: list[str] = field(default_factory=list)


def period_from_query(query: Mapping[str, Any], today: date, default_days: int = 7) -> RangeChoice:
    """The chosen range (`from`, `to` as YYYY-MM-DD), defaulting to the last week up to today."""
    errors: list[str] = []

    def parse(name: str) -> date | None:
        text = str(query.get(name) or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            errors.append(name)
            return None

    last = parse("to") or today
    first = parse("from") or last - timedelta(days=default_days - 1)
    if first > last:
        first, last = last, first
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
    return RangeChoice(Period(first, last), errors)
