"""Which address a request comes from: the socket's peer, unless that peer is a configured
proxy (PLUTARC_TRUSTED_PROXIES: addresses or networks, comma-separated; none by default).

Only then is `X-Forwarded-For` read, right to left, skipping trusted proxies: the first
address that is not one of them is the client (earlier entries were written by the client
and prove nothing). When PLUTARC_PROXY_SECRET is set, a trusted proxy must also send it in
`X-Plutarc-Proxy`: loopback is shared by every local process, so on one machine the address
alone cannot tell the dashboard from any other local caller. `plutarc up` trusts loopback
with a secret it generates and hands to its dashboard.

An ASGI middleware rewriting `scope["client"]`, so every layer (HTTP calls, the sync socket,
SSE, login limits) sees the same address.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PROXY_HEADER = b"x-plutarc-proxy"


@dataclass(frozen=True)
class ProxyConfig:
    """The proxies whose forwarded headers are believed, and the secret they must show."""

    networks: tuple[Network, ...] = ()
    secret: str | None = None

    @classmethod
    def from_env(cls) -> ProxyConfig:
        raw = os.environ.get("PLUTARC_TRUSTED_PROXIES", "")
        return cls(parse_networks(raw.split(",")), os.environ.get("PLUTARC_PROXY_SECRET") or None)

    def trusts(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in net for net in self.networks)


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    """`127.0.0.1, 10.0.0.0/8` → networks; a bad entry is a startup error naming it."""
    networks = []
    for item in (i.strip() for i in items):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"PLUTARC_TRUSTED_PROXIES: {item!r} is not an address") from None
    return tuple(networks)


def forwarded_client(config: ProxyConfig, peer: str, headers: list[tuple[bytes, bytes]]) -> str:
    """The client's address for a request from `peer` with these headers."""
    if not config.trusts(peer):
        return peer
    values = dict(headers)
    if config.secret is not None and not hmac.compare_digest(
        values.get(PROXY_HEADER, b""), config.secret.encode()
    ):
        return peer
    chain = [h.decode("latin-1") for n, h in headers if n == b"x-forwarded-for"]
    hops = [hop.strip() for line in chain for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not config.trusts(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage where an address should be: believe only the socket
    return peer


class ProxyHeadersMiddleware:
    """Sets `scope["client"]` to the forwarded client for requests from trusted proxies."""

    def __init__(self, app: Any, config: ProxyConfig | None = None) -> None:
        self.app = app
        self.config = config or ProxyConfig.from_env()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client") and self.config.networks:
            peer, _port = scope["client"]
            client = forwarded_client(self.config, peer, scope.get("headers", []))
            if client != peer:
                scope = {**scope, "client": (client, 0)}
        await self.app(scope, receive, send)
