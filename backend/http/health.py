"""`GET /api/health`: is the database reachable, and which server version is it."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse


async def health(request: Request) -> JSONResponse:
    pool = request.app.state.runtime.pool
    try:
        async with asyncio.timeout(3):
            version = await pool.fetchval("SHOW server_version")
    except Exception as exc:  # any failure means "not healthy"; say which
        return JSONResponse(
            {"status": "error", "database": {"ok": False, "error": type(exc).__name__}}, 503
        )
    return JSONResponse({"status": "ok", "database": {"ok": True, "server_version": version}})
