"""Writes on orders. Import from here: `from orderhub.orders.services import order_transition`."""

from orderhub.orders.services.create import LineDraft, OrderDraft, order_create
from orderhub.orders.services.holds import order_hold, order_hold_release
from orderhub.orders.services.idempotency import order_create_idempotent
from orderhub.orders.services.transitions import TransitionBatch, order_transition, order_transition_many

__all__ = [
    "LineDraft",
    "OrderDraft",
    "TransitionBatch",
    "order_create",
    "order_create_idempotent",
    "order_hold",
    "order_hold_release",
    "order_transition",
    "order_transition_many",
]
