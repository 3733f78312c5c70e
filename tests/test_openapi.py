"""The OpenAPI document tells the truth: schemathesis calls every operation and checks each answer.

Also: the document and the Swagger UI page are served, and the page's assets come from OrderHub
itself (no CDN: our users' intranets are offline).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.accounts.services import api_token_create
from orderhub.api import api
from orderhub.ingest.models import ImportBatch
from orderhub.orders.models import HoldReason, Order
from orderhub.orders.services import order_hold, order_transition
from tests.fulfilment.factories import labelled_wave
from tests.orders.api.helpers import order_body

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Read from the API itself, so that a new operation is fuzzed without anyone listing it here.
OPERATIONS = sorted(
    (method.upper(), path) for path, item in api.get_openapi_schema()["paths"].items() for method in item
)
MAX_EXAMPLES = 40


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """OrderHub's real WSGI application, kept inside the test's transaction.

    Django closes the connection when a request ends; inside a test transaction that would abort
    it, so (as Django's own test client does) that signal is held back for the test's duration.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def orders_in_every_shape(staff: dict[str, User], make_order: Callable[..., Order]) -> list[Order]:
    """A held order, a plain one, one further on, one cancelled: responses of every shape."""
    cs = staff[Role.CUSTOMER_SERVICE]
    held, plain, moved, cancelled = (make_order() for _ in range(4))
    order_hold(order_id=held.pk, reason=HoldReason.MANUAL, actor=cs, detail="核对地址")
    order_transition(order_id=moved.pk, to="split", actor=cs, expected_version=1)
    order_transition(order_id=cancelled.pk, to="cancelled", actor=cs, expected_version=1, reason="客户取消")
    return [held, plain, moved, cancelled]


@pytest.fixture
def manager_token(staff: dict[str, User]) -> str:
    return api_token_create(user=staff[Role.MANAGER], name="schemathesis")[1]


@pytest.fixture
def api_schema(wsgi_app: WSGIHandler) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)


@pytest.fixture
def real_ids(
    orders_in_every_shape: list[Order], staff: dict[str, User], make_order: Callable[..., Order]
) -> dict[str, int | str]:
    """Path parameters that name real objects, so that 200 answers get checked, not only 404s.

    The order is one with a label printed and in a wave, so that its label and the wave's PDFs exist.
    """
    batch = ImportBatch.objects.create(filename="拼多多-订单导出.csv", total_rows=3, processed_rows=3)
    labelled = labelled_wave(order=make_order(), actor=staff[Role.MANAGER])
    return {
        "id": labelled.order.pk,
        "batch_id": batch.pk,
        "wave_id": labelled.wave.pk,
        "sku": labelled.sku.code,
        "rule": "remark_keywords",
    }


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_answer_matches_the_openapi_document(
    api_schema: schemathesis.BaseSchema,
    real_ids: dict[str, int | str],
    manager_token: str,
    method: str,
    path: str,
) -> None:
    operation = api_schema[path][method]
    # Valid requests and invalid ones alike: neither may get a 5xx or an undocumented answer.
    cases = st.one_of([operation.as_strategy(generation_mode=mode) for mode in GenerationMode])
    auth = {"Authorization": f"Bearer {manager_token}"}
    statuses: set[int] = set()

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def answer_matches(case: schemathesis.Case) -> None:
        statuses.add(case.call_and_validate(headers=auth, checks=CHECKS).status_code)

    answer_matches()
    # Not a vacuous run: the token worked, and a read of a real object answers 200 per the schema.
    assert 401 not in statuses
    if method == "GET":
        names = re.findall(r"{(\w+)}", path)
        case = operation.Case(path_parameters={name: real_ids[name] for name in names})
        assert case.call_and_validate(headers=auth, checks=CHECKS).status_code == 200


# --- known requests, one per documented status ----------------------------------------------------


