"""Order states and the one declarative table of legal transitions.

Every move of an order card is a row here: its name, the states it leaves from, the state it
reaches, the roles allowed to perform it, whether a reason is required, and its guard. The
transition service (`orders.services.transitions`) is the only code that applies them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

from orderhub.accounts.roles import Role

if TYPE_CHECKING:
    from orderhub.orders.models import Order


class OrderStatus(models.TextChoices):
    PENDING_REVIEW = "pending_review", _("待审核")
    SPLIT = "split", _("已拆单")
    ALLOCATING = "allocating", _("分仓中")
    LABEL_PRINTED = "label_printed", _("已打单")
    SHIPPED = "shipped", _("已发货")
    EXCEPTION = "exception", _("物流异常")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")


S = OrderStatus

# The board's column order; `cancelled` is last and hidden by default.
STATUS_ORDER: tuple[str, ...] = tuple(S.values)
TERMINAL: frozenset[str] = frozenset({S.COMPLETED, S.CANCELLED})
BEFORE_SHIPPING: frozenset[str] = frozenset({S.PENDING_REVIEW, S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED})


class Kind(models.TextChoices):
    FORWARD = "forward", _("前进")
    BACKWARD = "backward", _("驳回")
    CANCEL = "cancel", _("取消")


# A guard returns None when the move may proceed, or a message saying why not.
Guard = Callable[["Order"], "str | None"]


def _no_open_holds(order: Order) -> str | None:
    reasons = order.open_hold_reasons()
    if reasons:
        return str(_("订单被拦截，需先处理：")) + "、".join(reasons)
    return None


_CS = Role.CUSTOMER_SERVICE
_WH = Role.WAREHOUSE
_LG = Role.LOGISTICS
_SA = Role.SALES
_MG = Role.MANAGER
_AD = Role.ADMIN
_SY = Role.SYSTEM


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    kind: str = Kind.FORWARD
    label: str = ""
    requires_reason: bool = False
    guards: tuple[Guard, ...] = field(default=())


def _t(
    name: str,
    sources: set[str],
    target: str,
    roles: set[str],
    label: str,
    *,
    kind: str = Kind.FORWARD,
    guards: tuple[Guard, ...] = (),
) -> Transition:
    return Transition(
        name=name,
        sources=frozenset(sources),
        target=target,
        roles=frozenset(roles | {_MG, _AD, _SY}),
        kind=kind,
        label=label,
        # Rejections and cancellations always say why: the dashboard counts them by reason.
        requires_reason=kind != Kind.FORWARD or name == "close",
        guards=guards,
    )


TRANSITIONS: tuple[Transition, ...] = (
    # Forward path 待审核 → 已拆单 → 分仓中 → 已打单 → 已发货 → 已完成
    _t("approve", {S.PENDING_REVIEW}, S.SPLIT, {_CS}, _("审核通过"), guards=(_no_open_holds,)),
    _t("allocate", {S.SPLIT}, S.ALLOCATING, {_CS, _WH}, _("开始分仓")),
    _t("print_label", {S.ALLOCATING}, S.LABEL_PRINTED, {_WH, _LG}, _("打单")),
    _t("ship", {S.LABEL_PRINTED}, S.SHIPPED, {_WH}, _("发货")),
    _t("flag_exception", {S.SHIPPED}, S.EXCEPTION, {_LG, _CS}, _("标记物流异常")),
    _t("resume", {S.EXCEPTION}, S.SHIPPED, {_LG, _CS}, _("恢复运输")),
    _t("complete", {S.SHIPPED}, S.COMPLETED, {_LG, _CS}, _("确认签收")),
    _t("close", {S.EXCEPTION}, S.COMPLETED, {_LG, _CS}, _("异常关闭")),
    # Backward moves (驳回): each one is counted as the stage's rejection rate.
    _t("reject_split", {S.SPLIT}, S.PENDING_REVIEW, {_CS, _WH}, _("驳回重审"), kind=Kind.BACKWARD),
    _t(
        "reject_allocation",
        {S.ALLOCATING},
        S.PENDING_REVIEW,
        {_CS, _WH},
        _("分仓驳回（缺货）"),
        kind=Kind.BACKWARD,
    ),
    _t("void_waybill", {S.LABEL_PRINTED}, S.ALLOCATING, {_WH, _LG}, _("作废面单"), kind=Kind.BACKWARD),
    # Cancel before shipping; releases reserved stock.
    _t("cancel", set(BEFORE_SHIPPING), S.CANCELLED, {_CS, _SA}, _("取消订单"), kind=Kind.CANCEL),
)

TRANSITIONS_BY_NAME: dict[str, Transition] = {t.name: t for t in TRANSITIONS}


def transition_between(source: str, target: str) -> Transition | None:
    """The one declared transition from `source` to `target`, if any."""
    for t in TRANSITIONS:
        if source in t.sources and t.target == target:
            return t
    return None


def transitions_from(source: str) -> list[Transition]:
    return [t for t in TRANSITIONS if source in t.sources]


def _check_table() -> None:
    # Each (source, target) pair maps to exactly one named transition.
    seen: set[tuple[str, str]] = set()
    for t in TRANSITIONS:
        for s in t.sources:
            assert (s, t.target) not in seen, f"duplicate transition {s}->{t.target}"
            seen.add((s, t.target))


_check_table()
