"""A backend in its own process (so its RSS and its event loop are its own, not the test's),
with small limits so each attack hits its bound quickly, behind a trusted-proxy
configuration so tests can speak as many client addresses; and a prober that measures
another client's `auth:me` latency while an attack runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.servers import free_port

PROXY_SECRET = "test-proxy-secret"
LIMITS = {
    "PLUTARC_LIMIT_SUBSCRIPTIONS_PER_SOCKET": "60",
    "PLUTARC_LIMIT_SUBSCRIPTIONS_PER_USER": "100",
    "PLUTARC_LIMIT_TRANSITION_BYTES": str(64 << 10),
    "PLUTARC_LIMIT_VALUE_BYTES": str(256 << 10),
    "PLUTARC_LIMIT_CALLS_PER_SOCKET": "8",
    "PLUTARC_LIMIT_CONNECT_TIMEOUT_S": "1",
    "PLUTARC_LIMIT_HEADER_TIMEOUT_S": "1",
    "PLUTARC_LIMIT_BODY_TIMEOUT_S": "1",
    "PLUTARC_LIMIT_WAIT_TIMEOUT_S": "2",
    "PLUTARC_LIMIT_WAITS_PER_SOCKET": "4",
    "PLUTARC_TRUSTED_PROXIES": "127.0.0.1",
    "PLUTARC_PROXY_SECRET": PROXY_SECRET,
}
SERVE = """
import asyncio, sys
from backend.app import create_app
from plutarc.server import make_server
asyncio.run(make_server(create_app(sys.argv[1]), "127.0.0.1", int(sys.argv[2])).serve())
"""
PASSWORD = "correct horse battery"


@dataclass
class Backend:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def ws(self) -> str:
        return self.url.replace("http", "ws", 1) + "/api/sync"

    def rss(self) -> int:
        return psutil.Process(self.process.pid).memory_info().rss

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback")


@pytest.fixture(scope="module")
def backend(db_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    port = free_port()
    log = tmp_path_factory.mktemp("backend") / "server.log"
    env = {**os.environ, **LIMITS}
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-c", SERVE, db_dsn, str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=Path(__file__).parents[2])
    backend = Backend(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(backend.url + "/api/health", timeout=2).status_code == 200:
                break
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("backend did not start:\n" + log.read_text())
        time.sleep(0.1)
    try:
        yield backend
    finally:
        process.terminate()
        process.wait(20)


def as_client(address: str) -> dict[str, str]:
    """Headers of a request relayed by the trusted proxy for a client at `address`."""
    return {"X-Forwarded-For": address, "X-Plutarc-Proxy": PROXY_SECRET}


async def call(http: httpx.AsyncClient, kind: str, path: str, args: object = None,
               token: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    extra = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post(f"/api/{kind}", json={"path": path, "args": args or {}},
                           headers={**extra, **(headers or {})})


async def user_token(url: str, email: str, address: str = "10.9.9.9") -> str:
    """Sign up and log in (as a client at `address`); the session token."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        assert (await call(http, "action", "auth:signup",
                           {"email": email, "password": PASSWORD})).status_code == 200
        reply = await call(http, "action", "auth:login", {"email": email, "password": PASSWORD},
                           headers=as_client(address))
        assert reply.status_code == 200, reply.text
        return reply.json()["value"]["token"]


@dataclass
class Probe:
    """Another client calling `auth:me` over HTTP every 20 ms from its own thread (so the
    attacker's work in the test's event loop does not delay it); latencies in seconds."""

    url: str
    token: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self.stop.is_set():
                started = time.perf_counter()
                reply = http.post("/api/query", json={"path": "auth:me", "args": {}},
                                  headers={"Authorization": f"Bearer {self.token}"})
                self.latencies.append(time.perf_counter() - started)
                if reply.status_code != 200:
                    self.failures.append(reply.text)
                self.stop.wait(0.02)

    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98]


async def stall_bound(backend: Backend, token: str) -> float:
    """The p99 `auth:me` may reach during an attack: 100 ms, or on a loaded machine five
    times the p99 measured now without an attack (the project's 5x margin for times)."""
    async with probing(backend, token) as quiet:
        await asyncio.sleep(1.0)
    return max(0.100, 5 * quiet.p99())


@contextlib.asynccontextmanager
async def probing(backend: Backend, token: str) -> AsyncIterator[Probe]:
    """Probe `auth:me` while the block runs; at least 20 samples are taken."""
    probe = Probe(backend.url, token)
    thread = threading.Thread(target=probe.run, daemon=True)
    thread.start()
    try:
        yield probe
        while len(probe.latencies) < 20:
            await asyncio.sleep(0.02)
    finally:
        probe.stop.set()
        await asyncio.to_thread(thread.join, 30)
    assert not probe.failures, probe.failures[:3]


async def rss_settles(backend: Backend, start: int, slack: int = 50 << 20,
                      timeout_s: float = 10) -> int:
    """Wait until the backend's RSS is within `slack` of `start`; the last reading."""
    deadline = time.monotonic() + timeout_s
    while (rss := backend.rss()) > start + slack and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return rss
