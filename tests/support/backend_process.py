"""A backend process for tests: `python -m tests.support.backend_process DSN PORT MODULE`
serves the app's functions plus those of MODULE on 127.0.0.1:PORT, with the scheduler
polling every 50 ms (as `plutarc up` runs it, only faster). `backends(...)` runs several,
each on its own port, until its block ends."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from backend.app import create_app
from backend.runtime.scheduler import scheduler_service
from plutarc.server import make_server
from tests.support.servers import app_and_module_functions, free_port

START_TIMEOUT_S = 60


@contextlib.contextmanager
def backends(dsn: str, module: str, count: int,
             env: dict[str, str] | None = None) -> Iterator[list[tuple[subprocess.Popen, str]]]:
    """`count` backend processes serving the app plus `module`'s functions: (process, url)
    each, healthy when the block starts, terminated when it ends."""
    procs: list[tuple[subprocess.Popen, str]] = []
    try:
        for _ in range(count):
            port = free_port()
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.support.backend_process", dsn, str(port), module],
                env={**os.environ, **(env or {})}, cwd=Path(__file__).parents[2])
            procs.append((proc, f"http://127.0.0.1:{port}"))
        deadline = time.monotonic() + START_TIMEOUT_S
        for proc, url in procs:
            while not _healthy(url):
                assert proc.poll() is None, "a backend process exited"
                assert time.monotonic() < deadline, "the backend processes did not start"
                time.sleep(0.05)
        yield procs
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> None:
    dsn, port, module = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    functions = app_and_module_functions(importlib.import_module(module))
    app = create_app(dsn, functions=functions, services=[scheduler_service(poll_s=0.05)])
    asyncio.run(make_server(app, "127.0.0.1", port, log_level="warning").serve())


if __name__ == "__main__":
    main()
