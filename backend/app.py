"""The Starlette application: routes, and the lifespan that opens the pool, the runtime and
the reactive engine (one LISTEN connection per process).

An app serves exactly the functions it is given (`functions=`, by default everything in
the `backend.functions` package); nothing is shared between apps of one process.
Extra background services (e.g. the scheduler) are started through `services`: async
context managers entered with the app state after the engine starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from backend.billing.webhook import stripe_webhook
from backend.db.pool import create_pool
from backend.http.calls import handle_call
from backend.http.health import health
from backend.http.openapi import openapi
from backend.http.operator import stats
from backend.http.proxies import ProxyHeadersMiddleware
from backend.logs import install_redaction
from backend.reactive.engine import Engine
from backend.reactive.sse import sse_endpoint
from backend.reactive.sync import sync_endpoint
from backend.runtime.registry import FunctionDef, discover
from backend.runtime.runner import Runtime

Service = Callable[[Any], AbstractAsyncContextManager[Any]]


def create_app(
    dsn: str, *, functions: Mapping[str, FunctionDef] | None = None, targeted: bool = True,
    services: list[Service] | None = None, reactive: dict[str, Any] | None = None,
) -> Starlette:
    """The API for the database at `dsn` (already migrated), serving `functions`; `reactive`
    tunes the engine (lanes, rerun_timeout, budget, wave, parallel_from: see
    backend/reactive/engine.py)."""
    install_redaction()
    served = discover() if functions is None else functions

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        install_redaction()  # again: the server has configured its log handlers by now
        pool = await create_pool(dsn)
        runtime = app.state.runtime = Runtime(pool, served)
        engine = app.state.engine = Engine(runtime, dsn, targeted=targeted, **(reactive or {}))
        await engine.start()
        try:
            async with contextlib.AsyncExitStack() as stack:
                for service in services or []:
                    await stack.enter_async_context(service(app.state))
                yield
        finally:
            await engine.stop()
            await pool.close()

    routes = [
        Route("/api/health", health, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
        Route("/api/stats", stats, methods=["GET"]),
        Route("/api/sse", sse_endpoint, methods=["GET"]),
        WebSocketRoute("/api/sync", sync_endpoint),
        Route("/api/stripe/webhook", stripe_webhook, methods=["POST"]),
        Route("/api/{kind}", handle_call, methods=["POST"]),
        Route("/api/{kind}/{fn_path}", handle_call, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan,
                     middleware=[Middleware(ProxyHeadersMiddleware)])
