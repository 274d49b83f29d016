"""One-shot calls over HTTP: `POST /api/{query|mutation|action}` with `{"path", "args"}`, and
`POST /api/{kind}/{module:name}` whose body is the arguments (the OpenAPI document's form).

Answers `{"value": ...}` (queries and mutations add `"version"`), or `{"error": {code,
message, field}}` with 400/401/403/404/408/409/413/429, and 500 with a request id (the
traceback goes to the log only). The credential is resolved from the header before the body
is read, and the body is read within the limits of backend.limits (smaller for anonymous
callers).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from backend.auth.tokens import bearer_token, resolve
from backend.http.body import read_json
from backend.limits import get_limits
from backend.runtime.errors import ApiError, BadRequest
from backend.runtime.jsonvalue import dumps
from backend.runtime.runner import CallMeta, Runtime

log = logging.getLogger("plutarc.api")
KINDS = ("query", "mutation", "action")


def json_response(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


def error_response(exc: ApiError) -> Response:
    return json_response({"error": exc.to_json()}, exc.status)


def internal_error(request_id: str) -> Response:
    body = {"code": "internal", "message": f"internal error (request id {request_id})",
            "field": None, "request_id": request_id}
    return json_response({"error": body}, 500)


async def handle_call(request: Request) -> Response:
    """Both URL forms: the kind from the URL, the path from the URL or the body."""
    request_id = uuid.uuid4().hex[:16]
    kind = request.path_params["kind"]
    runtime: Runtime = request.app.state.runtime
    try:
        if kind not in KINDS:
            raise BadRequest(f"unknown kind {kind!r}; use query, mutation or action", "kind")
        auth = await resolve(runtime.pool, bearer_token(request.headers.get("authorization")))
        limits = get_limits()
        limit = limits.body_bytes if auth.kind != "anonymous" else limits.anonymous_body_bytes
        body = await read_json(request, limit, limits.body_timeout_s, limits.json_depth)
        if "fn_path" in request.path_params:
            path, args = request.path_params["fn_path"], body
        else:
            if not isinstance(body, dict):
                raise BadRequest("body must be a JSON object", field="body")
            path, args = body.get("path"), body.get("args", {})
        client = request.client.host if request.client else ""
        outcome = await runtime.call(kind, path, args, auth, CallMeta(request_id, client))
    except ApiError as exc:
        return error_response(exc)
    except Exception:
        log.exception("request %s failed: %s %s", request_id, kind, request.url.path)
        return internal_error(request_id)
    answer: dict[str, Any] = {"value": outcome.value}
    if kind != "action":  # a query's snapshot, a mutation's transaction id
        answer["version"] = outcome.version
    try:
        return json_response(answer)
    except (TypeError, ValueError):
        log.exception("request %s: result of %s is not JSON", request_id, path)
        return internal_error(request_id)
