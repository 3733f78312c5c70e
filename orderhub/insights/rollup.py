"""Counting the sources into per-day figures, storing them, and keeping them current.

Past days are stored (DayRollup) by the periodic job and, for a day it has not reached yet, by
the first dashboard that needs it. Today is stored too, every few minutes, up to a watermark
(the newest log entry and order when the count began): the dashboard then counts live only
what came after it. A day is counted again when log entries or orders dated that day arrive
after it was stored (watermarks on their ids).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models.functions import TruncDate
from django.utils import timezone

from orderhub.insights import sources
from orderhub.insights.aggregate import Agg
from orderhub.insights.models import DayRollup, RefreshMark
from orderhub.insights.scope import Dims, Scope, day_start, local_day, row_keys, scope_from_key, scope_matches
from orderhub.orders.models import OperationLog, Order

KeysFor = Callable[[Dims], Iterable[str]]
WINDOW_DAYS = 7  # days counted together by the job (bounds memory at a million orders)


def collect(
    start: datetime, end: datetime, *, scope: Scope, keys: KeysFor, ids: sources.Ids = sources.ALL
) -> dict[tuple[date, str], Agg]:
    """Count every source in [start, end) (entries and orders within `ids`) into one Agg per
    (local day, scope key)."""
    aggs: dict[tuple[date, str], Agg] = defaultdict(Agg)
    system_ids = sources.system_actor_ids()

    def each(at: datetime, dims: Dims) -> list[Agg]:
        day = local_day(at)
        return [aggs[(day, k)] for k in keys(dims)]

    for r in sources.orders_in(start, end, scope, ids):
        for a in each(r.at, r.dims):
            a.add("orders_in")
    for r in sources.shipped(start, end, scope, ids):
        for a in each(r.at, r.dims):
            a.add("shipped")
            if r.value is not None:
                a.sample("ship", r.value)
    for r in sources.completed(start, end, scope, ids):
        for a in each(r.at, r.dims):
            a.add("completed")
            if r.value is not None:
                a.sample("complete", r.value)
            if r.key == "promised":
                a.add("promised")
            if r.flag:
                a.add("late")
    for e in sources.exits(start, end, scope, system_ids=system_ids, ids=ids):
        for a in each(e.at, e.dims):
            a.exits[e.state] += 1
            if e.backward:
                a.backward[e.state] += 1
            if e.dwell is not None:
                a.sample(f"dwell:{e.state}", e.dwell)
            if e.actor_id is not None:
                a.step(e.actor_id, e.transition, e.dwell or 0)
    held, reasons = sources.auto_holds(start, end, scope, system_ids=system_ids, ids=ids)
    for r in held:
        for a in each(r.at, r.dims):
            a.add("held")
    for r in reasons:
        for a in each(r.at, r.dims):
            a.reasons[r.key] += 1
    for r in sources.exceptions(start, end, scope, ids):
        for a in each(r.at, r.dims):
            a.add("exceptions")
            a.carriers[r.key or "?"] += 1
            if r.value is not None:
                a.sample("lag", r.value)
    for r in sources.finished(start, end, scope, system_ids=system_ids, ids=ids):
        for a in each(r.at, r.dims):
            a.add("finished")
            a.add("touches", int(r.value or 0))
    return aggs


def live(start: datetime, end: datetime, scope: Scope, ids: sources.Ids = sources.ALL) -> dict[date, Agg]:
    """Figures per day counted straight from the log, for one scope."""
    key = scope.key
    aggs = collect(start, end, scope=scope, keys=lambda _dims: (key,), ids=ids)
    return {day: agg.finish() for (day, _k), agg in aggs.items()}


def high_marks() -> sources.Ids:
    """Everything committed now: up to the newest log entry and the newest order."""
    max_log = OperationLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    max_order = Order.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return sources.Ids(log_upto=max_log, order_upto=max_order)


def tail_after(through_log_id: int, through_order_id: int, upto: sources.Ids) -> sources.Ids:
    """The entries and orders a row counted up to (through_*) has not seen yet."""
    return sources.Ids(
        log_after=through_log_id,
        log_upto=max(through_log_id, upto.log_upto or 0),
        order_after=through_order_id,
        order_upto=max(through_order_id, upto.order_upto or 0),
    )


# --- storing days -------------------------------------------------------------------------------


def _runs(days: Iterable[date], limit: int = WINDOW_DAYS) -> list[list[date]]:
    """Consecutive days grouped into runs of at most `limit`."""
    runs: list[list[date]] = []
    for d in sorted(set(days)):
        if runs and d - runs[-1][-1] == timedelta(days=1) and len(runs[-1]) < limit:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def rollup_days(
    days: Iterable[date],
    *,
    extra: Iterable[Scope] = (),
    now: datetime | None = None,
    upto: sources.Ids | None = None,
) -> int:
    """Count and store these days (today at most) for everything, each single filter, and every
    combined filter already stored for them (plus `extra`), counting the entries and orders up
    to `upto` (everything committed now when not given). Today's rows keep that watermark.
    Returns the number of rows written."""
    now = now or timezone.now()
    today = local_day(now)
    upto = upto or high_marks()
    written = 0
    extra_keys = {s.key for s in extra if s.dimensions > 1}
    for run in _runs(d for d in days if d <= today):
        stored = set(
            DayRollup.objects.filter(day__in=run, scope__contains="|")
            .values_list("scope", flat=True)
            .distinct()
        )
        combos = [(k, scope_from_key(k)) for k in sorted(stored | extra_keys)]

        def keys(dims: Dims, combos: list[tuple[str, Scope]] = combos) -> list[str]:
            return row_keys(*dims) + [k for k, s in combos if scope_matches(s, dims)]

        aggs = collect(
            day_start(run[0]), day_start(run[-1] + timedelta(days=1)), scope=Scope(), keys=keys, ids=upto
        )

        def row(d: date, k: str, agg: Agg | None) -> DayRollup:
            partial = d >= today
            return DayRollup(
                day=d,
                scope=k,
                data=agg.to_data() if agg else {},
                samples=agg.to_samples() if agg else b"",
                computed_at=now,
                through_log_id=upto.log_upto if partial else None,
                through_order_id=upto.order_upto if partial else None,
            )

        rows = [row(d, k, a) for (d, k), a in aggs.items()]
        rows += [row(d, k, None) for d in run for k in ["", *(k for k, _s in combos)] if (d, k) not in aggs]
        try:
            with transaction.atomic():
                DayRollup.objects.filter(day__in=run).delete()
                DayRollup.objects.bulk_create(rows, batch_size=500)
        except IntegrityError:
            # Another process stored the same days at the same moment (PostgreSQL): theirs stand.
            continue
        written += len(rows)
    return written


def _dates(qs: object, field: str) -> set[date]:
    tz = timezone.get_current_timezone()
    return set(qs.annotate(d=TruncDate(field, tzinfo=tz)).values_list("d", flat=True).distinct())  # type: ignore[attr-defined]


def insights_refresh(*, now: datetime | None = None) -> int:
    """The periodic job: store every day up to today touched by entries or orders since the last
    run, today if it is not stored yet, yesterday if it is not stored yet, and finish the past
    days last stored as "today". Returns the number of rows written."""
    now = now or timezone.now()
    today = local_day(now)
    mark, _ = RefreshMark.objects.get_or_create(name="rollup")
    # Read the high-water marks first: whatever commits while we count is picked up next time.
    upto = high_marks()
    dirty = _dates(OperationLog.objects.filter(id__gt=mark.last_log_id, id__lte=upto.log_upto), "at")
    dirty |= _dates(Order.objects.filter(id__gt=mark.last_order_id, id__lte=upto.order_upto), "ordered_at")
    dirty |= set(
        DayRollup.objects.filter(day__lt=today, through_log_id__isnull=False).values_list("day", flat=True)
    )
    for day in (today - timedelta(days=1), today):
        if not DayRollup.objects.filter(day=day, scope="").exists():
            dirty.add(day)
    written = rollup_days([d for d in dirty if d <= today], now=now, upto=upto)
    RefreshMark.objects.filter(pk=mark.pk).update(
        last_log_id=upto.log_upto, last_order_id=upto.order_upto, updated_at=now
    )
    return written
