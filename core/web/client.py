"""Who is on the other end: the client's address, through the proxies the city trusts."""

from __future__ import annotations

import functools
import ipaddress

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(request: web.Request, trusted: tuple[str, ...]) -> str:
    """The address of the client, as a throttle keys it.

    The peer, unless the peer is a trusted proxy (nginx on the same host, by default): then
    the nearest address in X-Forwarded-For that is not a trusted proxy. Addresses a client
    wrote further left are not believed, since anyone can send that header.
    """
    peer = request.remote or "-"
    networks = _networks(trusted)

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in net for net in networks)

    if not is_trusted(_address(peer)):
        return peer
    hops = [h for value in request.headers.getall("X-Forwarded-For", []) for h in value.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return peer  # a garbled header: the proxy is the client we know
        if not is_trusted(address):
            return str(address)
    return peer
