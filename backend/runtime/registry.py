"""Declaring functions and gathering them into the set an app serves.

`@query`, `@mutation` and `@action` only mark a function (an attribute on it); nothing is
registered anywhere. A `Functions` set is built explicitly — from modules
(`Functions.from_modules(mod)`) or by importing a package (`discover("backend.functions")`)
— and handed to the app (`create_app(dsn, functions=...)`), so two apps in one process can
serve different functions. A function's path is `module:name`: `backend/functions/bots.py`'s
`list_` is `bots:list` (a trailing underscore is dropped so names may shadow builtins).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from backend.runtime.args import ArgsSpec
from backend.runtime.crons import CronSpec, cron_of
from backend.runtime.results import ResultSpec

Kind = Literal["query", "mutation", "action"]
FUNCTIONS_PACKAGE = "backend.functions"
MARK = "__plutarc_function__"


@dataclass(frozen=True)
class Declared:
    """What a decorator records on the function it marks."""

    kind: Kind
    name: str | None
    internal: bool


@dataclass(frozen=True)
class FunctionDef:
    """One function of a set: its path, kind, argument and result types."""

    path: str
    kind: Kind
    fn: Callable[..., Any]
    args: ArgsSpec
    returns: ResultSpec
    doc: str
    internal: bool = False
    cron: CronSpec | None = None

    @property
    def module(self) -> str:
        return self.path.split(":", 1)[0]


def _mark(kind: Kind, fn: Callable[..., Any] | None, name: str | None, internal: bool) -> Any:
    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        setattr(f, MARK, Declared(kind, name, internal))
        return f

    return decorate(fn) if fn is not None else decorate


def query(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, internal: bool = False
) -> Any:
    """A deterministic read: runs in a READ ONLY, REPEATABLE READ transaction; subscribable.

    `internal=True`: callable and subscribable only in-process (e.g. by the deployer), never
    by clients.
    """
    return _mark("query", fn, name, internal)


def mutation(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, internal: bool = False
) -> Any:
    """A write: one SERIALIZABLE transaction, retried on serialization failure or deadlock.

    `internal=True`: callable only from actions, the scheduler and the system, not by clients.
    """
    return _mark("mutation", fn, name, internal)


def action(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, internal: bool = False
) -> Any:
    """Talks to the outside world; holds no transaction; may call queries and mutations."""
    return _mark("action", fn, name, internal)


def define(fn: Callable[..., Any], module: str) -> FunctionDef:
    """The FunctionDef of a marked function, under `module:name`."""
    declared: Declared = getattr(fn, MARK)
    path = f"{module}:{declared.name or fn.__name__.rstrip('_')}"
    return FunctionDef(
        path, declared.kind, fn, ArgsSpec(fn, path.replace(":", "_") + "_args"),
        ResultSpec(fn, path), (fn.__doc__ or "").strip(), declared.internal, cron_of(fn),
    )


def functions_of(module: ModuleType) -> list[FunctionDef]:
    """The marked functions defined in `module` (not those it imports), in source order."""
    short = module.__name__.rsplit(".", 1)[-1]
    return [
        define(value, short) for value in vars(module).values()
        if callable(value) and hasattr(value, MARK)
        and getattr(value, "__module__", None) == module.__name__
    ]


class Functions(Mapping[str, FunctionDef]):
    """The functions one app serves, by path.

    Invariant: paths are unique; `modules[m]` lists exactly the paths whose module is `m`.
    Only `replace_module` changes a set after it is built (hot reload in `plutarc dev`).
    """

    def __init__(self, defs: Iterable[FunctionDef] = ()) -> None:
        self._defs: dict[str, FunctionDef] = {}
        for fdef in defs:
            if fdef.path in self._defs:
                raise ValueError(f"function path {fdef.path} is defined twice")
            self._defs[fdef.path] = fdef

    @classmethod
    def from_modules(cls, *modules: ModuleType) -> Functions:
        return cls(fdef for module in modules for fdef in functions_of(module))

    def __getitem__(self, path: str) -> FunctionDef:
        return self._defs[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._defs)

    def __len__(self) -> int:
        return len(self._defs)

    def __or__(self, other: Mapping[str, FunctionDef]) -> Functions:
        return Functions([*self.values(), *other.values()])

    def replace_module(self, module: str, defs: Iterable[FunctionDef]) -> set[str]:
        """Swap in a module's new definitions; returns every path added, changed or removed."""
        old = {p: f for p, f in self._defs.items() if f.module == module}
        new = {f.path: f for f in defs}
        clash = [p for p in new if p in self._defs and p not in old]
        if clash:
            raise ValueError(f"function path {clash[0]} is defined twice")
        for path in old:
            del self._defs[path]
        self._defs.update(new)
        return set(old) | set(new)


def discover(package: str = FUNCTIONS_PACKAGE) -> Functions:
    """Import every module of `package` and gather the functions they define."""
    pkg = importlib.import_module(package)
    modules = [importlib.import_module(f"{package}.{info.name}")
               for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name)]
    return Functions.from_modules(*modules)
