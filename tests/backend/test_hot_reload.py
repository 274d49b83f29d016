"""`plutarc dev`'s hot reload, against a real server and a real WebSocket client: saving a
function file changes what a subscribed client receives on the same connection; a broken
file is reported with file and line while the last good version keeps serving."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from watchfiles import Change

import backend.models
from backend.app import create_app
from backend.reactive.diff import apply_diff
from backend.runtime import discover
from backend.runtime.reload import Reloader, reload_service
from tests.support.servers import ServerThread

FUNCTION = '''"""Greetings (a function module written during a test)."""

from backend.runtime import Ctx, query


@query
async def hello(ctx: Ctx) -> str:
    """Say hello."""
    return {value!r}
'''


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


class Dev:
    def __init__(self, folder: Path, package: str, url: str, lines: list[str]) -> None:
        self.folder, self.package, self.url, self.lines = folder, package, url, lines

    def write(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(text)
        return path

    def wait_until_watching(self, timeout: float = 30) -> None:
        """Save the unchanged file until a reload shows the watcher is live."""
        deadline = time.monotonic() + timeout
        while not any("reloaded greetings.py" in line for line in self.lines):
            assert time.monotonic() < deadline, "the reloader never reacted"
            self.write("greetings.py", FUNCTION.format(value="v1"))
            time.sleep(0.3)
        self.lines.clear()

    def wait_for_line(self, fragment: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if fragment in line]
            if found:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError(f"no line with {fragment!r} in {self.lines}")


@pytest.fixture
def dev(db_dsn: str, tmp_path: Path) -> Iterator[Dev]:
    package = f"devfns_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / package
    folder.mkdir()
    (folder / "__init__.py").write_text('"""Functions written by a test."""\n')
    (folder / "greetings.py").write_text(FUNCTION.format(value="v1"))
    sys.path.insert(0, str(tmp_path))
    lines: list[str] = []
    try:
        app = create_app(db_dsn, functions=discover(package), services=[
            reload_service(package, models_package=None, report=lines.append)])
        with ServerThread(app) as url:
            dev = Dev(folder, package, url, lines)
            dev.wait_until_watching()
            yield dev
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith(package)]:
            del sys.modules[name]


class Socket:
    """One WebSocket sync connection holding subscription 'a'."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.value = ws, None

    async def next_value(self) -> Any:
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 15))
            if message["type"] != "transition":
                continue
            await self.ws.send(json.dumps({"type": "ack", "seq": message["seq"]}))
            for change in message["changes"]:
                if "value" in change:
                    self.value = change["value"]
                elif "diff" in change:
                    self.value = apply_diff(self.value, change["diff"])
                elif "error" in change:
                    return change["error"]
                else:
                    continue
                return self.value


async def test_saving_a_function_changes_the_live_value_without_reconnecting(dev: Dev) -> None:
    async with websockets.connect(dev.url.replace("http", "ws") + "/api/sync") as ws:
        await ws.send(json.dumps({"type": "connect"}))
        assert json.loads(await ws.recv())["type"] == "connected"
        await ws.send(json.dumps({"type": "subscribe", "id": "a", "path": "greetings:hello"}))
        socket = Socket(ws)
        assert await socket.next_value() == "v1"
        dev.write("greetings.py", FUNCTION.format(value="v2"))
        assert await socket.next_value() == "v2"  # same socket: no reconnect
        assert "reloaded greetings.py: 1 functions, 1 live queries re-run" in dev.lines

        text = FUNCTION.format(value="v3").replace("-> str:", "-> str")  # the colon is gone
        broken = dev.write("greetings.py", text)
        line = await asyncio.to_thread(dev.wait_for_line, "reload failed")
        assert f"{broken}:{line_of(text, '-> str')}: SyntaxError" in line
        response = httpx.post(f"{dev.url}/api/query/greetings:hello", json={}, timeout=10)
        assert response.json()["value"] == "v2"  # the last good version serves

        dev.write("greetings.py", FUNCTION.format(value="v3"))
        assert await socket.next_value() == "v3"  # fixed: the same client gets it


async def test_a_new_file_adds_functions_and_an_import_error_names_its_line(dev: Dev) -> None:
    dev.write("extra.py", FUNCTION.format(value="x").replace("hello", "ping"))
    await asyncio.to_thread(dev.wait_for_line, "reloaded extra.py")
    response = httpx.post(f"{dev.url}/api/query/extra:ping", json={}, timeout=10)
    assert response.json()["value"] == "x"
    text = FUNCTION.format(value="x") + "\nraise RuntimeError('nope')\n"
    bad = dev.write("extra.py", text)
    line = await asyncio.to_thread(dev.wait_for_line, "RuntimeError")
    assert f"{bad}:{line_of(text, 'raise')}: RuntimeError: nope" in line
    untyped = dev.write("extra.py", FUNCTION.format(value="x").replace(" -> str", ""))
    line = await asyncio.to_thread(dev.wait_for_line, "declare the result type")
    assert str(untyped) in line


def test_a_model_change_prints_the_migration_commands() -> None:
    lines: list[str] = []
    reloader = Reloader(state=None, report=lines.append)
    models = Path(backend.models.__path__[0])
    assert reloader.apply(Change.modified, models / "bots.py") == set()
    assert lines == ["models changed (bots.py): run `plutarc db makemigrations NAME` then "
                     "`plutarc db migrate`, and restart `plutarc dev`"]


def test_plutarc_dev_is_a_command() -> None:
    from typer.testing import CliRunner

    from plutarc.cli import app

    result = CliRunner().invoke(app, ["dev", "--help"])
    assert result.exit_code == 0 and "hot reload" in result.output
