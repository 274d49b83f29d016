"""What a cursor page costs compared with the OFFSET page it replaced, at growing depth in a
table of 100,000 rows of one user (the shape of `bots:trades`): the same 50 rows, read with
`paginate` (keyset: `(sort, id) < cursor`) and with `LIMIT 50 OFFSET depth`.

    .venv/bin/python bench/pagination.py [--rows 100000] [--dsn postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import asyncpg

from backend.runtime.executor import Executor
from backend.runtime.pagination import Keyset, encode_cursor, paginate
from backend.testing.databases import create_database, drop_database, unique_name

LIMIT = 50
RUNS = 30


async def timed(fn) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


async def main(dsn: str, rows: int) -> None:
    name = unique_name("plutarc_bench_page")
    db = await create_database(dsn, name)
    try:
        conn = await asyncpg.connect(db)
        await conn.execute("CREATE TABLE t (id bigserial PRIMARY KEY, user_id bigint NOT NULL, "
                           "exit_at timestamptz NOT NULL, pnl numeric NOT NULL)")
        await conn.execute(
            "INSERT INTO t (user_id, exit_at, pnl) SELECT 1, now() - g * interval '1 minute', "
            "g % 97 - 48 FROM generate_series(1, $1) g", rows)
        await conn.execute("CREATE INDEX ON t (user_id, exit_at, id)")
        await conn.execute("ANALYZE t")
        ex = Executor(conn)
        keyset = Keyset("id, exit_at, pnl", "t", "user_id = $1", (1,), "exit_at", "timestamptz")
        print(f"{rows} rows; a page of {LIMIT}; median of {RUNS} runs")
        print(f"{'depth':>8} {'cursor ms':>10} {'offset ms':>10} {'offset/cursor':>14}")
        for depth in (0, 1_000, 10_000, 50_000, rows - LIMIT):
            before = await conn.fetchrow(
                "SELECT id, exit_at FROM t WHERE user_id = 1 ORDER BY exit_at DESC, id DESC "
                "OFFSET $1 LIMIT 1", depth - 1) if depth else None
            cursor = encode_cursor(keyset, dict(before)) if before else None

            async def by_cursor(cursor: str | None = cursor) -> None:
                await paginate(ex, keyset, cursor=cursor, end_cursor=None, limit=LIMIT)

            async def by_offset(depth: int = depth) -> None:
                await conn.fetch("SELECT id, exit_at, pnl FROM t WHERE user_id = 1 "
                                 "ORDER BY exit_at DESC, id DESC LIMIT $1 OFFSET $2",
                                 LIMIT + 1, depth)

            page = await paginate(ex, keyset, cursor=cursor, end_cursor=None, limit=LIMIT)
            same = await conn.fetch("SELECT id FROM t WHERE user_id = 1 ORDER BY exit_at DESC, "
                                    "id DESC LIMIT $1 OFFSET $2", LIMIT, depth)
            assert [r["id"] for r in page["items"]] == [r["id"] for r in same]
            c, o = await timed(by_cursor), await timed(by_offset)
            print(f"{depth:>8} {c:>10.2f} {o:>10.2f} {o / c:>13.1f}x")
        await conn.close()
    finally:
        await drop_database(dsn, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dsn", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    asyncio.run(main(args.dsn, args.rows))
