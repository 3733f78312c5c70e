"""The REST API root: one NinjaAPI, token or session authentication, one error shape."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError, ValidationErrorContext
from ninja.openapi.schema import OpenAPISchema
from pydantic import BaseModel

from orderhub.accounts.auth import BearerTokenAuth, StaffSessionAuth
from orderhub.core.errors import AppError
from orderhub.core.schemas import ERROR_DESCRIPTIONS
from orderhub.orders.api import router as orders_router

logger = logging.getLogger("orderhub.api")


class OrderHubAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        """Say what each documented error status means, instead of its bare reason phrase."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if int(status) in ERROR_DESCRIPTIONS:
                        response["description"] = ERROR_DESCRIPTIONS[int(status)]
        return schema

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> ValidationError:
        """Also name each error's field as the client wrote it: `lines.0.quantity`, `limit`."""
        error = super().validation_error_from_error_contexts(error_contexts)
        fields = [
            _client_field(context.model, err["loc"])
            for context in error_contexts
            for err in context.pydantic_validation_error.errors(include_url=False)
        ]
        for err, field in zip(error.errors, fields, strict=False):
            err["field"] = field
        return error


def _client_field(model: type[BaseModel], loc: tuple[int | str, ...]) -> str | None:
    parts = list(loc)
    if len(parts) > 1:
        # A schema-typed argument ("payload", "query") wraps the fields the client actually sent.
        info = model.model_fields.get(str(parts[0]))
        annotation = info.annotation if info else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            parts = parts[1:]
    return ".".join(str(p) for p in parts) or None


api = OrderHubAPI(
    title="OrderHub API",
    version="1.0",
    description=(
        "订单中枢 REST API. Authenticate with `Authorization: Bearer <token>` (create one with "
        "`orderhub token`) or, from the staff pages, with the session and its CSRF token. "
        'Every error is `{"code", "message", "field"}`.'
    ),
    urls_namespace="api",
    auth=[BearerTokenAuth(), StaffSessionAuth()],
)
api.add_router("/", orders_router)
api.add_router("/ingest/", "orderhub.ingest.api.router")
api.add_router("/", "orderhub.drafts.api.router")
api.add_router("/", "orderhub.fulfilment.api.router")


def error_response(
    request: HttpRequest,
    status: int,
    *,
    code: str,
    message: str,
    field: str | None = None,
    details: dict[str, Any] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {"code": code, "message": message, "field": field}
    if details:
        body["details"] = details
    return api.create_response(request, body, status=status)


@api.exception_handler(AppError)
def _app_error(request: HttpRequest, exc: AppError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": e.get("field"), "message": str(e.get("msg", "")), "type": e.get("type")} for e in exc.errors
    ]
    first = errors[0] if errors else {"field": None, "message": ""}
    message = _("输入无效")
    if first["field"]:
        message += f"：{first['field']}：{first['message']}"
    elif first["message"]:
        message += f"：{first['message']}"
    return error_response(
        request,
        422,
        code="validation_error",
        message=message,
        field=first["field"],
        details={"errors": errors},
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(
        request,
        401,
        code="unauthenticated",
        message=_("未登录或令牌无效：请使用 Authorization: Bearer <令牌>"),
    )
    response["WWW-Authenticate"] = 'Bearer realm="orderhub"'
    return response


_HTTP_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "throttled",
}


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = _HTTP_CODES.get(exc.status_code, "error")
    return error_response(request, exc.status_code, code=code, message=str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, code="not_found", message=_("资源不存在"))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A bug, not a refusal: log it with its traceback, answer in the API's shape.
    logger.exception("unhandled error in %s %s", request.method, request.path)
    return error_response(
        request, 500, code="internal_error", message=_("服务器内部错误，已记录，请稍后重试")
    )


def api_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any /api/ URL that no operation matches: a JSON 404 rather than the HTML page."""
    return error_response(request, 404, code="not_found", message=_("没有这个 API 地址"))
