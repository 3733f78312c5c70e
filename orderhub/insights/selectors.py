"""Reads of the delivery-health dashboard (交付健康度): figures for a range, the previous range
beside it, today at a glance, and the orders behind each figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import BooleanField, F
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import IsNull
from django.utils import timezone

from orderhub.accounts.models import User
from orderhub.insights.aggregate import Agg, mean, merged, percentile
from orderhub.insights.models import DayRollup
from orderhub.insights.rollup import high_marks, live, rollup_days, tail_after
from orderhub.insights.scope import Period, Scope, day_start, local_day
from orderhub.orders.models import HoldReason, Order
from orderhub.orders.states import TRANSITIONS_BY_NAME, OrderStatus

S = OrderStatus
# States a card leaves (completed and cancelled are final).
STAGES: tuple[str, ...] = (S.PENDING_REVIEW, S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED, S.SHIPPED, S.EXCEPTION)
PCTS = (50, 95, 99)
OUTLIER_RATIO = 1.4  # an operator ≥ 40 % slower than the team at a step is highlighted


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


# --- loading days ---------------------------------------------------------------------------


def _stored(first: date, last: date, scope: Scope) -> dict[date, tuple[Agg, tuple[int, int] | None]]:
    """Stored days of a scope: their figures and, for a day counted up to a watermark, the
    (log entry, order) ids it was counted through."""
    rows = DayRollup.objects.filter(day__gte=first, day__lte=last, scope=scope.key).values_list(
        "day", "data", "samples", "through_log_id", "through_order_id"
    )
    out = {day: (Agg.load(data, samples), _marks(log, order)) for day, data, samples, log, order in rows}
    if scope.dimensions == 1:
        # Single filters are stored only where they had activity: a stored day without one is empty.
        everything = DayRollup.objects.filter(day__gte=first, day__lte=last, scope="").values_list(
            "day", "through_log_id", "through_order_id"
        )
        for day, log, order in everything:
            out.setdefault(day, (Agg(), _marks(log, order)))
    return out


def _marks(log: int | None, order: int | None) -> tuple[int, int] | None:
    return None if log is None else (log, order or 0)


def days_load(period: Period, scope: Scope, *, now: datetime) -> dict[date, Agg]:
    """One Agg per day of the period up to today: stored days, missing ones counted and stored,
    and for a day stored up to a watermark (today) the entries after it counted live."""
    last = min(period.last, local_day(now))
    if period.first > last:
        return {}
    stored = _stored(period.first, last, scope)
    missing = [d for d in Period(period.first, last).each_day() if d not in stored]
    if missing:
        rollup_days(missing, extra=[scope], now=now)
        stored.update(_stored(min(missing), max(missing), scope))
    out: dict[date, Agg] = {}
    partial: dict[tuple[int, int], list[date]] = {}
    for day, (agg, marks) in stored.items():
        out[day] = agg
        if marks is not None:
            partial.setdefault(marks, []).append(day)
    if partial:
        upto = high_marks()
        for (log, order), days in partial.items():
            tail = tail_after(log, order, upto)
            if tail.log_after == tail.log_upto and tail.order_after == tail.order_upto:
                continue  # nothing new since it was stored
            start, end = day_start(min(days)), day_start(max(days) + timedelta(days=1))
            for day, agg in live(start, end, scope, tail).items():
                if day in days:  # a day between two partial ones is stored whole
                    out[day].merge(agg)
    for day in Period(period.first, last).each_day():
        out.setdefault(day, Agg())
    return out


# --- the dashboard ----------------------------------------------------------------------------


@dataclass
class Compare:
    """A figure for the chosen range and for the range before it."""

    current: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous in (None, 0):
            return None
        return (self.current - self.previous) / self.previous  # type: ignore[operator]


@dataclass
class DayPoint:
    day: date
    orders_in: int
    shipped: int
    completed: int
    ship: dict[int, int | None]
    complete: dict[int, int | None]


@dataclass
class StageRow:
    state: str
    label: str
    exits: int
    avg: float | None
    p95: int | None
    backward: int
    rejection: float | None
    prev_avg: float | None
    prev_rejection: float | None


@dataclass
class OperatorRow:
    actor_id: int
    name: str
    transition: str
    step: str
    count: int
    avg: float
    team_avg: float
    ratio: float
    outlier: bool

    @property
    def key(self) -> str:
        """The drill-down key of this operator's step."""
        return f"{self.actor_id}|{self.transition}"


@dataclass
class ReasonRow:
    reason: str
    label: str
    orders: int
    share: float | None
    previous: int


@dataclass
class CarrierRow:
    carrier: str
    name: str
    exceptions: int
    previous: int


@dataclass
class TodayFigure:
    metric: str
    label: str
    value: int
    yesterday: int | None