def _cases(loaded: schemathesis.BaseSchema, order: Order) -> list[tuple[int, schemathesis.Case]]:
    create = loaded["/api/orders"]["POST"]
    detail = loaded["/api/orders/{id}"]["GET"]
    move = loaded["/api/orders/{id}/transitions"]["POST"]
    return [
        (201, create.Case(body=order_body(), headers={"Idempotency-Key": "k-1"})),
        (200, create.Case(body=order_body(), headers={"Idempotency-Key": "k-1"})),
        (422, create.Case(body=order_body(remark="changed"), headers={"Idempotency-Key": "k-1"})),
        (404, create.Case(body=order_body(channel="jd"))),
        (200, loaded["/api/orders"]["GET"].Case(query={"status": ["pending_review"], "limit": 2})),
        (422, loaded["/api/orders"]["GET"].Case(query={"cursor": "garbage"})),
        (200, detail.Case(path_parameters={"id": order.pk})),
        (404, detail.Case(path_parameters={"id": 10**12})),
        (200, loaded["/api/orders/{id}/timeline"]["GET"].Case(path_parameters={"id": order.pk})),
        (200, move.Case(path_parameters={"id": order.pk}, body={"to": "split", "expected_version": 1})),
        (409, move.Case(path_parameters={"id": order.pk}, body={"to": "allocating", "expected_version": 1})),
        (422, move.Case(path_parameters={"id": order.pk}, body={"to": "shipped", "expected_version": 2})),
    ]


def test_documented_statuses_are_answered_as_documented(
    api_schema: schemathesis.BaseSchema,
    orders_in_every_shape: list[Order],
    manager_token: str,
    staff: dict[str, User],
) -> None:
    order = orders_in_every_shape[1]
    auth = {"Authorization": f"Bearer {manager_token}"}

    for status, case in _cases(api_schema, order):
        response = case.call_and_validate(headers=auth, checks=CHECKS)
        assert response.status_code == status, (case.path, case.body, response.text)

    # Finance may read but not move orders; nobody may do anything without credentials.
    finance = {"Authorization": f"Bearer {api_token_create(user=staff[Role.FINANCE])[1]}"}
    forbidden = api_schema["/api/orders/{id}/transitions"]["POST"].Case(
        path_parameters={"id": order.pk}, body={"to": "allocating", "expected_version": 2}
    )
    assert forbidden.call_and_validate(headers=finance, checks=CHECKS).status_code == 403
    for path, method in [("/api/orders", "GET"), ("/api/orders", "POST"), ("/api/orders/{id}", "GET")]:
        operation = api_schema[path][method]
        anonymous = operation.Case(path_parameters={"id": order.pk} if "{id}" in path else None)
        if method == "POST":
            anonymous = operation.Case(body=order_body())
        assert anonymous.call_and_validate(checks=CHECKS).status_code == 401


# --- the document and the docs page -----------------------------------------------------------------


def test_the_document_lists_every_operation_with_its_errors(client: Client) -> None:
    document: dict[str, Any] = client.get("/api/openapi.json").json()

    operations = {
        (method.upper(), path): spec
        for path, item in document["paths"].items()
        for method, spec in item.items()
    }
    assert sorted(operations) == OPERATIONS
    assert {
        ("GET", "/api/orders"),
        ("GET", "/api/orders/{id}"),
        ("GET", "/api/orders/{id}/timeline"),
        ("POST", "/api/orders"),
        ("POST", "/api/orders/{id}/transitions"),
    } <= set(operations)
    for spec in operations.values():
        assert {"400", "401", "422"} <= set(spec["responses"])
        assert spec["responses"]["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }
    assert set(operations[("POST", "/api/orders/{id}/transitions")]["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "422",
    }
    assert set(operations[("POST", "/api/orders")]["responses"]) == {
        "200",
        "201",
        "400",
        "401",
        "403",
        "404",
        "422",
    }
    assert document["components"]["schemas"]["ErrorOut"]["required"] == ["code", "message"]
    assert set(document["components"]["securitySchemes"]) == {"BearerTokenAuth", "StaffSessionAuth"}


def test_the_docs_page_works_offline(client: Client) -> None:
    page = client.get("/api/docs")

    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/openapi.json" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for url in assets:
        assert url.startswith("/static/"), f"{url} is not served by OrderHub"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content if asset.streaming else [asset.content])
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets)
