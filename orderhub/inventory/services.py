"""Stock writes. Counters change only through conditional UPDATEs, each with a ledger row."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from orderhub.accounts.models import User
from orderhub.inventory.models import Reservation, Stock, StockMovement, StockMovementKind
from orderhub.orders.effects import EffectContext, transition_effect
from orderhub.orders.models import Order


def reservations_release(*, order: Order, actor: User | None, note: str = "") -> int:
    """Give back every active reservation of an order (cancel, void). Returns units released."""
    assert transaction.get_connection().in_atomic_block
    active = list(
        Reservation.objects.select_for_update()
        .filter(order=order, status=Reservation.Status.ACTIVE)
        .order_by("stock_id", "pk")  # lock order: stock primary key, as everywhere
    )
    released = 0
    for r in active:
        Stock.objects.filter(pk=r.stock_id).update(reserved=F("reserved") - r.quantity)
        StockMovement.objects.create(
            stock_id=r.stock_id,
            kind=StockMovementKind.RELEASE,
            reserved_delta=-r.quantity,
            order=order,
            actor=actor,
            note=note[:255],
        )
        r.status = Reservation.Status.RELEASED
        r.save(update_fields=["status"])
        released += r.quantity
    return released


@transition_effect(on=["cancel"])
def _release_on_cancel(ctx: EffectContext) -> None:
    """Cancelling before shipping gives the reserved stock back."""
    reservations_release(order=ctx.order, actor=ctx.entry.actor, note=ctx.entry.reason)
