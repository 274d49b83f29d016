"""`GET /api/openapi.json`: an OpenAPI 3.1 document listing every public function of the
app with its argument schema and its result schema (as `POST /api/{kind}/{module:name}`
operations). All schemas are generated together, so two types of the same name in
different modules get distinct component names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse

from backend.runtime.registry import FunctionDef

REF = "#/components/schemas/{model}"

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
        "409": "conflict after retries", "413": "body too large", "429": "rate limited",
        "500": "unexpected error (with a request id)",
        "503": "an exchange could not be reached",
    }
    return {code: {"description": text, **ref} for code, text in described.items()}


def _operation(fdef: FunctionDef, schema: dict[str, Any], result: dict[str, Any]
               ) -> dict[str, Any]:
    value_schema: dict[str, Any] = {"value": result}
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


def build_openapi(functions: Mapping[str, FunctionDef]) -> dict[str, Any]:
    public = [fdef for _, fdef in sorted(functions.items()) if not fdef.internal]
    inputs = [item for fdef in public for item in (
        ((fdef.path, "args"), "validation", TypeAdapter(fdef.args.model)),
        ((fdef.path, "result"), "serialization", fdef.returns.adapter))]
    generated, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF)
    schemas: dict[str, Any] = {**definitions.get("$defs", {}),
                               "Error": ERROR_SCHEMA, "Call": CALL_SCHEMA}
    paths: dict[str, Any] = {}
    for fdef in public:
        args = generated[((fdef.path, "args"), "validation")]
        if "$ref" in args:  # inline the argument object: it is used by this operation only
            args = schemas.pop(args["$ref"].rsplit("/", 1)[-1])
        paths[f"/api/{fdef.kind}/{fdef.path}"] = {"post": _operation(
            fdef, args, generated[((fdef.path, "result"), "serialization")])}
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
    return JSONResponse(build_openapi(request.app.state.runtime.functions))
