"""Side effects a transition owes, declared by the apps that own them.

Each effect runs inside the transition's transaction, after the status and log entry are
written, so whatever it records (a durable job, a stock release) commits with the transition
or not at all. Effects must not call external systems: they enqueue jobs that will.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
_EFFECTS: list[tuple[frozenset[str] | None, str, Effect]] = []


def transition_effect(*, on: Iterable[str] | None = None) -> Callable[[Effect], Effect]:
    """Register `fn` to run for the named transitions (all transitions when `on` is None)."""

    def wrap(fn: Effect) -> Effect:
        key = f"{fn.__module__}.{fn.__qualname__}"
        if not any(k == key for _, k, _ in _EFFECTS):  # importing twice registers once
            _EFFECTS.append((frozenset(on) if on is not None else None, key, fn))
        return fn

    return wrap


def effects_run(ctx: EffectContext) -> None:
    for names, _key, fn in _EFFECTS:
        if names is None or ctx.transition.name in names:
            fn(ctx)
