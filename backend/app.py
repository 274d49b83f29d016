"""The Starlette application: routes, and the lifespan that opens the pool and the runtime.

Plug-ins (the reactive engine, monitors) are started by the lifespan through `app.state`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route

from backend.db.pool import create_pool
from backend.http.calls import handle_call
from backend.http.health import health
from backend.http.openapi import openapi
from backend.logs import install_redaction
from backend.runtime.registry import load_functions
from backend.runtime.runner import Runtime


def create_app(dsn: str) -> Starlette:
    """The API for the database at `dsn` (already migrated)."""
    install_redaction()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        install_redaction()  # again: the server has configured its log handlers by now
        pool = await create_pool(dsn)
        app.state.runtime = Runtime(pool, load_functions())
        try:
            yield
        finally:
            await pool.close()

    routes = [
        Route("/api/health", health, methods=["GET"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
        Route("/api/{kind}", handle_call, methods=["POST"]),
        Route("/api/{kind}/{fn_path}", handle_call, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
