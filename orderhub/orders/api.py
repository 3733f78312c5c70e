"""Orders REST API: parse → call a service or selector → shape the response. No rules here."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from ninja import Header, Path, Query, Router, Status

from orderhub.accounts.models import User
from orderhub.core.schemas import error_responses
from orderhub.orders.schemas import (
    BulkTransitionIn,
    BulkTransitionOut,
    OrderIn,
    OrderListQuery,
    OrderOut,
    OrderPageOut,
    TimelineOut,
    TransitionIn,
    bulk_transition_out,
    order_out,
    order_page_out,
    timeline_out,
)
from orderhub.orders.selectors import order_get, order_list, order_timeline
from orderhub.orders.services import order_create_idempotent, order_transition, order_transition_many
from orderhub.orders.services.idempotency import IDEMPOTENCY_KEY_MAX_LENGTH

router = Router(tags=["orders"])

MAX_ID = 2**63 - 1  # the largest primary key the databases store


def _actor(request: HttpRequest) -> User:
    # Both authentication classes return the acting User.
    return cast(User, request.auth)  # type: ignore[attr-defined]


@router.post(
    "/orders",
    response={200: OrderOut, 201: OrderOut, **error_responses(400, 401, 403, 404, 422)},
    summary="Create an order (idempotent)",
    operation_id="order_create",
)
def create_order(
    request: HttpRequest,
    payload: OrderIn,
    idempotency_key: str | None = Header(
        None,
        alias="Idempotency-Key",
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH,
        description="Repeat the request with the same key to get the same order back (200).",
    ),
) -> Status[OrderOut]:
    """201 with the new order; 200 with the existing one when the same `Idempotency-Key` or the
    same channel + channel order number was seen before. An unknown channel, customer or owner
    is 404; reusing a key for a different body is 422 `idempotency_key_reused`."""
    actor = _actor(request)
    order, created = order_create_idempotent(
        draft=payload.to_draft(), actor=actor, idempotency_key=idempotency_key or None
    )
    return Status(201 if created else 200, order_out(order, actor=actor))


@router.get(
    "/orders",
    response={200: OrderPageOut, **error_responses(401, 422)},
    summary="List orders, newest first (keyset pagination)",
    operation_id="order_list",
)
def list_orders(request: HttpRequest, query: Query[OrderListQuery]) -> OrderPageOut:
    page = order_list(
        actor=_actor(request), filters=query.to_filters(), cursor=query.cursor, limit=query.limit
    )
    return order_page_out(page)


# Before "/orders/{id}": the resolver takes the first pattern that matches the path.
@router.post(
    "/orders/transitions",
    response={200: BulkTransitionOut, **error_responses(400, 401, 422)},
    summary="Move many orders to one state (a bulk action, a wave)",
    operation_id="order_transition_many",
)
def transition_orders(request: HttpRequest, payload: BulkTransitionIn) -> BulkTransitionOut:
    """Each listed order moves, or is refused with the error its own transition would get (a
    stale version, a hold, a role, a move the table does not allow, an order outside your
    scope); one refusal never holds back the others. Up to 200 orders, in one transaction."""
    batch = order_transition_many(
        order_ids=[item.id for item in payload.orders],
        to=payload.to.value,
        actor=_actor(request),
        expected_versions={item.id: item.expected_version for item in payload.orders},
        reason=payload.reason,
    )
    return bulk_transition_out(batch)


@router.get(
    "/orders/{id}",
    response={200: OrderOut, **error_responses(401, 404, 422)},
    summary="One order with lines, holds and the moves you may make",
    operation_id="order_get",
)
def get_order(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)) -> OrderOut:
    actor = _actor(request)
    return order_out(order_get(actor=actor, order_id=id), actor=actor)


@router.post(
    "/orders/{id}/transitions",
    response={200: OrderOut, **error_responses(400, 401, 403, 404, 409, 422)},
    summary="Move an order to another state",
    operation_id="order_transition",
)
def transition_order(
    request: HttpRequest,
    payload: TransitionIn,
    id: int = Path(..., ge=1, le=MAX_ID),
) -> OrderOut:
    """409 `version_conflict` on a stale `expected_version`, 403 outside your role, 422
    `invalid_transition` for a move the state table does not allow from the current state."""
    actor = _actor(request)
    order_transition(
        order_id=id,
        to=payload.to.value,
        actor=actor,
        expected_version=payload.expected_version,
        reason=payload.reason,
    )
    return order_out(order_get(actor=actor, order_id=id), actor=actor)


@router.get(
    "/orders/{id}/timeline",
    response={200: TimelineOut, **error_responses(401, 404, 422)},
    summary="Everything that happened to an order, oldest first",
    operation_id="order_timeline",
)
def get_timeline(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)) -> TimelineOut:
    order, events = order_timeline(actor=_actor(request), order_id=id, plain=True)
    return timeline_out(order, events)
