"""The registry of functions: `@query`, `@mutation` and `@action` register under `module:name`.

`backend/functions/bots.py`'s `list` is `bots:list`. A trailing underscore is dropped so that
names such as `list_` can shadow nothing. `load_functions()` imports every module of
backend/functions once, which registers everything.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from backend.runtime.args import ArgsSpec

Kind = Literal["query", "mutation", "action"]
FUNCTIONS_PACKAGE = "backend.functions"


@dataclass(frozen=True)
class FunctionDef:
    """One registered function."""

    path: str
    kind: Kind
    fn: Callable[..., Any]
    args: ArgsSpec
    doc: str
    internal: bool = False


REGISTRY: dict[str, FunctionDef] = {}


def _path_of(fn: Callable[..., Any], name: str | None) -> str:
    module = fn.__module__.rsplit(".", 1)[-1]
    return f"{module}:{name or fn.__name__.rstrip('_')}"


def _register(
    kind: Kind, fn: Callable[..., Any] | None, name: str | None, internal: bool = False
) -> Any:
    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        path = _path_of(f, name)
        if path in REGISTRY and REGISTRY[path].fn.__qualname__ != f.__qualname__:
            raise ValueError(f"function path {path} is registered twice")
        model_name = path.replace(":", "_") + "_args"
        doc = (f.__doc__ or "").strip()
        REGISTRY[path] = FunctionDef(path, kind, f, ArgsSpec(f, model_name), doc, internal)
        return f

    return decorate(fn) if fn is not None else decorate


def query(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, internal: bool = False
) -> Any:
    """A deterministic read: runs in a READ ONLY, REPEATABLE READ transaction; subscribable.

    `internal=True`: callable and subscribable only in-process (e.g. by the deployer), never
    by clients.
    """
    return _register("query", fn, name, internal)


def mutation(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, internal: bool = False
) -> Any:
    """A write: one SERIALIZABLE transaction, retried on serialization failure or deadlock.

    `internal=True`: callable only from actions (`ctx.mutation`), not by clients.
    """
    return _register("mutation", fn, name, internal)


def action(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Talks to the outside world; holds no transaction; may call queries and mutations."""
    return _register("action", fn, name)


def load_functions(package: str = FUNCTIONS_PACKAGE) -> dict[str, FunctionDef]:
    """Import every module of the functions package and return the registry."""
    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{package}.{info.name}")
    return REGISTRY
