"""The API's one error shape, shared by every router and documented on every operation."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Request body is not valid JSON (bad_request).",
    401: "No valid `Authorization: Bearer <token>` and no logged-in session (unauthenticated).",
    403: "Your role may not do this, or a session request lacks its CSRF token (forbidden).",
    404: "Not found: unknown id or code, or outside your scope (sales see only own orders).",
    409: "Someone changed the order since you read it: re-read and retry (version_conflict).",
    422: "Input is invalid or the move is not allowed from the current state.",
}


class ErrorOut(Schema):
    """Every error response: a stable `code`, a message for people, and the offending field."""

    code: str = Field(examples=["version_conflict"])
    message: str = Field(examples=["订单 OH24121200000001 已被他人修改，请刷新后重试"])
    field: str | None = Field(default=None, examples=["expected_version"])
    details: dict[str, Any] | None = None


# Any operation can answer these: an unparsable body (400), no credentials (401) and invalid
# parameters (422) are decided before the operation runs.
ALWAYS: tuple[int, ...] = (400, 401, 422)


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """`response={...}` entries documenting the errors an operation can answer with."""
    return dict.fromkeys(sorted({*ALWAYS, *statuses}), ErrorOut)
