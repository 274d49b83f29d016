"""How much the scheduler adds to a mutation: N trivial mutations called directly (the
baseline), then the same N queued as jobs and run by one scheduler, then by two schedulers
at once (as two backend processes would, each with its own pool), checking that every job
committed exactly once.

    .venv/bin/python bench/scheduler.py [--jobs 2000] [--dsn postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime

from backend.db.migrate import migrate
from backend.db.pool import create_pool
from backend.runtime import Ctx, Functions, mutation
from backend.runtime.context import ANONYMOUS
from backend.runtime.runner import Runtime
from backend.runtime.scheduler import Scheduler
from backend.testing.databases import create_database, drop_database, unique_name


@mutation(internal=True)
async def record(ctx: Ctx, n: int) -> None:
    """One row per committed run."""
    await ctx.db.execute("INSERT INTO effects (n) VALUES ($1)", n)


async def queue(pool, jobs: int, offset: int) -> None:  # type: ignore[no-untyped-def]
    await pool.execute(
        "INSERT INTO scheduled_jobs (path, args, run_at) SELECT '__main__:record', "
        "jsonb_build_object('n', g), $2 FROM generate_series($1::int, $1::int + $3 - 1) g",
        offset, datetime(2000, 1, 1, tzinfo=UTC), jobs)


async def main(dsn: str, jobs: int) -> None:
    name = unique_name("plutarc_bench_sched")
    db = await create_database(dsn, name)
    try:
        await migrate(db)
        functions = Functions.from_modules(sys.modules[__name__])
        pools = [await create_pool(db, min_size=2, max_size=4) for _ in range(2)]
        await pools[0].execute("CREATE TABLE effects (id bigserial PRIMARY KEY, n int NOT NULL)")
        runtimes = [Runtime(p, functions, check_results=False) for p in pools]
        fdef = functions["__main__:record"]

        async def direct_run() -> float:
            started = time.perf_counter()
            for n in range(jobs):
                await runtimes[0].run_mutation(fdef, {"n": -n - 1}, ANONYMOUS)
            return (time.perf_counter() - started) / jobs

        await direct_run()  # warm up: connections, prepared statements
        direct = await direct_run()

        await queue(pools[0], jobs, 0)
        started = time.perf_counter()
        ran = await Scheduler(runtimes[0], worker="one").run_due()
        one = (time.perf_counter() - started) / len(ran)

        await queue(pools[0], jobs, jobs)
        started = time.perf_counter()
        both = await asyncio.gather(*(Scheduler(r, worker=f"w{i}").run_due()
                                      for i, r in enumerate(runtimes)))
        two = (time.perf_counter() - started) / sum(len(b) for b in both)

        counts = await pools[0].fetch("SELECT n, count(*) AS c FROM effects WHERE n >= 0 "
                                      "GROUP BY n HAVING count(*) <> 1")
        done = await pools[0].fetchval("SELECT count(*) FROM effects WHERE n >= 0")
        print(f"{jobs} jobs each run; every job committed exactly once: "
              f"{not counts and done == 2 * jobs}")
        print(f"{'':28} {'ms/job':>8} {'jobs/s':>8} {'vs direct':>10}")
        for label, per in (("direct run_mutation", direct), ("scheduler, 1 worker", one),
                           ("scheduler, 2 workers", two)):
            print(f"{label:28} {per * 1000:8.2f} {1 / per:8.0f} {per / direct:9.2f}x")
        print(f"split between the 2 workers: {[len(b) for b in both]}")
        for p in pools:
            await p.close()
    finally:
        await drop_database(dsn, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--dsn", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    asyncio.run(main(args.dsn, args.jobs))
