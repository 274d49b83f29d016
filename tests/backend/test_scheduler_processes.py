"""Exactly once across processes: two real backend processes run the scheduler on one
database; every scheduled mutation commits once, and when the process running one is
killed with SIGKILL mid-run, the other runs it again and nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from backend.runtime import Ctx, mutation
from tests.support.backend_process import backends

JOBS = 40
MARKERS_ENV = "PLUTARC_TEST_MARKERS"


@mutation
async def plan(ctx: Ctx, count: int) -> int:
    """Schedule `count` quick jobs and one slow one (test function)."""
    await ctx.scheduler.run_after(0, "test_scheduler_processes:slow")
    for n in range(count):
        await ctx.scheduler.run_after(0, "test_scheduler_processes:record", {"n": n})
    return count + 1


@mutation(internal=True)
async def record(ctx: Ctx, n: int) -> None:
    """One row per committed run (test function)."""
    await ctx.db.execute("INSERT INTO effects (n, pid) VALUES ($1, $2)", n, os.getpid())


@mutation(internal=True)
async def slow(ctx: Ctx) -> None:
    """Writes, leaves a marker, and - in the first process to run it - waits to be killed
    with its transaction open (test function)."""
    await ctx.db.execute("INSERT INTO effects (n, pid) VALUES (-1, $1)", os.getpid())
    markers = Path(os.environ[MARKERS_ENV])
    first = not any(p.name != str(os.getpid()) for p in markers.iterdir())
    (markers / str(os.getpid())).write_text("running")
    if first:
        await asyncio.sleep(120)


def _sql(dsn: str, statement: str) -> list[dict]:
    async def run() -> list[dict]:
        conn = await asyncpg.connect(dsn)
        try:
            return [dict(r) for r in await conn.fetch(statement)]
        finally:
            await conn.close()

    return asyncio.run(run())


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def two_backends(db_dsn: str, tmp_path: Path) -> Iterator[list[tuple[subprocess.Popen, str]]]:
    _sql(db_dsn, "CREATE TABLE effects (id bigserial PRIMARY KEY, n int NOT NULL, pid int)")
    with backends(db_dsn, "tests.backend.test_scheduler_processes", 2,
                  {MARKERS_ENV: str(tmp_path)}) as procs:
        yield procs


def test_scheduled_mutations_run_once_across_processes_and_survive_kill_9(
        db_dsn: str, tmp_path: Path, two_backends: list[tuple[subprocess.Popen, str]]) -> None:
    (proc_a, url_a), (proc_b, _) = two_backends
    response = httpx.post(f"{url_a}/api/mutation/test_scheduler_processes:plan",
                          json={"count": JOBS}, timeout=10)
    assert response.status_code == 200, response.text
    _wait(lambda: any(tmp_path.iterdir()), 30, "the slow job to start")
    victim = int(next(tmp_path.iterdir()).name)
    assert victim in (proc_a.pid, proc_b.pid)
    os.kill(victim, signal.SIGKILL)  # mid-run: its transaction is open, its row written
    survivor = proc_b if victim == proc_a.pid else proc_a

    def all_done() -> bool:
        return _sql(db_dsn, "SELECT count(*) AS n FROM scheduled_jobs WHERE path LIKE "
                    "'test_scheduler_processes:%' AND state = 'done'")[0]["n"] == JOBS + 1
    _wait(all_done, 60, "every job to be done")

    effects = _sql(db_dsn, "SELECT n, pid FROM effects ORDER BY n")
    assert sorted(e["n"] for e in effects) == [-1, *range(JOBS)]  # each exactly once
    [slow_run] = [e for e in effects if e["n"] == -1]
    assert slow_run["pid"] == survivor.pid  # the killed run left nothing behind
    jobs = _sql(db_dsn, "SELECT path, attempts, state FROM scheduled_jobs WHERE path LIKE "
                "'test_scheduler_processes:%'")
    assert {(j["attempts"], j["state"]) for j in jobs} == {(1, "done")}
    assert {p.name for p in tmp_path.iterdir()} == {str(victim), str(survivor.pid)}
