"""What `insights:decisions` costs for one day of 1m candles (1,440 journal records) compared
with the same query for one candle, on the real schema (every migration applied), with
7 days of records for the bot and 9 other bots' days beside it.

    .venv/bin/python bench/journal_query.py [--dsn postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import UTC, datetime, timedelta

from pagination import RUNS, timed  # bench/ is on the path when a bench script runs

from backend.db.pool import create_pool
from backend.domain.journal import decisions
from backend.runtime.executor import Executor
from backend.testing.databases import create_migrated_template, drop_database, with_database

RECORD = ('{"a":"hold","r":"no_entry","d":0,"c":0.1,"s":[0.1,0.2,-0.3],'
          '"f":[["volatility_band",true]],"ses":true,"g":[],"o":"no_signal"}')
DAY0 = datetime(2026, 2, 2, tzinfo=UTC)


async def main(dsn: str) -> None:
    name = await create_migrated_template(dsn)
    pool = await create_pool(with_database(dsn, name), min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("SET session_replication_role = replica")  # no FK rows needed
            await conn.execute(
                "INSERT INTO decisions (bot_id, user_id, candle_at, outcome, record) "
                "SELECT b, 1, $1::timestamptz + i * interval '1 minute', 'no_signal', $2::jsonb "
                "FROM generate_series(1, 10) b, generate_series(0, 7 * 1440 - 1) i",
                DAY0, RECORD)
            await conn.execute("RESET session_replication_role")
            await conn.execute("ANALYZE decisions")
            ex = Executor(conn)
            day = DAY0 + timedelta(days=3)

            async def one_day() -> None:
                rows = await decisions(ex, 5, day, day + timedelta(days=1))
                assert len(rows) == 1440

            async def one_candle() -> None:
                rows = await decisions(ex, 5, day, day + timedelta(minutes=1))
                assert len(rows) == 1

            base, full = await timed(one_candle), await timed(one_day)
        print(f"decisions: 10 bots x 7 days of 1m records; median of {RUNS} runs")
        print(f"{'query':>22} {'ms':>8} {'vs 1 candle':>12}")
        print(f"{'1 candle (baseline)':>22} {base:8.2f} {1.0:11.1f}x")
        print(f"{'1 day (1,440 rows)':>22} {full:8.2f} {full / base:11.1f}x   goal < 50 ms")
    finally:
        await pool.close()
        await drop_database(dsn, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    asyncio.run(main(parser.parse_args().dsn))
