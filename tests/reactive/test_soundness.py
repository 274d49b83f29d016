"""End to end soundness on a real database: capture -> notices -> read sets -> index.

Random committed writes against a small schema; every query whose result changed must be
reported affected by the invalidation index built from its read set. Deterministic (seeded).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import asyncpg

from backend.reactive.capture import CHANNEL, install_capture_all
from backend.reactive.catalog import load_catalog
from backend.reactive.invalidation import InvalidationIndex
from backend.reactive.listener import parse_notice
from backend.reactive.readset import ReadSets
from backend.runtime.executor import Executor

R = random.Random
USERS, BOTS, STATUS, SIDES, TEAMS = (
    [1, 2, 3],
    [1, 2, 3, 4, 5, 6],
    ["on", "off", "err"],
    ["buy", "sell"],
    ["a", "b"],
)

QUERIES: list[tuple[str, Callable[[R], list[Any]]]] = [
    ("SELECT * FROM bots WHERE user_id = $1 ORDER BY id", lambda r: [r.choice(USERS)]),
    ("SELECT * FROM bots WHERE status = $1 ORDER BY id", lambda r: [r.choice(STATUS)]),
    ("SELECT * FROM trades WHERE bot_id IN ($1, $2) ORDER BY id", lambda r: r.sample(BOTS, 2)),
    (
        "SELECT * FROM trades WHERE bot_id = ANY($1::int[]) ORDER BY id",
        lambda r: [r.sample(BOTS, 2)],
    ),
    (
        "SELECT t.* FROM trades t JOIN bots b ON b.id = t.bot_id WHERE b.user_id = $1 ORDER BY t.id",
        lambda r: [r.choice(USERS)],
    ),
    (
        "SELECT t.id, b.name FROM trades t JOIN bots b ON b.id = t.bot_id WHERE b.id = $1 ORDER BY t.id",
        lambda r: [r.choice(BOTS)],
    ),
    (
        (
            "SELECT b.id, t.id FROM bots b LEFT JOIN trades t ON t.bot_id = b.id AND t.side = $2"
            " WHERE b.user_id = $1 ORDER BY 1, 2"
        ),
        lambda r: [r.choice(USERS), r.choice(SIDES)],
    ),
    (
        "SELECT b.id, t.id FROM bots b LEFT JOIN trades t ON t.bot_id = b.id AND t.bot_id = $1 ORDER BY 1, 2",
        lambda r: [r.choice(BOTS)],
    ),
    (
        "SELECT * FROM bots b WHERE b.id = $1 AND NOT EXISTS (SELECT 1 FROM trades t WHERE t.bot_id = b.id)",
        lambda r: [r.choice(BOTS)],
    ),
    (
        (
            "SELECT b.id, (SELECT count(*) FROM trades t WHERE t.bot_id = b.id) FROM bots b WHERE b.user_id = $1"
            " ORDER BY 1"
        ),
        lambda r: [r.choice(USERS)],
    ),
    (
        "SELECT * FROM trades WHERE bot_id IN (SELECT id FROM bots WHERE user_id = $1) ORDER BY id",
        lambda r: [r.choice(USERS)],
    ),
    (
        "SELECT * FROM bots WHERE user_id = $1 OR status = $2 ORDER BY id",
        lambda r: [r.choice(USERS), r.choice(STATUS)],
    ),
    (
        "SELECT * FROM bots WHERE parent_id IS NULL AND user_id = $1 ORDER BY id",
        lambda r: [r.choice(USERS)],
    ),
    (
        (
            "WITH mine AS (SELECT id FROM bots WHERE user_id = $1) SELECT t.* FROM trades t JOIN mine"
            " ON mine.id = t.bot_id ORDER BY t.id"
        ),
        lambda r: [r.choice(USERS)],
    ),
    (
        "SELECT a.id, c.id FROM bots a JOIN bots c ON c.parent_id = a.id WHERE a.id = $1 ORDER BY 1, 2",
        lambda r: [r.choice(BOTS)],
    ),
    ("SELECT count(*), sum(qty) FROM trades WHERE side = $1", lambda r: [r.choice(SIDES)]),
    (
        "SELECT b.id FROM bots b JOIN users u ON u.id = b.user_id WHERE u.team = $1 ORDER BY b.id",
        lambda r: [r.choice(TEAMS)],
    ),
    (
        "SELECT * FROM trades t WHERE (t.bot_id, t.side) = ($1, $2) ORDER BY id",
        lambda r: [r.choice(BOTS), r.choice(SIDES)],
    ),
    (
        "SELECT b.id, t.id FROM bots b FULL JOIN trades t ON t.bot_id = b.id AND b.id = $1 ORDER BY 1, 2",
        lambda r: [r.choice(BOTS)],
    ),
    (
        (
            "SELECT u.id FROM users u WHERE EXISTS (SELECT 1 FROM bots b WHERE b.user_id = u.id AND b.status = $1)"
            " ORDER BY 1"
        ),
        lambda r: [r.choice(STATUS)],
    ),
    (
        "SELECT * FROM bots WHERE id = $1 UNION ALL SELECT * FROM bots WHERE user_id = $2",
        lambda r: [r.choice(BOTS), r.choice(USERS)],
    ),
    (
        "SELECT * FROM (SELECT * FROM trades WHERE side = $1) s WHERE s.bot_id = $2 ORDER BY id",
        lambda r: [r.choice(SIDES), r.choice(BOTS)],
    ),
    (
        (
            "SELECT b.id FROM bots b, LATERAL (SELECT count(*) AS n FROM trades t WHERE t.bot_id = b.id) x"
            " WHERE b.id = $1 AND x.n > 0"
        ),
        lambda r: [r.choice(BOTS)],
    ),
    ("SELECT * FROM bots WHERE name = $1 ORDER BY id", lambda r: [f"n{r.randint(1, 3)}"]),
    (
        "SELECT * FROM trades WHERE qty = $1 AND bot_id <> 2 ORDER BY id",
        lambda r: [r.randint(1, 3)],
    ),
    (
        "SELECT id FROM bots WHERE status = 'on' AND user_id IN (SELECT id FROM users WHERE team = $1) ORDER BY 1",
        lambda r: [r.choice(TEAMS)],
    ),
    ("SELECT * FROM bots WHERE NOT (status = $1) ORDER BY id", lambda r: [r.choice(STATUS)]),
    (
        "SELECT b.id FROM bots b JOIN trades t ON t.bot_id = b.id WHERE t.side = $1 AND b.user_id = $2 ORDER BY 1",
        lambda r: [r.choice(SIDES), r.choice(USERS)],
    ),
    ("SELECT * FROM bots WHERE active ORDER BY id", lambda r: []),
    (
        (
            "SELECT t.id, b.id FROM trades t RIGHT JOIN bots b ON t.bot_id = b.id AND t.side = $1"
            " WHERE b.id = $2 ORDER BY 1, 2"
        ),
        lambda r: [r.choice(SIDES), r.choice(BOTS)],
    ),
    (
        (
            "SELECT b.id, x.id FROM bots b LEFT JOIN (trades x JOIN users u ON u.id = x.qty)"
            " ON x.bot_id = b.id WHERE b.user_id = $1 ORDER BY 1, 2"
        ),
        lambda r: [r.choice(USERS)],
    ),
    (
        (
            "SELECT b.id, t.id, (SELECT count(*) FROM trades t2 WHERE t2.bot_id = t.bot_id)"
            " FROM bots b LEFT JOIN trades t ON t.bot_id = b.id AND t.bot_id = $1 ORDER BY 1, 2"
        ),
        lambda r: [r.choice(BOTS)],
    ),
    (
        "SELECT * FROM bots WHERE NOT active AND parent_id IS NOT DISTINCT FROM $1 ORDER BY id",
        lambda r: [r.choice([None, *BOTS])],
    ),
    (
        (
            "SELECT * FROM bots b WHERE b.parent_id IN (SELECT c.id FROM bots c WHERE c.user_id = $1)"
            " ORDER BY id"
        ),
        lambda r: [r.choice(USERS)],
    ),
    (
        "SELECT * FROM trades WHERE bot_id = $1 OR bot_id IS NULL ORDER BY id",
        lambda r: [r.choice(BOTS)],
    ),
    (
        (
            "SELECT b.id FROM bots b LEFT JOIN trades t ON t.bot_id = b.id"
            " WHERE t.id IS NULL AND b.user_id = $1 ORDER BY 1"
        ),
        lambda r: [r.choice(USERS)],
    ),
    (
        (
            "SELECT b.id, t.id FROM bots b LEFT JOIN trades t ON t.bot_id = b.id"
            " WHERE t.side IS NOT DISTINCT FROM $1 ORDER BY 1, 2"
        ),
        lambda r: [r.choice([None, *SIDES])],
    ),
    (
        "SELECT * FROM trades WHERE bot_id = (SELECT min(id) FROM bots WHERE user_id = $1) ORDER BY id",
        lambda r: [r.choice(USERS)],
    ),
]

SCHEMA = """
DROP TABLE IF EXISTS users, bots, trades;
CREATE TABLE users (id int PRIMARY KEY, team varchar(4));
CREATE TABLE bots (id int PRIMARY KEY, user_id int, status varchar(8), name text, parent_id int, active bool);
CREATE TABLE trades (id int PRIMARY KEY, bot_id int, side varchar(4), qty int);
"""


def _seed_sql(r: R) -> str:
    users = ",".join(f"({u}, '{r.choice(TEAMS)}')" for u in USERS)
    bots = ",".join(
        f"({b}, {r.choice(USERS)}, '{r.choice(STATUS)}', 'n{r.randint(1, 3)}',"
        f" {r.choice(['NULL', *map(str, BOTS)])}, {r.choice(['true', 'false'])})"
        for b in BOTS
    )
    trades = ",".join(
        f"({t}, {r.choice(BOTS)}, '{r.choice(SIDES)}', {r.randint(1, 3)})" for t in range(1, 13)
    )
    return (
        f"TRUNCATE users, bots, trades; INSERT INTO users VALUES {users}; INSERT INTO bots VALUES {bots};"
        f" INSERT INTO trades VALUES {trades};"
    )


def _write(r: R, next_id: list[int]) -> str:
    next_id[0] += 1
    new = next_id[0]
    return r.choice(
        [
            f"INSERT INTO users VALUES ({new}, '{r.choice(TEAMS)}')",
            f"UPDATE users SET team = '{r.choice(TEAMS)}' WHERE id = {r.choice(USERS)}",
            f"INSERT INTO bots VALUES ({new}, {r.choice(USERS)}, '{r.choice(STATUS)}', 'n1', NULL, true)",
            f"UPDATE bots SET user_id = {r.choice(USERS)} WHERE id = {r.choice(BOTS)}",
            f"UPDATE bots SET status = '{r.choice(STATUS)}' WHERE id = {r.choice(BOTS)}",
            f"UPDATE bots SET name = 'n{r.randint(1, 3)}' WHERE id = {r.choice(BOTS)}",
            f"UPDATE bots SET parent_id = {r.choice(['NULL', *map(str, BOTS)])} WHERE id = {r.choice(BOTS)}",
            f"UPDATE bots SET active = NOT active WHERE id = {r.choice(BOTS)}",
            f"UPDATE bots SET id = {new} WHERE id = {r.choice(BOTS)}",
            f"UPDATE bots SET status = '{r.choice(STATUS)}' WHERE user_id = {r.choice(USERS)}",
            f"DELETE FROM bots WHERE id = {r.choice(BOTS)}",
            f"INSERT INTO trades VALUES ({new}, {r.choice(BOTS)}, '{r.choice(SIDES)}', {r.randint(1, 3)})",
            f"UPDATE trades SET bot_id = {r.choice(BOTS)} WHERE id = {r.randint(1, 12)}",
            f"UPDATE trades SET side = '{r.choice(SIDES)}', qty = {r.randint(1, 3)} WHERE id = {r.randint(1, 12)}",
            f"DELETE FROM trades WHERE bot_id = {r.choice(BOTS)}",
            f"UPDATE trades SET bot_id = NULL WHERE id = {r.randint(1, 12)}",
        ]
    )


async def test_every_changed_result_is_reported_affected(
    dsn: str, conn: asyncpg.Connection
) -> None:
    await conn.execute(SCHEMA)
    await install_capture_all(conn)
    readsets = ReadSets(await load_catalog(conn))
    listen = await asyncpg.connect(dsn)
    payloads: list[str] = []
    fence = asyncio.Event()

    def on_notice(_c: object, _p: int, _ch: str, payload: str) -> None:
        (fence.set() if payload == "fence" else payloads.append(payload))

    await listen.add_listener(CHANNEL, on_notice)
    r = R(20261125)
    next_id = [100]
    changed_total = rerun_total = 0
    try:
        for step in range(160):
            if step % 40 == 0:
                await conn.execute(_seed_sql(r))
            params = [make(r) for _, make in QUERIES]
            before = [
                await conn.fetch(sql, *p) for (sql, _), p in zip(QUERIES, params, strict=True)
            ]
            index = InvalidationIndex()
            for i, ((sql, _), p) in enumerate(zip(QUERIES, params, strict=True)):
                # joins read their matching rows' keys in the current state (Lookup)
                index.add(i, await readsets.readset_in(Executor(conn), [(sql, p)]))
            fence.clear()
            payloads.clear()
            write = _write(r, next_id)
            await conn.execute(write)
            await conn.execute(f"SELECT pg_notify('{CHANNEL}', 'fence')")
            await asyncio.wait_for(fence.wait(), 5)
            affected = index.affected([c for p in payloads for c in parse_notice(p)])
            for i, ((sql, _), p) in enumerate(zip(QUERIES, params, strict=True)):
                after = await conn.fetch(sql, *p)
                if [tuple(x) for x in after] != [tuple(x) for x in before[i]]:
                    changed_total += 1
                    assert i in affected, f"missed: {sql} {p} after {write}"
            rerun_total += len(affected)
    finally:
        await listen.close()
    # the index is sound, and much tighter than re-running everything on every write
    assert changed_total > 100
    assert rerun_total < 0.6 * 160 * len(QUERIES)