@dataclass
class Dashboard:
    period: Period
    previous: Period
    scope: Scope
    now: datetime
    today: list[TodayFigure]
    summary: dict[str, Compare]
    daily: list[DayPoint]
    stages: list[StageRow]
    operators: list[OperatorRow]
    reasons: list[ReasonRow]
    carriers: list[CarrierRow]
    self_service: dict[str, Compare] = field(default_factory=dict)


def _summary(cur: Agg, prev: Agg, self_service: dict[str, Compare]) -> dict[str, Compare]:
    def both(fn: Any) -> Compare:
        return Compare(fn(cur), fn(prev))

    out = {
        "orders_in": both(lambda a: a.counts["orders_in"]),
        "shipped": both(lambda a: a.counts["shipped"]),
        "completed": both(lambda a: a.counts["completed"]),
        "late_rate": both(lambda a: ratio(a.counts["late"], a.counts["promised"])),
        "held": both(lambda a: a.counts["held"]),
        "held_rate": both(lambda a: ratio(a.counts["held"], a.counts["orders_in"])),
        "stock_conflicts": both(lambda a: a.reasons[HoldReason.STOCK_CONFLICT]),
        "exceptions": both(lambda a: a.counts["exceptions"]),
        "lag_avg": both(lambda a: a.avg("lag")),
        "lag_p95": both(lambda a: a.p("lag", 95)),
        "touches_per_order": both(lambda a: ratio(a.counts["touches"], a.counts["finished"])),
        "finished": both(lambda a: a.counts["finished"]),
    }
    for p in PCTS:
        out[f"ship_p{p}"] = both(lambda a, p=p: a.p("ship", p))
        out[f"complete_p{p}"] = both(lambda a, p=p: a.p("complete", p))
    out.update(self_service)
    return out


def _stages(cur: Agg, prev: Agg) -> list[StageRow]:
    rows = []
    for state in STAGES:
        values = cur.values(f"dwell:{state}")
        prev_values = prev.values(f"dwell:{state}")
        rows.append(
            StageRow(
                state=state,
                label=str(S(state).label),
                exits=cur.exits[state],
                avg=mean(sum(values), len(values)),
                p95=percentile(values, 95),
                backward=cur.backward[state],
                rejection=ratio(cur.backward[state], cur.exits[state]),
                prev_avg=mean(sum(prev_values), len(prev_values)),
                prev_rejection=ratio(prev.backward[state], prev.exits[state]),
            )
        )
    return rows


def _operators(cur: Agg) -> list[OperatorRow]:
    team: dict[str, list[int]] = {}
    for key, (n, total) in cur.steps.items():
        slot = team.setdefault(key.split("|", 1)[1], [0, 0])
        slot[0] += n
        slot[1] += total
    ids = {int(k.split("|", 1)[0]) for k in cur.steps}
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=ids).only("id", "username", "display_name")}
    rows = []
    for key, (n, total) in cur.steps.items():
        actor, name = key.split("|", 1)
        team_n, team_total = team[name]
        avg, team_avg = total / n, team_total / team_n
        r = avg / team_avg if team_avg else 1.0
        t = TRANSITIONS_BY_NAME.get(name)
        rows.append(
            OperatorRow(
                actor_id=int(actor),
                name=names.get(int(actor), f"#{actor}"),
                transition=name,
                step=str(t.label) if t else name,
                count=n,
                avg=avg,
                team_avg=team_avg,
                ratio=r,
                outlier=r >= OUTLIER_RATIO - 1e-9,
            )
        )
    order = {t: i for i, t in enumerate(TRANSITIONS_BY_NAME)}
    rows.sort(key=lambda r: (order.get(r.transition, 99), -r.ratio, r.name))
    return rows


def _reasons(cur: Agg, prev: Agg) -> list[ReasonRow]:
    keys = sorted(set(cur.reasons) | set(prev.reasons), key=lambda k: (-cur.reasons[k], k))
    labels = dict(HoldReason.choices)
    return [
        ReasonRow(
            k,
            str(labels.get(k, k)),
            cur.reasons[k],
            ratio(cur.reasons[k], cur.counts["orders_in"]),
            prev.reasons[k],
        )
        for k in keys
    ]


def _carriers(cur: Agg, prev: Agg) -> list[CarrierRow]:
    from orderhub.tracking.carriers import carrier_name

    keys = sorted(set(cur.carriers) | set(prev.carriers), key=lambda k: (-cur.carriers[k], k))
    return [
        CarrierRow(k, carrier_name(k) if k != "?" else "—", cur.carriers[k], prev.carriers[k]) for k in keys
    ]


def _daily(days: dict[date, Agg], period: Period) -> list[DayPoint]:
    points = []
    for d in period.each_day():
        a = days.get(d)
        if a is None:
            continue
        a.finish()
        points.append(
            DayPoint(
                day=d,
                orders_in=a.counts["orders_in"],
                shipped=a.counts["shipped"],
                completed=a.counts["completed"],
                ship={p: a.p("ship", p) for p in PCTS},
                complete={p: a.p("complete", p) for p in PCTS},
            )
        )
    return points


