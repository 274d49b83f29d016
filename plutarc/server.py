"""Serve an ASGI app with uvicorn inside a larger asyncio program that owns the signals."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT/SIGTERM to the program that runs it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(app: object, host: str, port: int, log_level: str = "warning",
                forwarded_allow_ips: str | None = None) -> EmbeddedServer:
    """`forwarded_allow_ips`: addresses whose X-Forwarded-For is believed (trusted proxies,
    e.g. the dashboard); uvicorn's default (env FORWARDED_ALLOW_IPS, else 127.0.0.1) if None."""
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on",
                            proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips)
    return EmbeddedServer(config)
