"""Partitioned tables and tables outside the public schema are captured, under the names
read sets use; a query naming a partition itself depends on everything."""

from __future__ import annotations

import json

import asyncpg

from backend.reactive.capture import install_capture_all
from backend.reactive.catalog import application_tables, load_catalog
from backend.reactive.invalidation import InvalidationIndex
from backend.reactive.listener import parse_notice
from backend.reactive.readset import ReadSets
from tests.reactive.capture_support import Notices


async def _affected(conn: asyncpg.Connection, notices: Notices, sql: str, params: tuple,
                    write: str) -> set[str]:
    readsets = ReadSets(await load_catalog(conn))
    index = InvalidationIndex()
    index.add("q", readsets.readset([(sql, params)]))
    await notices.settle()
    await conn.execute(write)
    changes = [c for n in await notices.settle() for c in parse_notice(json.dumps(n))]
    return index.affected(changes)


async def test_a_partitioned_table_is_captured_through_it_and_through_its_partitions(
    conn: asyncpg.Connection, notices: Notices,
) -> None:
    await conn.execute("""
        CREATE TABLE fills (id int, day int, bot_id int, PRIMARY KEY (id, day, bot_id))
            PARTITION BY LIST (day);
        CREATE TABLE fills_1 PARTITION OF fills FOR VALUES IN (1);
        CREATE TABLE fills_2 PARTITION OF fills FOR VALUES IN (2) PARTITION BY LIST (bot_id);
        CREATE TABLE fills_2_7 PARTITION OF fills_2 FOR VALUES IN (7);
    """)
    assert "fills" in await install_capture_all(conn)
    assert not {"fills_1", "fills_2", "fills_2_7"} & set(await application_tables(conn))
    await notices.settle()
    await conn.execute("INSERT INTO fills VALUES (1, 1, 7), (2, 2, 7)")  # through the parent
    await conn.execute("INSERT INTO fills_2_7 VALUES (3, 2, 7)")  # naming a leaf
    await conn.execute("UPDATE fills_1 SET bot_id = 8 WHERE id = 1")  # naming a partition
    got = await notices.settle()
    assert [n["t"] for n in got] == ["fills"] * 3
    assert [[r["pk"] for r in n["rows"]] for n in got] == [
        [[1, 1, 7], [2, 2, 7]], [[3, 2, 7]], [[1, 1, 7], [1, 1, 8]]]  # a key change: old, new

    query = "SELECT * FROM fills WHERE bot_id = $1"
    assert await _affected(conn, notices, query, (7,), "INSERT INTO fills_1 VALUES (9, 1, 7)")
    assert not await _affected(conn, notices, query, (7,), "INSERT INTO fills_1 VALUES (10, 1, 5)")
    # a query naming a partition itself depends on everything (its notices say "fills")
    readsets = ReadSets(await load_catalog(conn))
    assert readsets.readset([("SELECT * FROM fills_1 WHERE bot_id = $1", (7,))]).everything


async def test_tables_of_other_schemas_are_captured_as_schema_dot_name(
    conn: asyncpg.Connection, notices: Notices,
) -> None:
    await conn.execute("""
        CREATE SCHEMA ledger;
        CREATE TABLE ledger.entries (id int PRIMARY KEY, account_id int, amount numeric);
        CREATE TABLE public.entries (id int PRIMARY KEY, account_id int);
    """)
    tables = await install_capture_all(conn)
    assert {"ledger.entries", "entries"} <= set(tables)
    await notices.settle()
    await conn.execute("INSERT INTO ledger.entries VALUES (1, 5, 10.5)")
    await conn.execute("INSERT INTO entries VALUES (1, 5)")
    assert [n["t"] for n in await notices.settle()] == ["ledger.entries", "entries"]

    query = "SELECT * FROM ledger.entries WHERE account_id = $1"
    assert await _affected(conn, notices, query, (5,), "UPDATE ledger.entries SET amount = 1 WHERE id = 1")
    assert not await _affected(conn, notices, query, (5,), "UPDATE entries SET account_id = 6")
    assert not await _affected(conn, notices, query, (6,), "INSERT INTO ledger.entries VALUES (2, 5, 1)")
