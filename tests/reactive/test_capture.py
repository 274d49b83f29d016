"""Change capture against a real PostgreSQL: payload shape, chunking, size limit, fallbacks."""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest

from backend.reactive.capture import (
    MAX_PAYLOAD_BYTES,
    install_capture,
    install_capture_all,
)
from backend.reactive.catalog import load_catalog, table_info
from backend.reactive.invalidation import InvalidationIndex
from backend.reactive.listener import parse_notice
from backend.reactive.readset import ReadSets
from tests.reactive.capture_support import Notices


async def make_bots(conn: asyncpg.Connection, name: str) -> None:
    await conn.execute(
        f"""DROP TABLE IF EXISTS {name};
        CREATE TABLE {name} (
            id bigserial PRIMARY KEY, user_id int NOT NULL, status varchar(20),
            name text, settings jsonb, balance numeric, created_at timestamptz DEFAULT now())"""
    )
    await install_capture(conn, name)


async def test_routing_columns_are_keys_and_small_scalars(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """CREATE TYPE mood AS ENUM ('up', 'down');
        CREATE TABLE owners (code varchar(200) PRIMARY KEY);
        CREATE TABLE things (
            a int, b text, owner varchar(200) REFERENCES owners(code), account_id text,
            flag bool, ref uuid, short varchar(64), long varchar(65), unbounded varchar,
            letter char(1), feeling mood, note text, amount numeric, ratio float8,
            at timestamptz, doc jsonb, tags int[], PRIMARY KEY (b, a))"""
    )
    info = await table_info(conn, "things")
    assert info.primary_key == ("b", "a")
    assert info.routing[:2] == ("b", "a")
    assert set(info.routing) == {
        "a",
        "b",
        "owner",
        "account_id",
        "flag",
        "ref",
        "short",
        "letter",
        "feeling",
    }


async def test_insert_update_delete_send_keys_and_routing_values(
    conn: asyncpg.Connection, notices: Notices
) -> None:
    await make_bots(conn, "bots_a")
    await conn.execute(
        "INSERT INTO bots_a (user_id, status, name) VALUES (7, 'online', 'x'), (8, NULL, 'y')"
    )
    await conn.execute("UPDATE bots_a SET status = 'paused' WHERE user_id = 7")
    await conn.execute("UPDATE bots_a SET name = 'z' WHERE user_id = 8")
    await conn.execute("DELETE FROM bots_a WHERE user_id = 8")
    ins, upd, same, dele = await notices.settle()

    assert (ins["t"], ins["op"]) == ("bots_a", "I")
    assert ins["rows"] == [
        {"pk": 1, "new": {"id": 1, "user_id": 7, "status": "online"}},
        {"pk": 2, "new": {"id": 2, "user_id": 8, "status": None}},
    ]
    assert upd["op"] == "U" and upd["rows"] == [
        {
            "pk": 1,
            "old": {"id": 1, "user_id": 7, "status": "online"},
            "new": {"id": 1, "user_id": 7, "status": "paused"},
        }
    ]
    # routing values unchanged: only "new" (old would be identical)
    assert same["rows"] == [{"pk": 2, "new": {"id": 2, "user_id": 8, "status": None}}]
    assert dele["op"] == "D" and dele["rows"] == [
        {"pk": 2, "old": {"id": 2, "user_id": 8, "status": None}}
    ]


async def test_notice_carries_the_writing_transactions_xid(
    conn: asyncpg.Connection, notices: Notices
) -> None:
    await make_bots(conn, "bots_x")
    async with conn.transaction():
        await conn.execute("INSERT INTO bots_x (user_id) VALUES (1)")
        xid = await conn.fetchval("SELECT pg_current_xact_id()::text")
    (notice,) = await notices.settle()
    assert notice["x"] == xid


async def test_rolled_back_writes_send_nothing(conn: asyncpg.Connection, notices: Notices) -> None:
    await make_bots(conn, "bots_rb")
    tx = conn.transaction()
    await tx.start()
    await conn.execute("INSERT INTO bots_rb (user_id) VALUES (1)")
    await tx.rollback()
    async with conn.transaction():
        await conn.execute("INSERT INTO bots_rb (user_id) VALUES (2)")
        sp = conn.transaction()
        await sp.start()
        await conn.execute("INSERT INTO bots_rb (user_id) VALUES (3)")
        await sp.rollback()
    (notice,) = await notices.settle()
    assert [r["new"]["user_id"] for r in notice["rows"]] == [2]


