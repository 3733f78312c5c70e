"""Transition effects owned by fulfilment (run inside the transition's transaction)."""

from __future__ import annotations

from orderhub.accounts.services import system_user
from orderhub.orders.effects import EffectContext, by_time, transition_batch_effect, transition_effect
from orderhub.orders.models import Order
from orderhub.orders.states import OrderStatus as S

FORWARD_CHAIN: tuple[str, ...] = (S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED, S.SHIPPED, S.COMPLETED)


@transition_effect()
def _parent_follows_parts(ctx: EffectContext) -> None:
    """A parent shows the aggregate of its parts: it moves forward to the least advanced part's state.

    The parent row is locked before the parts are read, so two parts shipping at once cannot
    both miss the other's move.
    """
    if ctx.order.parent_id is None:
        return
    from orderhub.orders.services import order_transition

    parent = Order.objects.select_for_update().get(pk=ctx.order.parent_id)
    parts = list(
        Order.objects.filter(parent_id=parent.pk).order_by("part_no").values_list("order_no", "status")
    )
    statuses = [s for _no, s in parts]
    live = [s for s in statuses if s != S.CANCELLED]
    if parent.status not in FORWARD_CHAIN:
        return
    actor = system_user()
    if not live:
        order_transition(
            order_id=parent.pk, to=S.CANCELLED, actor=actor, automatic=True, reason="全部子单已取消"
        )
        return
    if any(s not in FORWARD_CHAIN for s in live):
        return  # a part is back in review or in a logistics exception: the parent waits
    target = min(FORWARD_CHAIN.index(s) for s in live)
    current = FORWARD_CHAIN.index(parent.status)
    if target > current:
        # One warehouse for every live part: the parent shows it too.
        whs = set(
            Order.objects.filter(parent_id=parent.pk)
            .exclude(status=S.CANCELLED)
            .values_list("warehouse_id", flat=True)
        )
        if len(whs) == 1 and None not in whs and parent.warehouse_id not in whs:
            Order.objects.filter(pk=parent.pk).update(warehouse_id=whs.pop())
    for step in FORWARD_CHAIN[current + 1 : target + 1]:
        order_transition(
            order_id=parent.pk,
            to=step,
            actor=actor,
            automatic=True,
            reason=f"子单汇总：{len(live)} 个子单均已到达",
            details={"parts": dict(parts)},
        )


@transition_effect(on=["void_waybill", "cancel"])
def _void_live_waybill(ctx: EffectContext) -> None:
    """Voiding the label or cancelling the order makes its live waybill void (its number is not reused)."""
    from orderhub.fulfilment.models import Waybill
    from orderhub.fulfilment.tasks import discard_waybill

    live = list(Waybill.objects.filter(order_id=ctx.order.pk, status=Waybill.Status.ACTIVE))
    Waybill.objects.filter(pk__in=[w.pk for w in live]).update(
        status=Waybill.Status.VOIDED, voided_at=ctx.entry.at
    )
    for wb in live:
        if wb.provider != "simulated":  # tell the provider after the commit, with retries
            discard_waybill.enqueue(wb.pk)


@transition_batch_effect(on=["ship"])
def _owe_ship_report(contexts: list[EffectContext]) -> None:
    """A shipped channel order owes the channel its tracking number (a job committed with the move)."""
    from orderhub.fulfilment.reporting import ship_reports_owe

    for at, group in by_time(contexts).items():
        ship_reports_owe(orders=[ctx.order for ctx in group], now=at)


@transition_effect(on=["cancel"])
def _cancel_parts_with_parent(ctx: EffectContext) -> None:
    """Cancelling a split order cancels its parts that have not shipped (their stock goes back).

    Parent before parts is primary-key order (parts are created after their parent).
    """
    if ctx.order.parent_id is not None:
        return
    from orderhub.orders.services import order_transition
    from orderhub.orders.states import BEFORE_SHIPPING

    parts = Order.objects.filter(parent_id=ctx.order.pk, status__in=BEFORE_SHIPPING).order_by("pk")
    for part_id in parts.values_list("pk", flat=True):
        order_transition(
            order_id=part_id,
            to=S.CANCELLED,
            actor=ctx.entry.actor or system_user(),
            automatic=True,
            reason=f"母单取消：{ctx.entry.reason}"[:255],
        )
