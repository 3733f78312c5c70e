"""The client's address behind a trusted reverse proxy, and never from a forged header."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from orderhub.core.middleware import ProxyClientAddressMiddleware, client_address, trusted_networks

PROXIES = trusted_networks("127.0.0.1, 10.0.0.0/8")


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),  # nginx on the same machine
        ("10.1.2.3", "203.0.113.7, 10.9.9.9", "203.0.113.7"),  # two of our proxies
        ("127.0.0.1", "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client's own claim is skipped
        ("198.51.100.4", "203.0.113.7", "198.51.100.4"),  # not our proxy: its header is ignored
        ("127.0.0.1", "not-an-ip", "127.0.0.1"),  # a garbled chain: keep the proxy
        ("127.0.0.1", "10.0.0.5", "127.0.0.1"),  # only proxies in the chain
        ("127.0.0.1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy(remote, forwarded, client) -> None:
    assert client_address(remote, forwarded, PROXIES) == client


def test_a_bad_setting_names_the_entry() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        trusted_networks("127.0.0.1,10.0.0.300")


def _seen(settings, remote: str, forwarded: str) -> str:
    seen = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen["addr"] = request.META["REMOTE_ADDR"]
        return HttpResponse()

    ProxyClientAddressMiddleware(view)(
        RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    )
    return seen["addr"]


def test_the_middleware_rewrites_only_behind_a_configured_proxy(settings) -> None:
    settings.ORDERHUB_TRUSTED_PROXIES = ""
    assert _seen(settings, "127.0.0.1", "203.0.113.7") == "127.0.0.1"
    settings.ORDERHUB_TRUSTED_PROXIES = "127.0.0.1"
    assert _seen(settings, "127.0.0.1", "203.0.113.7") == "203.0.113.7"
    assert _seen(settings, "198.51.100.4", "203.0.113.7") == "198.51.100.4"


def test_portal_limits_count_each_customer_behind_the_proxy(settings, db) -> None:
    """Behind one nginx, a customer who hits the per-address limit does not lock out the next."""
    from django.test import Client

    settings.ORDERHUB_TRUSTED_PROXIES = "127.0.0.1"
    nginx = Client(REMOTE_ADDR="127.0.0.1")

    def ask(customer: str, n: int) -> int:
        body = {"phone": f"1390000{n:04d}"}
        return nginx.post("/track/code", body, HTTP_X_FORWARDED_FOR=customer).status_code

    assert [ask("203.0.113.7", n) for n in range(11)] == [200] * 10 + [429]
    assert ask("203.0.113.8", 99) == 200
    # A client that reaches the server directly cannot borrow someone else's address.
    direct = Client(REMOTE_ADDR="198.51.100.4")
    assert (
        direct.post("/track/code", {"phone": "13900005555"}, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code
        == 200
    )