async def test_key_change_and_composite_keys(conn: asyncpg.Connection, notices: Notices) -> None:
    await conn.execute(
        "CREATE TABLE legs (trade_id int, n int, side varchar(4), PRIMARY KEY (trade_id, n))"
    )
    await install_capture(conn, "legs")
    await conn.execute("INSERT INTO legs VALUES (1, 1, 'buy')")
    await conn.execute("UPDATE legs SET n = 2")
    ins, upd = await notices.settle()
    assert ins["rows"] == [{"pk": [1, 1], "new": {"trade_id": 1, "n": 1, "side": "buy"}}]
    assert sorted(upd["rows"], key=lambda r: r["pk"]) == [
        {"pk": [1, 1], "old": {"trade_id": 1, "n": 1, "side": "buy"}},
        {"pk": [1, 2], "new": {"trade_id": 1, "n": 2, "side": "buy"}},
    ]


async def test_truncate_is_table_wide(conn: asyncpg.Connection, notices: Notices) -> None:
    await make_bots(conn, "bots_t")
    await conn.execute("TRUNCATE bots_t")
    (notice,) = await notices.settle()
    assert notice["all"] is True and notice["op"] == "T" and notice["t"] == "bots_t"


async def test_bulk_insert_of_ten_thousand_rows_is_one_table_wide_notice(
    conn: asyncpg.Connection, notices: Notices
) -> None:
    await make_bots(conn, "bots_bulk")
    await conn.execute(
        "INSERT INTO bots_bulk (user_id, status) SELECT g, 'online' FROM generate_series(1, 10000) g"
    )
    assert await conn.fetchval("SELECT count(*) FROM bots_bulk") == 10000
    await conn.execute("UPDATE bots_bulk SET status = 'paused'")
    await conn.execute("DELETE FROM bots_bulk")
    got = await notices.settle()
    assert [(n["op"], n.get("all")) for n in got] == [("I", True), ("U", True), ("D", True)]


async def test_a_statement_below_the_row_threshold_is_chunked_under_the_limit(
    conn: asyncpg.Connection, notices: Notices
) -> None:
    await make_bots(conn, "bots_chunk")
    await conn.execute(
        "INSERT INTO bots_chunk (user_id, status) SELECT g, 'online' FROM generate_series(1, 900) g"
    )
    got = await notices.settle()
    assert 2 <= len(got) <= 10
    assert all(len(json.dumps(n, separators=(",", ":")).encode()) < MAX_PAYLOAD_BYTES for n in got)
    assert sorted(r["pk"] for n in got for r in n["rows"]) == list(range(1, 901))


async def test_payloads_stay_under_the_limit_with_long_routing_values(
    conn: asyncpg.Connection, notices: Notices
) -> None:
    await conn.execute(
        "CREATE TABLE accounts (id text PRIMARY KEY, owner_id text, tag varchar(64))"
    )
    await install_capture(conn, "accounts")
    # one key alone larger than a payload: table-wide, and the write still commits
    await conn.execute("INSERT INTO accounts VALUES (repeat('k', 9000), 'o', 't')")
    # long-but-fitting values, multibyte: chunks under the limit in bytes
    await conn.execute(
        "INSERT INTO accounts SELECT 'é' || repeat('x', 300) || g, repeat('ü', 200), repeat('ß', 64)"
        " FROM generate_series(1, 40) g"
    )
    # more bytes than MAX_CHUNKS payloads: table-wide
    await conn.execute(
        "INSERT INTO accounts SELECT repeat('y', 1000) || g, 'o', 't' FROM generate_series(1, 500) g"
    )
    raw_sizes = []
    got = await notices.settle()
    for n in got:
        raw_sizes.append(len(json.dumps(n, ensure_ascii=False, separators=(",", ":")).encode()))
    assert got[0].get("all") is True
    assert got[-1].get("all") is True
    middle = got[1:-1]
    assert middle and not any(n.get("all") for n in middle)
    assert sum(len(n["rows"]) for n in middle) == 40
    assert max(raw_sizes) < MAX_PAYLOAD_BYTES
    assert await conn.fetchval("SELECT count(*) FROM accounts") == 541


