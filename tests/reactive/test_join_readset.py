"""A join depends on the joined rows that matched, not on the whole joined table: the read set
of `trades t JOIN bots b ON b.id = t.bot_id WHERE b.user_id = $1`, read in the query's
snapshot, on a fixture."""

from __future__ import annotations

import asyncpg
import pytest

from backend.reactive.catalog import load_catalog
from backend.reactive.keys import routing_value
from backend.reactive.readset import ReadSets
from backend.runtime.executor import Executor

JOIN = "SELECT t.* FROM trades t JOIN bots b ON b.id = t.bot_id WHERE b.user_id = $1 ORDER BY t.id"


@pytest.fixture
async def readsets(conn: asyncpg.Connection) -> ReadSets:
    await conn.execute("""
        DROP TABLE IF EXISTS trades, bots;
        CREATE TABLE bots (id int PRIMARY KEY, user_id int NOT NULL);
        CREATE TABLE trades (id int PRIMARY KEY, bot_id int NOT NULL, side text);
        INSERT INTO bots VALUES (1, 10), (2, 10), (3, 20);
        INSERT INTO trades VALUES (1, 1, 'buy'), (2, 2, 'sell'), (3, 3, 'buy');
    """)
    return ReadSets(await load_catalog(conn))


def keys(*triples: tuple[str, str, object]) -> frozenset[tuple[str, str, str]]:
    return frozenset((t, c, routing_value(v)) for t, c, v in triples)


async def test_a_join_depends_on_the_joined_rows_that_matched(
    conn: asyncpg.Connection, readsets: ReadSets,
) -> None:
    got = await readsets.readset_in(Executor(conn), [(JOIN, (10,))])
    assert got.keys == keys(("bots", "user_id", 10), ("trades", "bot_id", 1), ("trades", "bot_id", 2))
    assert not got.tables and not got.everything
    got = await readsets.readset_in(Executor(conn), [(JOIN, (20,))])
    assert got.keys == keys(("bots", "user_id", 20), ("trades", "bot_id", 3))


async def test_a_user_without_bots_depends_on_no_trade(
    conn: asyncpg.Connection, readsets: ReadSets,
) -> None:
    got = await readsets.readset_in(Executor(conn), [(JOIN, (99,))])
    assert got.keys == keys(("bots", "user_id", 99)) and not got.tables


async def test_the_lookup_reads_the_callers_snapshot(
    dsn: str, conn: asyncpg.Connection, readsets: ReadSets,
) -> None:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await conn.fetchval("SELECT 1")  # the snapshot starts here
        other = await asyncpg.connect(dsn)
        try:
            await other.execute("UPDATE bots SET user_id = 10 WHERE id = 3")
        finally:
            await other.close()
        got = await readsets.readset_in(Executor(conn), [(JOIN, (10,))])
    assert ("trades", "bot_id", routing_value(3)) not in got.keys  # not visible in the snapshot


async def test_without_the_read_or_past_the_limit_the_joined_table_is_read_whole(
    conn: asyncpg.Connection, readsets: ReadSets, monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert readsets.readset([(JOIN, (10,))]).tables == {"trades"}
    monkeypatch.setattr("backend.reactive.readset.MAX_LOOKUP", 1)
    got = await readsets.readset_in(Executor(conn), [(JOIN, (10,))])
    assert got.tables == {"trades"} and got.keys == keys(("bots", "user_id", 10))


async def test_a_lookup_value_of_the_wrong_type_reads_whole_and_keeps_the_transaction(
    conn: asyncpg.Connection, readsets: ReadSets,
) -> None:
    sql = "SELECT t.* FROM trades t JOIN bots b ON b.id = t.bot_id WHERE b.user_id = 'x10'"
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        executor = Executor(conn)
        got = await readsets.readset_in(executor, [(sql, ())])
        assert got.tables == {"trades"} and not executor.failed
        assert await conn.fetchval("SELECT count(*) FROM bots") == 3


async def test_a_failing_lookup_reads_whole_and_says_the_transaction_is_aborted(
    conn: asyncpg.Connection, readsets: ReadSets, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("backend.reactive.readset._table", lambda name: "no_such_table")
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        executor = Executor(conn)
        got = await readsets.readset_in(executor, [(JOIN, (10,))])
        assert got.tables == {"trades"} and executor.failed
        with pytest.raises(asyncpg.InFailedSQLTransactionError):
            await conn.fetchval("SELECT 1")
