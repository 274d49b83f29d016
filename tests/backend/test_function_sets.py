"""Explicit function sets and typed results: an app serves exactly the functions it is
given; every public function's result has a schema in the OpenAPI document; results are
checked against their declared types (the suite runs with the check on)."""

from __future__ import annotations

import logging
import sys
from typing import Any, TypedDict

import httpx
import pytest

from backend.app import create_app
from backend.http.openapi import build_openapi
from backend.runtime import Ctx, Functions, discover, query
from backend.runtime.registry import functions_of
from tests.support.servers import ServerThread


class Greeting(TypedDict):
    text: str
    length: int


@query
async def greet(ctx: Ctx, name: str) -> Greeting:
    """A greeting (test function)."""
    return {"text": f"hello {name}", "length": len(name)}


@query
async def lies(ctx: Ctx) -> Greeting:
    """Returns something else than it declares (test function)."""
    return {"text": "hello", "length": "long", "secret_column": "x"}  # type: ignore[typeddict-item]


def call(url: str, path: str, args: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.post(f"{url}/api/query/{path}", json=args or {}, timeout=10)


def test_two_apps_in_one_process_serve_different_function_sets(db_dsn: str) -> None:
    mine = Functions.from_modules(sys.modules[__name__])
    with ServerThread(create_app(db_dsn, functions=mine)) as small, \
            ServerThread(create_app(db_dsn)) as full:
        assert call(small, "test_function_sets:greet", {"name": "ada"}).json()["value"] == {
            "text": "hello ada", "length": 3}
        assert call(small, "auth:me").status_code == 404
        assert call(full, "test_function_sets:greet", {"name": "ada"}).status_code == 404
        assert call(full, "auth:me").status_code == 401  # served: it wants a session
        small_paths = httpx.get(f"{small}/api/openapi.json", timeout=10).json()["paths"]
        assert "/api/query/test_function_sets:greet" in small_paths
        assert not any("auth:" in p for p in small_paths)


def test_a_result_that_breaks_its_declared_type_is_a_500_naming_the_field(
        db_dsn: str, caplog: pytest.LogCaptureFixture) -> None:
    mine = Functions.from_modules(sys.modules[__name__])
    with ServerThread(create_app(db_dsn, functions=mine)) as url, \
            caplog.at_level(logging.ERROR, logger="plutarc.api"):
        response = call(url, "test_function_sets:lies")
    assert response.status_code == 500
    assert "secret_column" not in response.text
    assert "test_function_sets:lies returned a result that does not match its declared " \
           "type: length" in caplog.text


def test_a_function_without_a_declared_result_type_is_refused_when_the_set_is_built() -> None:
    @query
    async def untyped(ctx: Ctx):  # type: ignore[no-untyped-def]
        return 1

    module = type(sys)("scratch")
    module.untyped = untyped
    untyped.__module__ = "scratch"
    with pytest.raises(TypeError, match="scratch:untyped: declare the result type"):
        functions_of(module)


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _anys(schema: Any, where: str, components: dict[str, Any], seen: set[str]) -> list[str]:
    """Places in a schema that say nothing at all (`{}`: pydantic's `Any`)."""
    if not isinstance(schema, dict):
        return []
    if schema == {}:
        return [where]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _anys(components[name], f"{where}->{name}", components, seen)
    found = []
    for key in ("properties",):
        for prop, sub in schema.get(key, {}).items():
            found += _anys(sub, f"{where}.{prop}", components, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += _anys(schema[key], f"{where}[{key}]", components, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(key, [])):
            found += _anys(sub, f"{where}|{i}", components, seen)
    return found


def test_every_function_in_the_openapi_document_has_a_response_schema() -> None:
    functions = discover()
    document = build_openapi(functions)
    components = document["components"]["schemas"]
    public = [f for f in functions.values() if not f.internal]
    assert len(public) >= 25
    for fdef in public:
        ok = document["paths"][f"/api/{fdef.kind}/{fdef.path}"]["post"]["responses"]["200"]
        value = ok["content"]["application/json"]["schema"]["properties"]["value"]
        resolved = _resolve(value, components)
        assert resolved, f"{fdef.path} has no result schema"
        assert resolved.get("type") != "object" or "properties" in resolved, \
            f"{fdef.path}'s result is an untyped object"
        assert _anys(value, fdef.path, components, set()) == [], fdef.path
    trades = _resolve(document["paths"]["/api/query/bots:trades"]["post"]["responses"]["200"][
        "content"]["application/json"]["schema"]["properties"]["value"], components)
    row = components[trades["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[-1]]
    assert row["properties"]["pnl"]["type"] == "string"  # money stays an exact string
    assert row["properties"]["exit_at"]["format"] == "date-time"
