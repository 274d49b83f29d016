"""Server-Sent Events: `GET /api/sse?path=module:name&args=<json>` streams one query.

The token comes from the `Authorization: Bearer` header, or from a `token` query parameter
for browsers' EventSource (masked in every log by backend.logs). Events are named
`transition` and carry the same JSON as a WebSocket transition with the single
subscription id "0". A bad path, bad args, or a query that fails at once (e.g. another
user's data) answer an HTTP error instead of a stream. When the token is revoked (logout) or
expires, the stream sends an `error` event and ends. A stream counts against its user's
subscription limit, and one whose client stops reading is closed after the SSE send timeout
(backend.limits).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response

from backend.auth.tokens import bearer_token, resolve
from backend.http.calls import error_response
from backend.limits import get_limits
from backend.reactive.bounds import check_subscription_room
from backend.reactive.session import ClientSession
from backend.runtime import jsonin
from backend.runtime.errors import ApiError, Unauthorized
from backend.runtime.jsonvalue import dumps

SUB_ID = "0"
ERROR_STATUS = {"bad_request": 400, "unauthorized": 401, "forbidden": 403, "not_found": 404}


async def _ignore(text: str) -> None:
    """SSE sessions are read by their generator, not pushed to."""


async def sse_endpoint(request: Request) -> Response:
    engine, runtime = request.app.state.engine, request.app.state.runtime
    limits = get_limits()
    try:
        token = bearer_token(request.headers.get("authorization")) or request.query_params.get("token")
        auth = await resolve(runtime.pool, token)
        args = jsonin.parse(request.query_params.get("args") or "{}", limits.json_depth,
                            "args", "args")
        session = ClientSession(_ignore, auth)
        check_subscription_room(engine, session, SUB_ID, limits)
        engine.attach(session)
        try:
            engine.subscribe(session, SUB_ID, request.query_params.get("path", ""), args)
        except ApiError:
            engine.detach(session)
            raise
    except ApiError as exc:
        return error_response(exc)
    first = await _next_transition(session)
    if first is None:
        engine.detach(session)
        return error_response(Unauthorized("signed out or token revoked"))
    failure = first["changes"][0].get("error") if first["changes"] else None
    if failure:
        engine.detach(session)
        return Response(dumps({"error": failure}), ERROR_STATUS.get(failure["code"], 500),
                        media_type="application/json")

    async def events() -> AsyncIterator[dict[str, str]]:
        try:
            message: dict[str, Any] | None = first
            while message is not None:
                yield {"event": "transition", "data": dumps(message)}
                message = await _next_transition(session)
            yield {"event": "error", "data": dumps({"code": "unauthorized",
                                                    "message": "signed out or token revoked",
                                                    "field": None})}
        finally:
            engine.detach(session)

    return EventSourceResponse(events(), ping=15, send_timeout=limits.sse_send_timeout_s)


async def _next_transition(session: ClientSession) -> dict[str, Any] | None:
    """The next transition, or None once the session's credential is revoked."""
    while True:
        await session.wake.wait()
        session.wake.clear()
        if session.revoked:
            return None
        message = session.take_transition()
        if message is not None:
            return message
        await asyncio.sleep(0)
