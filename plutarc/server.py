"""Serve an ASGI app with uvicorn inside a larger asyncio program that owns the signals.

The HTTP protocol adds a deadline for each request head (uvicorn has none: a client that
sends half a request line and stops would hold its socket forever); body and WebSocket
`connect` deadlines are the app's (backend.limits). Forwarded headers are handled by the
app (backend.http.proxies), so uvicorn's own proxy handling, which trusts 127.0.0.1, is off.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from backend.limits import get_limits


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT/SIGTERM to the program that runs it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class DeadlineHttpProtocol(HttpToolsProtocol):
    """HTTP/1.1 where each request head must arrive within `header_timeout_s` of the
    connection opening or of the head's first byte; otherwise the socket is closed."""

    _head_timer: asyncio.TimerHandle | None = None

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_timer = self.loop.call_later(get_limits().header_timeout_s, self._head_late)

    def _disarm_head_deadline(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_head_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)


def make_server(app: object, host: str, port: int, log_level: str = "warning") -> EmbeddedServer:
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, lifespan="on",
        http=DeadlineHttpProtocol, proxy_headers=False, ws_max_size=get_limits().frame_bytes,
    )
    return EmbeddedServer(config)
