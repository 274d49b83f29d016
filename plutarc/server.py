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


def make_server(app: object, host: str, port: int, log_level: str = "warning") -> EmbeddedServer:
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on")
    return EmbeddedServer(config)
