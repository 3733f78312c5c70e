"""Side effects a transition owes, declared by the apps that own them.

Each effect runs inside the transition's transaction, after the status and log entry are
written, so whatever it records (a durable job, a stock release) commits with the transition
or not at all. Effects must not call external systems: they enqueue jobs that will.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orderhub.orders.models import OperationLog, Order
    from orderhub.orders.states import Transition


@dataclass(frozen=True)
class EffectContext:
    order: Order
    transition: Transition
    entry: OperationLog
    notify: bool


Effect = Callable[[EffectContext], None]
BatchEffect = Callable[[list[EffectContext]], None]
# (transition names or None for all, key, function, whether it takes a list of contexts)
_EFFECTS: list[tuple[frozenset[str] | None, str, Callable[..., None], bool]] = []


def _register(on: Iterable[str] | None, fn: Callable[..., None], batch: bool) -> None:
    key = f"{fn.__module__}.{fn.__qualname__}"
    if not any(k == key for _, k, _, _ in _EFFECTS):  # importing twice registers once
        _EFFECTS.append((frozenset(on) if on is not None else None, key, fn, batch))


def transition_effect(*, on: Iterable[str] | None = None) -> Callable[[Effect], Effect]:
    """Register `fn(ctx)` to run for the named transitions (all transitions when `on` is None)."""

    def wrap(fn: Effect) -> Effect:
        _register(on, fn, batch=False)
        return fn

    return wrap


def transition_batch_effect(*, on: Iterable[str] | None = None) -> Callable[[BatchEffect], BatchEffect]:
    """Register `fn(contexts)`, called once with every matching transition of a batch (one
    transition on its own is a batch of one): for effects that write one row per transition
    and can write them all with one statement."""

    def wrap(fn: BatchEffect) -> BatchEffect:
        _register(on, fn, batch=True)
        return fn

    return wrap


def by_time(contexts: list[EffectContext]) -> dict[datetime, list[EffectContext]]:
    """A batch's transitions grouped by the time they happened (a batch usually shares one)."""
    groups: dict[datetime, list[EffectContext]] = {}
    for ctx in contexts:
        groups.setdefault(ctx.entry.at, []).append(ctx)
    return groups


def effects_run(ctx: EffectContext) -> None:
    effects_run_many([ctx])


def effects_run_many(contexts: list[EffectContext]) -> None:
    """Run every registered effect for the transitions in `contexts`, in registration order."""
    for names, _key, fn, batch in _EFFECTS:
        matching = [c for c in contexts if names is None or c.transition.name in names]
        if not matching:
            continue
        if batch:
            fn(matching)
        else:
            for ctx in matching:
                fn(ctx)