async def test_install_all_covers_tables_added_later_and_skips_bookkeeping(
    dsn: str, conn: asyncpg.Connection, notices: Notices
) -> None:
    await conn.execute("CREATE TABLE tortoise_migrations (id serial PRIMARY KEY, name text)")
    await conn.execute("CREATE TABLE later_one (id serial PRIMARY KEY)")
    installed = await install_capture_all(conn)
    assert "later_one" in installed and "tortoise_migrations" not in installed
    assert await install_capture_all(conn) == installed  # idempotent
    await conn.execute("CREATE TABLE later_two (id serial PRIMARY KEY, bot_id int)")
    await install_capture_all(conn)
    await conn.execute("INSERT INTO later_two (bot_id) VALUES (5)")
    await conn.execute("INSERT INTO tortoise_migrations (name) VALUES ('x')")
    (notice,) = await notices.settle()
    assert notice["t"] == "later_two" and notice["rows"][0]["new"] == {"id": 1, "bot_id": 5}
    catalog = await load_catalog(conn)
    assert catalog.routed("later_two") == {"id", "bot_id"}


@pytest.mark.parametrize("columns", [0, 1])
async def test_tables_without_primary_key_are_captured(
    conn: asyncpg.Connection, notices: Notices, columns: int
) -> None:
    table = f"nokey_{columns}"
    await conn.execute(f"CREATE TABLE {table} ({'bot_id int, ' if columns else ''}note text)")
    await install_capture(conn, table)
    await conn.execute(f"INSERT INTO {table} (note) VALUES ('a')")
    await conn.execute(f"UPDATE {table} SET note = 'b'")
    ins, upd = await notices.settle()
    expected = {"bot_id": None} if columns else {}
    assert ins["rows"] == [{"pk": None, "new": expected}]
    assert sorted(upd["rows"], key=len) == [
        {"pk": None, "old": expected},
        {"pk": None, "new": expected},
    ]


async def test_odd_and_long_table_names_are_captured(
    conn: asyncpg.Connection, notices: Notices
) -> None:
    odd, long = 'Bot "Logs" 1', "a_table_name_long_enough_to_push_the_function_name_over_63"
    await conn.execute('CREATE TABLE "Bot ""Logs"" 1" ("Id" int PRIMARY KEY, "bot""id" int)')
    await conn.execute(f"CREATE TABLE {long} (id int PRIMARY KEY)")
    await install_capture(conn, odd)
    await install_capture(conn, long)
    await conn.execute('INSERT INTO "Bot ""Logs"" 1" VALUES (1, 2)')
    await conn.execute(f"INSERT INTO {long} VALUES (3)")
    first, second = await notices.settle()
    assert first["t"] == odd and first["rows"] == [{"pk": 1, "new": {"Id": 1, 'bot"id': 2}}]
    assert second["t"] == long and second["rows"] == [{"pk": 3, "new": {"id": 3}}]


async def test_notices_match_keys_bound_from_python_values(
    conn: asyncpg.Connection, notices: Notices
) -> None:
    ref = uuid.uuid4()
    await conn.execute(
        """CREATE TYPE side AS ENUM ('buy', 'sell');
        CREATE TABLE keyed (id uuid PRIMARY KEY, n bigint, flag bool, s side, code char(4),
                            label varchar(20))"""
    )
    await install_capture(conn, "keyed")
    await conn.execute(
        "INSERT INTO keyed VALUES ($1, 9007199254740993, true, 'sell', 'ab', $2)",
        ref,
        'q"\\ü\n',
    )
    (notice,) = await notices.settle()
    (change,) = parse_notice(json.dumps(notice))
    cases = [
        ("SELECT * FROM keyed WHERE id = $1", [ref]),
        ("SELECT * FROM keyed WHERE n = $1", [9007199254740993]),
        ("SELECT * FROM keyed WHERE flag = $1", [True]),
        ("SELECT * FROM keyed WHERE s = $1", ["sell"]),
        ("SELECT * FROM keyed WHERE code = $1", ["ab"]),
        ("SELECT * FROM keyed WHERE label = $1", ['q"\\ü\n']),
    ]
    readsets = ReadSets(await load_catalog(conn))
    for sql, params in cases:
        assert await conn.fetchval(f"SELECT count(*) FROM ({sql}) q", *params) == 1
        index = InvalidationIndex()
        index.add("sub", readsets.readset([(sql, params)]))
        assert index.affected([change]) == {"sub"}, sql
        assert readsets.readset([(sql, params)]).keys  # keyed, not whole-table
