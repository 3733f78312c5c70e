"""Who may see and move which order: role per transition, and the "only my orders" scope."""

from __future__ import annotations

from django.db.models import QuerySet

from orderhub.accounts.models import User
from orderhub.orders.models import Order
from orderhub.orders.states import Transition, transitions_from


def scope_orders(qs: QuerySet[Order], actor: User) -> QuerySet[Order]:
    """Sales staff see only the orders they own; other roles see every order."""
    if actor.sees_all_orders:
        return qs
    return qs.filter(owner=actor)


def can_see(actor: User, order: Order) -> bool:
    return actor.sees_all_orders or order.owner_id == actor.pk


def may_perform(actor: User, transition: Transition) -> bool:
    return bool(actor.role_names & transition.roles)


def allowed_transitions(actor: User, order: Order) -> list[Transition]:
    """Transitions this actor may perform on this order now (role, scope and guards)."""
    if not can_see(actor, order):
        return []
    return [
        t
        for t in transitions_from(order.status)
        if may_perform(actor, t) and all(g(order) is None for g in t.guards)
    ]
