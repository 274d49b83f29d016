"""Hot reload for `plutarc dev`: when a file of the functions package is saved, re-import
that module, swap its functions into the running app's set, and re-run the live queries of
the functions it defines — clients stay connected and simply receive the new values.

A module that fails to import (a syntax error, an exception at import, a function without
a result type) is reported with its file, line and message, and the last good version keeps
serving. A change under the models package is not reloaded: it prints the migration
commands to run. Helpers imported by function modules (e.g. backend/domain) are not watched:
restart `plutarc dev` after changing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import sys
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from watchfiles import Change, awatch

from backend.runtime.registry import FUNCTIONS_PACKAGE, Functions, functions_of

log = logging.getLogger("plutarc.dev")
Report = Callable[[str], None]
MODELS_PACKAGE = "backend.models"


def _print(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def describe_import_error(exc: BaseException, path: Path) -> str:
    """`file:line: message` for why a module could not be loaded."""
    if isinstance(exc, SyntaxError):
        return f"{exc.filename or path}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    line = frames[-1].lineno if frames else "?"
    return f"{path}:{line}: {type(exc).__name__}: {exc}"


class Reloader:
    """Watches the functions package (and the models package) of one running app."""

    def __init__(self, state: Any, package: str = FUNCTIONS_PACKAGE,
                 models_package: str | None = MODELS_PACKAGE, report: Report = _print) -> None:
        self.state = state
        self.package = package
        self.directory = Path(importlib.import_module(package).__path__[0]).resolve()
        self.models = (Path(importlib.import_module(models_package).__path__[0]).resolve()
                       if models_package else None)
        self.report = report

    async def watch(self) -> None:
        """Apply changes as they are saved, forever."""
        folders = [self.directory, *([self.models] if self.models else [])]
        async for changes in awatch(*folders, debounce=100, step=20):
            for change, name in sorted(changes, key=lambda c: c[1]):
                self.apply(change, Path(name))

    def apply(self, change: Change, path: Path) -> set[str]:
        """React to one changed file; returns the function paths that changed."""
        if path.suffix != ".py" or path.name.startswith("."):
            return set()
        if self.models is not None and path.parent == self.models:
            self.report(f"models changed ({path.name}): run `plutarc db makemigrations NAME` "
                        "then `plutarc db migrate`, and restart `plutarc dev`")
            return set()
        if path.parent != self.directory or path.name == "__init__.py":
            return set()
        module_name = f"{self.package}.{path.stem}"
        functions: Functions = self.state.runtime.functions
        try:
            if change == Change.deleted:
                sys.modules.pop(module_name, None)
                defs = []
            else:
                # a save within the same second and of the same size would pass the
                # bytecode cache's (mtime, size) check: never trust it here
                Path(importlib.util.cache_from_source(str(path))).unlink(missing_ok=True)
                module = sys.modules.get(module_name)
                module = (importlib.reload(module) if module is not None
                          else importlib.import_module(module_name))
                defs = functions_of(module)
            changed = functions.replace_module(path.stem, defs)
        except Exception as exc:  # keep serving the last good version
            self.report(f"reload failed, still serving the previous version: "
                        f"{describe_import_error(exc, path)}")
            return set()
        rerun = self.state.engine.reload(changed)
        self.report(f"reloaded {path.name}: {len(defs)} functions, "
                    f"{rerun} live queries re-run")
        return changed


def reload_service(package: str = FUNCTIONS_PACKAGE, models_package: str | None = MODELS_PACKAGE,
                   report: Report = _print) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    """A service for `create_app(..., services=[reload_service()])` (what `plutarc dev`
    adds to the API). The app's function set must be a `Functions` (reloading swaps into
    it)."""

    @contextlib.asynccontextmanager
    async def service(state: Any) -> AsyncIterator[Reloader]:
        reloader = Reloader(state, package, models_package, report)
        task = asyncio.create_task(reloader.watch(), name="plutarc-reload")
        try:
            yield reloader
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return service