def self_service_counts(start: datetime, end: datetime) -> tuple[int, int]:
    """(customer self-service lookups, staff inquiries) in [start, end)."""
    from orderhub.portal.models import LookupEvent

    lookups = LookupEvent.objects.filter(at__gte=start, at__lt=end).count()
    return lookups, staff_inquiries_count(start, end)


def staff_inquiries_count(start: datetime, end: datetime) -> int:
    """Order inquiries staff recorded (the staff board's StaffInquiry), 0 while it does not exist."""
    from django.apps import apps

    try:
        model = apps.get_model("web", "StaffInquiry")
    except LookupError:
        return 0
    names = [f.name for f in model._meta.get_fields() if getattr(f, "get_internal_type", None)]
    stamp = next(
        (n for n in ("at", "asked_at", "created_at") if n in names),
        next((f.name for f in model._meta.fields if f.get_internal_type() == "DateTimeField"), None),
    )
    if stamp is None:
        return model.objects.count()
    return model.objects.filter(**{f"{stamp}__gte": start, f"{stamp}__lt": end}).count()


def _self_service(period: Period, previous: Period) -> dict[str, Compare]:
    cur = self_service_counts(period.start, period.end)
    prev = self_service_counts(previous.start, previous.end)
    return {
        "lookups": Compare(cur[0], prev[0]),
        "inquiries": Compare(cur[1], prev[1]),
        "self_service_share": Compare(ratio(cur[0], sum(cur)), ratio(prev[0], sum(prev))),
    }


# --- today at a glance --------------------------------------------------------------------------


def _roots(qs: Any) -> int:
    return qs.annotate(root=Coalesce("parent_id", "id")).values("root").distinct().count()


# "Not finished", written exactly as the condition of the partial index order_open_promised: SQLite
# uses a partial index only when the query repeats its condition with the same literals, and the
# ORM would send the statuses as parameters (then every order is scanned: 0.5 s at a million).
# The statuses are orders.states.TERMINAL (a test holds them equal).
_NOT_FINISHED = RawSQL(
    "NOT (orders_order.status IN ('completed', 'cancelled'))", (), output_field=BooleanField()
)


def snapshot_querysets(scope: Scope, now: datetime) -> dict[str, Any]:
    """Orders that are held, in 物流异常, or past their promised time right now."""
    base = Order.objects.filter(*scope.order_filters())
    return {
        "held_now": base.filter(status=S.PENDING_REVIEW, holds__resolved_at__isnull=True),
        "exception_now": base.filter(status=S.EXCEPTION),
        # Root orders, again without offering the parent index (nearly every order is a root).
        "late_now": base.filter(_NOT_FINISHED, IsNull(F("parent_id") + 0, True), promised_at__lt=now),
    }


def _today(days: dict[date, Agg], yesterday: Agg | None, scope: Scope, now: datetime) -> list[TodayFigure]:
    today = days.get(local_day(now))
    t = today.counts if today else {}
    y = yesterday.counts if yesterday else {}
    snaps = snapshot_querysets(scope, now)
    return [
        TodayFigure("orders_in", "今日进单", t.get("orders_in", 0), y.get("orders_in", 0)),
        TodayFigure("shipped", "今日发货", t.get("shipped", 0), y.get("shipped", 0)),
        TodayFigure("held_now", "拦截中", _roots(snaps["held_now"]), None),
        TodayFigure("exception_now", "物流异常", _roots(snaps["exception_now"]), None),
        TodayFigure("late_now", "已超承诺时间", snaps["late_now"].count(), None),
    ]


def dashboard_get(*, period: Period, scope: Scope, now: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard for `period` and the period before it."""
    now = now or timezone.now()
    previous = period.previous()
    today = local_day(now)
    days = days_load(Period(previous.first, period.last), scope, now=now)
    # Today at a glance compares with yesterday, whatever range is chosen.
    glance = [d for d in (today - timedelta(days=1), today) if d not in days]
    if glance:
        days.update(days_load(Period(glance[0], today), scope, now=now))
    cur = merged(a for d, a in days.items() if period.first <= d <= period.last)
    prev = merged(a for d, a in days.items() if previous.first <= d <= previous.last)
    self_service = _self_service(period, previous)
    return Dashboard(
        period=period,
        previous=previous,
        scope=scope,
        now=now,
        today=_today(days, days.get(today - timedelta(days=1)), scope, now),
        summary=_summary(cur, prev, self_service),
        daily=_daily(days, period),
        stages=_stages(cur, prev),
        operators=_operators(cur),
        reasons=_reasons(cur, prev),
        carriers=_carriers(cur, prev),
        self_service=self_service,
    )
