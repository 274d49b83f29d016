"""The scheduler on a controlled clock, through the test kit: a job exists only if the
mutation that scheduled it commits, runs when due and once, failures are retried then kept
as a visible record, and a cron fires exactly on its tick."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from backend.runtime import BadRequest, Ctx, Functions, action, cron, mutation, query
from backend.runtime.executor import Executor
from backend.runtime.jobs import enqueue
from backend.runtime.scheduler import LEASE_S, RETRY_BASE_S
from backend.testing import TestBackend


@mutation
async def plan(ctx: Ctx, n: int, delay_s: float, fail_after: bool = False) -> int:
    """Schedule `record(n)` after `delay_s`; optionally fail afterwards (test function)."""
    job = await ctx.scheduler.run_after(delay_s, "test_scheduler:record", {"n": n})
    if fail_after:
        raise BadRequest("changed my mind", field="fail_after")
    return job


@mutation(internal=True)
async def record(ctx: Ctx, n: int) -> None:
    """The scheduled work: one row per run (test function)."""
    await ctx.db.execute("INSERT INTO effects (n) VALUES ($1)", n)


@mutation(internal=True)
async def explode(ctx: Ctx) -> None:
    """Always fails after writing (test function)."""
    await ctx.db.execute("INSERT INTO effects (n) VALUES (-1)")
    raise RuntimeError("the disk is on fire")


@query
async def sneaky(ctx: Ctx) -> None:
    """A query trying to schedule (test function)."""
    await ctx.scheduler.run_after(0, "test_scheduler:record", {"n": 1})


CALLED: list[int] = []


@action(internal=True)
async def notify(ctx: Ctx, n: int) -> None:
    """Talks to the outside world: here, a list (test function)."""
    CALLED.append(n)


@cron("*/5 * * * *")
@mutation(internal=True)
async def tick(ctx: Ctx) -> None:
    """A cron every five minutes (test function)."""
    await ctx.db.execute("INSERT INTO effects (n) VALUES (5)")


@query
async def effects(ctx: Ctx) -> list[int]:
    """Every recorded run (test function)."""
    return [r["n"] for r in await ctx.db.fetch("SELECT n FROM effects ORDER BY id")]


@pytest.fixture
async def t(template_db: str, request: pytest.FixtureRequest) -> AsyncIterator[TestBackend]:
    """This module's functions only (no app crons in the counts); the cron `tick` only for
    the test that is about it."""
    with_cron = "cron" in request.node.name
    only_these = Functions(f for f in Functions.from_modules(sys.modules[__name__]).values()
                           if with_cron or f.cron is None)
    async with TestBackend(only_these, template=template_db) as backend:
        await backend.sql("CREATE TABLE effects (id bigserial PRIMARY KEY, n int NOT NULL)")
        yield backend


async def test_a_job_is_scheduled_only_if_its_mutation_commits(t: TestBackend) -> None:
    alice = await t.user()
    with pytest.raises(BadRequest):
        await alice.mutation("test_scheduler:plan", {"n": 1, "delay_s": 0, "fail_after": True})
    assert await t.jobs() == []
    await alice.mutation("test_scheduler:plan", {"n": 2, "delay_s": 30})
    assert [(j["path"], j["args"], j["state"]) for j in await t.jobs()] == [
        ("test_scheduler:record", {"n": 2}, "pending")]


async def test_only_mutations_can_schedule(t: TestBackend) -> None:
    with pytest.raises(RuntimeError, match="only mutations can schedule"):
        await t.system.query("test_scheduler:sneaky")
    assert await t.jobs() == []


async def test_a_job_runs_when_due_and_only_once(t: TestBackend) -> None:
    alice = await t.user()
    await alice.mutation("test_scheduler:plan", {"n": 7, "delay_s": 30})
    assert await t.advance(29) == []
    assert await alice.query("test_scheduler:effects") == []
    assert await t.advance(1) == ["test_scheduler:record"]
    assert await alice.query("test_scheduler:effects") == [7]
    assert await t.advance(3600) == []
    assert await alice.query("test_scheduler:effects") == [7]
    [job] = await t.jobs()
    assert job["state"] == "done" and job["attempts"] == 1
    t.clock.advance(6 * 86_400)
    assert await t.scheduler.prune() == 0  # done jobs are kept a week
    t.clock.advance(86_400)
    assert await t.scheduler.prune() == 1 and await t.jobs() == []


async def test_scheduling_checks_the_path_and_arguments_at_once(t: TestBackend) -> None:
    with pytest.raises(BadRequest, match="n"):
        await t.system.mutation("test_scheduler:plan", {"n": "many", "delay_s": 0})
    async with t.pool.acquire() as conn:
        with pytest.raises(BadRequest, match="is a query"):
            await enqueue(Executor(conn), t.runtime, "test_scheduler:effects", {}, t.now)
    assert await t.jobs() == []


async def test_a_failing_job_is_retried_with_backoff_then_kept_as_failed(
        t: TestBackend) -> None:
    async with t.pool.acquire() as conn:
        await enqueue(Executor(conn), t.runtime, "test_scheduler:explode", {}, t.now,
                      max_attempts=3)
    assert await t.run_scheduled() == ["test_scheduler:explode"]
    [job] = await t.jobs()
    assert (job["state"], job["attempts"]) == ("pending", 1)
    assert job["last_error"] == "RuntimeError: the disk is on fire"
    assert await t.advance(RETRY_BASE_S * 2 - 0.5) == []  # backoff: 2 s after attempt 1
    assert await t.advance(0.5) == ["test_scheduler:explode"]
    assert await t.advance(RETRY_BASE_S * 4) == ["test_scheduler:explode"]
    [job] = await t.jobs()
    assert (job["state"], job["attempts"]) == ("failed", 3)
    assert await t.advance(3600) == []
    assert await t.system.query("test_scheduler:effects") == []  # every attempt rolled back


async def test_a_cron_fires_on_its_tick_with_a_controlled_clock(t: TestBackend) -> None:
    t.clock.set(datetime(2030, 1, 1, 12, 3, 30, tzinfo=UTC))
    assert await t.run_scheduled() == []  # first sight: the next tick is 12:05
    t.clock.set(datetime(2030, 1, 1, 12, 4, 59, 999000, tzinfo=UTC))
    assert await t.run_scheduled() == []
    t.clock.set(datetime(2030, 1, 1, 12, 5, tzinfo=UTC))
    assert await t.run_scheduled() == ["test_scheduler:tick"]
    assert await t.run_scheduled() == []  # one run per tick
    [job] = await t.jobs("test_scheduler:tick")
    assert job["run_at"] == datetime(2030, 1, 1, 12, 5, tzinfo=UTC)
    assert job["cron"] == "*/5 * * * *"
    t.clock.set(datetime(2030, 1, 1, 12, 21, tzinfo=UTC))  # 12:10, :15 and :20 were missed
    assert await t.run_scheduled() == ["test_scheduler:tick"]  # ... and collapse into one run
    t.clock.set(datetime(2030, 1, 1, 12, 25, tzinfo=UTC))
    assert await t.run_scheduled() == ["test_scheduler:tick"]
    assert await t.system.query("test_scheduler:effects") == [5, 5, 5]


async def test_a_scheduled_action_runs_and_a_dead_runners_lease_is_taken_over(
        t: TestBackend) -> None:
    CALLED.clear()
    async with t.pool.acquire() as conn:
        await enqueue(Executor(conn), t.runtime, "test_scheduler:notify", {"n": 1}, t.now)
        orphan = await enqueue(Executor(conn), t.runtime, "test_scheduler:notify", {"n": 2},
                               t.now + timedelta(hours=1))
    assert await t.run_scheduled() == ["test_scheduler:notify"]
    assert CALLED == [1]
    # a process claimed job 2 and died while its action ran: the job keeps its lease
    await t.sql("UPDATE scheduled_jobs SET run_at = $2, state = 'running', attempts = 1, "
                "lease_until = $3 WHERE id = $1", orphan, t.now,
                t.now + timedelta(seconds=LEASE_S))
    assert await t.advance(LEASE_S - 1) == []  # the lease still holds
    assert await t.advance(2) == ["test_scheduler:notify"]  # taken over: at least once
    assert CALLED == [1, 2]
    assert [(j["state"], j["attempts"]) for j in await t.jobs()] == [("done", 1), ("done", 2)]
