"""`GET /api/openapi.json`: an OpenAPI 3.1 document listing every public function and its
argument schema (as `POST /api/{kind}/{module:name}` operations)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from backend.runtime.registry import FunctionDef

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
                "request_id": {"type": "string"},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}

CALL_SCHEMA = {
    "type": "object",
    "properties": {"path": {"type": "string", "examples": ["auth:me"]}, "args": {"type": "object"}},
    "required": ["path"],
}


def _errors() -> dict[str, Any]:
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    described = {
        "400": "bad arguments (the field is named)", "401": "not signed in",
        "403": "not allowed", "404": "unknown function", "408": "body sent too slowly",
        "409": "conflict after retries", "413": "body too large", "429": "rate limited", "500": "unexpected error (with a request id)",
    }
    return {code: {"description": text, **ref} for code, text in described.items()}


def _operation(fdef: FunctionDef, schemas: dict[str, Any]) -> dict[str, Any]:
    schema = fdef.args.json_schema()
    schemas.update(schema.pop("$defs", {}))
    value_schema: dict[str, Any] = {"value": {}}
    if fdef.kind == "mutation":
        value_schema["version"] = {"type": "string", "description": "commit xid"}
    return {
        "operationId": fdef.path.replace(":", "_"),
        "summary": fdef.doc.splitlines()[0] if fdef.doc else fdef.path,
        "description": fdef.doc,
        "tags": [fdef.path.split(":")[0]],
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {
            "200": {
                "description": "the function's result",
                "content": {"application/json": {"schema": {
                    "type": "object", "properties": value_schema, "required": ["value"]}}},
            },
            **_errors(),
        },
    }


def build_openapi(registry: dict[str, FunctionDef]) -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA, "Call": CALL_SCHEMA}
    paths: dict[str, Any] = {}
    for path, fdef in sorted(registry.items()):
        if not fdef.internal:
            paths[f"/api/{fdef.kind}/{path}"] = {"post": _operation(fdef, schemas)}
    call_body = {"required": True, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Call"}}}}
    for kind in ("query", "mutation", "action"):
        paths[f"/api/{kind}"] = {"post": {
            "operationId": f"call_{kind}", "summary": f"Call any {kind} by path",
            "requestBody": call_body,
            "responses": {"200": {"description": "the function's result"}, **_errors()},
        }}
    paths["/api/health"] = {"get": {
        "operationId": "health", "summary": "Database status",
        "responses": {"200": {"description": "healthy"}, "503": {"description": "unhealthy"}},
    }}
    return {
        "openapi": "3.1.0",
        "info": {"title": "plutarc API", "version": "0.1.0",
                 "description": "Every backend function of plutarc. Send the token as "
                                "`Authorization: Bearer <token>`."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}, {}],
    }


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(build_openapi(request.app.state.runtime.registry))
