"""One application error type, mapped once to HTTP responses and form errors."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A business rule refused an action. `code` is stable; `message` is for people."""

    status = 400
    code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        self.field = field
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(AppError):
    status = 404
    code = "not_found"


class PermissionDenied(AppError):
    status = 403
    code = "forbidden"


class Conflict(AppError):
    status = 409
    code = "conflict"


class InvalidTransition(AppError):
    status = 422
    code = "invalid_transition"


class ValidationFailed(AppError):
    status = 422
    code = "validation_error"
