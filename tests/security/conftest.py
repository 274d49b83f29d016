"""A backend in its own process (so its RSS and its event loop are its own, not the test's),
with small limits so each attack hits its bound quickly, behind a trusted-proxy
configuration so tests can speak as many client addresses; and a prober that measures
another client's `auth:me` latency while an attack runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest

from backend.auth.tokens import issue_bot_token
from backend.runtime.executor import Executor
from tests.support.servers import free_port

PROXY_SECRET = "test-proxy-secret"
LIMITS = {
    "PLUTARC_LIMIT_SUBSCRIPTIONS_PER_SOCKET": "60",
    "PLUTARC_LIMIT_SUBSCRIPTIONS_PER_USER": "100",
    "PLUTARC_LIMIT_TRANSITION_BYTES": str(64 << 10),
    "PLUTARC_LIMIT_VALUE_BYTES": str(256 << 10),
    "PLUTARC_LIMIT_CALLS_PER_SOCKET": "8",
    "PLUTARC_LIMIT_CALL_RATE_PER_SOCKET": "50",
    "PLUTARC_LIMIT_CALL_BURST": "20",
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
    folder = tmp_path_factory.mktemp("backend")
    log = folder / "server.log"
    env = {**os.environ, **LIMITS, "PLUTARC_MASTER_KEY_FILE": str(folder / "master.key")}
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
    body = json.dumps({"path": path, "args": args or {}})  # escapes lone surrogates as \\udxxx
    return await http.post(f"/api/{kind}", content=body, headers={
        "Content-Type": "application/json", **extra, **(headers or {})})


async def user_token(url: str, email: str, address: str = "10.9.9.9") -> str:
    """Sign up and log in (as a client at `address`); the session token."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        assert (await call(http, "action", "auth:signup",
                           {"email": email, "password": PASSWORD})).status_code == 200
        reply = await call(http, "action", "auth:login", {"email": email, "password": PASSWORD},
                           headers=as_client(address))
        assert reply.status_code == 200, reply.text
        return reply.json()["value"]["token"]


async def bot_token(dsn: str, email: str) -> str:
    """A bot of the user `email` and a token for it (the row made directly: only the token's
    validation path matters here)."""
    conn = await asyncpg.connect(dsn)
    try:
        user_id = await conn.fetchval("SELECT id FROM users WHERE email = $1", email)
        bot_id = await conn.fetchval(
            "INSERT INTO bots (user_id, name, symbol, desired_state, lifecycle, close_positions, "
            "provider, region, strategy_version, created_at, updated_at) VALUES ($1, 'b', "
            "'BTCUSDT', 'running', 'online', false, 'local', 'local', 1, now(), now()) "
            "RETURNING id", user_id)
        return await issue_bot_token(Executor(conn), bot_id)
    finally:
        await conn.close()


PROBE = """
import json, sys, time, httpx
url, token, stop = sys.argv[1], sys.argv[2], sys.argv[3]
latencies, failures = [], []
with httpx.Client(base_url=url, timeout=30) as http:
    import os
    while not os.path.exists(stop) or len(latencies) < 20:
        started = time.perf_counter()
        reply = http.post("/api/query", json={"path": "auth:me", "args": {}},
                          headers={"Authorization": f"Bearer {token}"})
        latencies.append(time.perf_counter() - started)
        if reply.status_code != 200:
            failures.append(reply.text)
        time.sleep(0.02)
print(json.dumps({"latencies": latencies, "failures": failures}))
"""


@dataclass
class Probe:
    """Another client calling `auth:me` over HTTP every 20 ms, from its own process (so
    neither the attacker's work nor the test's GIL delays it); latencies in seconds."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98]


@contextlib.asynccontextmanager
async def probing(backend: Backend, token: str) -> AsyncIterator[Probe]:
    """Probe `auth:me` while the block runs (and for at least 20 samples)."""
    probe = Probe()
    stop = backend.log.with_name(f"probe-stop-{time.monotonic_ns()}")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PROBE, backend.url, token, str(stop),
        stdout=asyncio.subprocess.PIPE)
    try:
        await asyncio.sleep(0.3)  # the probe is up before the attack starts
        yield probe
    finally:
        stop.touch()
        out, _ = await asyncio.wait_for(process.communicate(), 60)
    result = json.loads(out)
    probe.latencies, probe.failures = result["latencies"], result["failures"]
    assert not probe.failures, probe.failures[:3]


async def stall_bound(backend: Backend, token: str) -> float:
    """The p99 `auth:me` may reach during an attack: 100 ms, or on a loaded machine five
    times the worst latency seen now, without an attack, over a second (the project's 5x
    margin for times: on 2 shared cores scheduling alone causes 50 ms gaps)."""
    async with probing(backend, token) as quiet:
        await asyncio.sleep(1.0)
    return max(0.100, 5 * max(quiet.latencies))


async def assert_no_stall(backend: Backend, token: str,
                          attack: Callable[[], Awaitable[None]], attempts: int = 3) -> None:
    """Run `attack` while probing; its p99 must stay under `stall_bound`. A shared machine's
    load comes in bursts, so a miss is retried (a real stall, seconds long as in the
    report, misses every time)."""
    seen = []
    for _ in range(attempts):
        bound = await stall_bound(backend, token)
        async with probing(backend, token) as probe:
            await attack()
        if probe.p99() < bound:
            return
        seen.append((round(probe.p99(), 3), round(bound, 3)))
    raise AssertionError(f"auth:me p99 above the bound in every attempt (p99, bound): {seen}")


async def rss_settles(backend: Backend, start: int, slack: int = 50 << 20,
                      timeout_s: float = 10) -> int:
    """Wait until the backend's RSS is within `slack` of `start`; the last reading."""
    deadline = time.monotonic() + timeout_s
    while (rss := backend.rss()) > start + slack and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return rss
