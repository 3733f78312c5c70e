"""The client's address behind a reverse proxy.

Rate limits (the customer portal, log-in lock-outs) count per client address. Behind nginx or a
load balancer every request arrives from the proxy, so all customers would share one counter.
With `ORDERHUB_TRUSTED_PROXIES` (addresses or networks of our own proxies) this middleware
replaces REMOTE_ADDR by the client address those proxies recorded in X-Forwarded-For: the
right-most address that is not one of them. A request that does not come from a trusted proxy
keeps its own address whatever it claims, so the header cannot be forged from outside.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(spec: str) -> list[Network]:
    """'10.0.0.0/8, 127.0.0.1' → networks; a bad entry raises ValueError naming it."""
    networks = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"ORDERHUB_TRUSTED_PROXIES: not an address or network: {item!r}") from None
    return networks


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(remote: str, forwarded_for: str, trusted: list[Network]) -> str:
    """The client's address: `remote` unless it is a trusted proxy that says who it forwarded."""
    peer = _address(remote)
    if peer is None or not any(peer in net for net in trusted):
        return remote
    for hop in reversed(forwarded_for.split(",")):
        addr = _address(hop)
        if addr is None:
            return remote  # a garbled chain: trust nothing in it
        if not any(addr in net for net in trusted):
            return str(addr)
    return remote


class ProxyClientAddressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = trusted_networks(getattr(settings, "ORDERHUB_TRUSTED_PROXIES", ""))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if self.trusted and forwarded:
            request.META["REMOTE_ADDR"] = client_address(
                request.META.get("REMOTE_ADDR", ""), forwarded, self.trusted
            )
        return self.get_response(request)
