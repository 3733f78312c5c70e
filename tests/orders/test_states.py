"""The declared transition table: every legal move works, every other move is refused."""

from __future__ import annotations

from itertools import product

import pytest

from orderhub.accounts.roles import Role
from orderhub.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from orderhub.orders.models import OperationLog, Order
from orderhub.orders.services import order_transition
from orderhub.orders.states import (
    TRANSITIONS,
    Kind,
    OrderStatus,
    transition_between,
)

S = OrderStatus


def _force_status(order: Order, status: str) -> Order:
    """Put a fresh order into `status` by walking the forward path through the service."""
    path = {
        S.PENDING_REVIEW: [],
        S.SPLIT: [S.SPLIT],
        S.ALLOCATING: [S.SPLIT, S.ALLOCATING],
        S.LABEL_PRINTED: [S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED],
        S.SHIPPED: [S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED, S.SHIPPED],
        S.EXCEPTION: [S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED, S.SHIPPED, S.EXCEPTION],
        S.COMPLETED: [S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED, S.SHIPPED, S.COMPLETED],
        S.CANCELLED: [S.CANCELLED],
    }[status]
    from orderhub.accounts.models import User

    admin = User.objects.get(username="admin1")
    for target in path:
        order = order_transition(order_id=order.pk, to=target, actor=admin, reason="测试")
    return Order.objects.get(pk=order.pk)


def test_the_seven_states_and_cancel_have_chinese_labels() -> None:
    assert [str(s.label) for s in OrderStatus] == [
        "待审核",
        "已拆单",
        "分仓中",
        "已打单",
        "已发货",
        "物流异常",
        "已完成",
        "已取消",
    ]


def test_every_backward_and_cancel_move_requires_a_reason() -> None:
    for t in TRANSITIONS:
        if t.kind in (Kind.BACKWARD, Kind.CANCEL):
            assert t.requires_reason, t.name


def test_cancel_is_reachable_from_every_state_before_shipping_only() -> None:
    sources = {s for s in S.values if transition_between(s, S.CANCELLED)}
    assert sources == {S.PENDING_REVIEW, S.SPLIT, S.ALLOCATING, S.LABEL_PRINTED}


@pytest.mark.parametrize("t", TRANSITIONS, ids=lambda t: t.name)
def test_every_legal_transition_moves_the_order_and_logs_it(make_order, staff, t) -> None:
    for source in sorted(t.sources):
        order = _force_status(make_order(), source)
        actor = staff[Role.ADMIN]
        moved = order_transition(
            order_id=order.pk,
            to=t.target,
            actor=actor,
            expected_version=order.version,
            reason="客户要求" if t.requires_reason else "",
        )
        assert moved.status == t.target
        assert moved.version == order.version + 1
        stored = Order.objects.get(pk=order.pk)
        assert (stored.status, stored.last_operator_id, stored.version) == (t.target, actor.pk, moved.version)
        last = OperationLog.objects.filter(order=order).order_by("-seq").first()
        assert (last.from_status, last.to_status, last.transition) == (source, t.target, t.name)
        assert last.actor_name == str(actor)


ILLEGAL = [
    (src, dst)
    for src, dst in product(S.values, S.values)
    if src != dst and transition_between(src, dst) is None
]


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=lambda v: str(v))
def test_every_illegal_transition_is_refused_and_changes_nothing(make_order, staff, source, target) -> None:
    order = _force_status(make_order(), source)
    log_count = OperationLog.objects.filter(order=order).count()
    with pytest.raises(InvalidTransition) as exc:
        order_transition(order_id=order.pk, to=target, actor=staff[Role.ADMIN], reason="x")
    assert str(S(source).label) in exc.value.message
    assert str(S(target).label) in exc.value.message
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.version) == (order.status, order.version)
    assert OperationLog.objects.filter(order=order).count() == log_count


def test_unknown_target_state_is_a_validation_error(make_order, staff) -> None:
    order = make_order()
    with pytest.raises(ValidationFailed) as exc:
        order_transition(order_id=order.pk, to="teleported", actor=staff[Role.ADMIN])
    assert exc.value.field == "to"


def test_backward_move_without_reason_is_refused(make_order, staff) -> None:
    order = _force_status(make_order(), S.ALLOCATING)
    with pytest.raises(ValidationFailed) as exc:
        order_transition(order_id=order.pk, to=S.PENDING_REVIEW, actor=staff[Role.WAREHOUSE], reason="  ")
    assert "原因" in exc.value.message
    assert Order.objects.get(pk=order.pk).status == S.ALLOCATING


# --- roles ------------------------------------------------------------------------------------

ROLE_CASES = [
    # (role, source, target, allowed)
    (Role.CUSTOMER_SERVICE, S.PENDING_REVIEW, S.SPLIT, True),
    (Role.SALES, S.PENDING_REVIEW, S.SPLIT, False),
    (Role.WAREHOUSE, S.PENDING_REVIEW, S.SPLIT, False),
    (Role.FINANCE, S.PENDING_REVIEW, S.SPLIT, False),
    (Role.WAREHOUSE, S.SPLIT, S.ALLOCATING, True),
    (Role.LOGISTICS, S.SPLIT, S.ALLOCATING, False),
    (Role.WAREHOUSE, S.ALLOCATING, S.LABEL_PRINTED, True),
    (Role.CUSTOMER_SERVICE, S.ALLOCATING, S.LABEL_PRINTED, False),
    (Role.WAREHOUSE, S.LABEL_PRINTED, S.SHIPPED, True),
    (Role.LOGISTICS, S.LABEL_PRINTED, S.SHIPPED, False),
    (Role.LOGISTICS, S.SHIPPED, S.EXCEPTION, True),
    (Role.WAREHOUSE, S.SHIPPED, S.EXCEPTION, False),
    (Role.LOGISTICS, S.SHIPPED, S.COMPLETED, True),
    (Role.SALES, S.SHIPPED, S.COMPLETED, False),
    (Role.SALES, S.PENDING_REVIEW, S.CANCELLED, True),
    (Role.WAREHOUSE, S.PENDING_REVIEW, S.CANCELLED, False),
    (Role.MANAGER, S.LABEL_PRINTED, S.ALLOCATING, True),
    (Role.FINANCE, S.LABEL_PRINTED, S.ALLOCATING, False),
]


@pytest.mark.parametrize(("role", "source", "target", "allowed"), ROLE_CASES)
def test_role_permissions_per_transition(make_order, staff, role, source, target, allowed) -> None:
    order = _force_status(make_order(), source)
    actor = staff[role]
    if allowed:
        moved = order_transition(order_id=order.pk, to=target, actor=actor, reason="原因")
        assert moved.status == target
    else:
        with pytest.raises(PermissionDenied) as exc:
            order_transition(order_id=order.pk, to=target, actor=actor, reason="原因")
        assert "角色" in exc.value.message
        assert Order.objects.get(pk=order.pk).status == source
