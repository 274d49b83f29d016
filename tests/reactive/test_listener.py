"""The LISTEN connection: parsing, batching, and recovery after the connection is lost."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest_asyncio

from backend.reactive.capture import CHANNEL, install_capture
from backend.reactive.listener import APPLICATION_NAME, Change, Listener, parse_notice


class Recorder:
    """Callbacks that record what the listener delivers."""

    def __init__(self) -> None:
        self.batches: list[list[Change]] = []
        self.resets = 0
        self.changed = asyncio.Event()
        self.reset = asyncio.Event()

    async def on_changes(self, changes: list[Change]) -> None:
        self.batches.append(changes)
        self.changed.set()

    async def on_reset(self) -> None:
        self.resets += 1
        self.reset.set()

    async def next_batch(self) -> list[Change]:
        await asyncio.wait_for(self.changed.wait(), 5)
        self.changed.clear()
        return self.batches.pop(0)


@pytest_asyncio.fixture
async def tables(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """DROP TABLE IF EXISTS orders, fills;
        CREATE TABLE orders (id serial PRIMARY KEY, bot_id int, side varchar(4));
        CREATE TABLE fills (id serial PRIMARY KEY, order_id int)"""
    )
    await install_capture(conn, "orders")
    await install_capture(conn, "fills")


@contextlib.asynccontextmanager
async def running(listener: Listener) -> AsyncIterator[Listener]:
    await listener.start()
    try:
        yield listener
    finally:
        await listener.stop()


def test_parse_notice_rows_and_table_wide() -> None:
    rows = parse_notice(
        '{"t":"bots","op":"U","x":"812","rows":[{"pk":3,"old":{"id":3,"user_id":1},'
        '"new":{"id":3,"user_id":2}},{"pk":4,"new":{"id":4,"user_id":2}}]}'
    )
    assert rows == [
        Change("bots", "U", 812, pk=3, old={"id": 3, "user_id": 1}, new={"id": 3, "user_id": 2}),
        Change("bots", "U", 812, pk=4, new={"id": 4, "user_id": 2}),
    ]
    assert parse_notice('{"t":"bots","op":"T","x":"9","all":true}') == [
        Change("bots", "T", 9, whole_table=True)
    ]


async def test_statements_committed_together_arrive_as_one_batch(
    dsn: str, conn: asyncpg.Connection, tables: None
) -> None:
    rec = Recorder()
    async with running(Listener(dsn, rec.on_changes, rec.on_reset)):
        async with conn.transaction():
            await conn.execute("INSERT INTO orders (bot_id, side) VALUES (1, 'buy'), (2, 'sell')")
            await conn.execute("INSERT INTO fills (order_id) VALUES (1)")
            xid = int(await conn.fetchval("SELECT pg_current_xact_id()::text"))
        batch = await rec.next_batch()
    assert [(c.table, c.op, c.pk, c.xid) for c in batch] == [
        ("orders", "I", 1, xid),
        ("orders", "I", 2, xid),
        ("fills", "I", 1, xid),
    ]
    assert batch[1].new == {"id": 2, "bot_id": 2, "side": "sell"}


async def test_malformed_notices_are_skipped(
    dsn: str, conn: asyncpg.Connection, tables: None
) -> None:
    rec = Recorder()
    async with running(Listener(dsn, rec.on_changes, rec.on_reset)):
        await conn.execute(f"SELECT pg_notify('{CHANNEL}', 'not json')")
        await conn.execute("INSERT INTO fills (order_id) VALUES (9)")
        batch = await rec.next_batch()
    assert [c.new for c in batch] == [{"id": 1, "order_id": 9}]


async def test_terminated_listener_reconnects_then_resets(
    dsn: str, conn: asyncpg.Connection, tables: None
) -> None:
    rec = Recorder()
    async with running(
        Listener(dsn, rec.on_changes, rec.on_reset, backoff=(0.01, 0.1))
    ) as listener:
        old_pid = listener.backend_pid
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1 AND datname = current_database()",
            APPLICATION_NAME,
        )
        assert killed == 1
        await asyncio.wait_for(rec.reset.wait(), 5)
        assert rec.resets == 1 and listener.resets == 1
        assert listener.backend_pid not in (None, old_pid)
        # the new connection LISTENs: later commits are delivered
        await conn.execute("INSERT INTO orders (bot_id) VALUES (5)")
        batch = await rec.next_batch()
    assert [c.new["bot_id"] for c in batch] == [5]


class BlackholeProxy:
    """A TCP proxy to PostgreSQL that can silently stop relaying on open connections."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.open: list[asyncio.StreamWriter] = []
        self.blackholed: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    def blackhole(self) -> None:
        self.blackholed.update(self.open)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.open.append(writer)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    if writer not in self.blackholed:
                        dst.write(data)
            dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    async def close(self) -> None:
        self.server.close()
        for w in self.open:
            w.close()


async def test_a_silently_dead_connection_is_caught_by_the_health_check(
    dsn: str, conn: asyncpg.Connection, tables: None
) -> None:
    parts = urlsplit(dsn)
    proxy = BlackholeProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    port = await proxy.start()
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}"))
    rec = Recorder()
    listener = Listener(
        proxied, rec.on_changes, rec.on_reset, health_interval=0.1, health_timeout=0.2
    )
    try:
        async with running(listener):
            proxy.blackhole()
            await asyncio.wait_for(rec.reset.wait(), 5)
            await conn.execute("INSERT INTO orders (bot_id) VALUES (6)")
            batch = await rec.next_batch()
            assert [c.new["bot_id"] for c in batch] == [6]
    finally:
        await proxy.close()


async def test_after_a_fence_every_commit_in_an_earlier_snapshot_has_been_delivered(
    dsn: str, conn: asyncpg.Connection
) -> None:
    await conn.execute(
        "DROP TABLE IF EXISTS xlog; CREATE TABLE xlog (id serial PRIMARY KEY, x bigint)"
    )
    await install_capture(conn, "xlog")
    rec = Recorder()
    seen: set[int] = set()

    async def on_changes(changes: list[Change]) -> None:
        seen.update(c.xid for c in changes)

    writers = [await asyncpg.connect(dsn) for _ in range(3)]
    reader, fencer = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    stop = asyncio.Event()

    async def write(w: asyncpg.Connection) -> None:
        while not stop.is_set():
            await w.execute("INSERT INTO xlog (x) VALUES (pg_current_xact_id()::text::bigint)")

    tasks: list[asyncio.Task[None]] = []
    checked = 0
    try:
        async with running(Listener(dsn, on_changes, rec.on_reset)) as listener:
            # writers start once the listener LISTENs: earlier commits are never delivered
            tasks = [asyncio.create_task(write(w)) for w in writers]
            for _ in range(30):
                async with reader.transaction(isolation="repeatable_read", readonly=True):
                    await reader.fetchval("SELECT pg_current_snapshot()")
                    await listener.fence(fencer)
                    committed = {r[0] for r in await reader.fetch("SELECT x FROM xlog")}
                assert committed <= seen, committed - seen
                checked += len(committed)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for c in [*writers, reader, fencer]:
            await c.close()
    assert checked > 0


async def test_a_failing_batch_callback_leads_to_a_reset(
    dsn: str, conn: asyncpg.Connection, tables: None
) -> None:
    rec = Recorder()
    failures = [RuntimeError("subscription manager bug")]

    async def on_changes(changes: list[Change]) -> None:
        if failures:
            raise failures.pop()
        await rec.on_changes(changes)

    async with running(Listener(dsn, on_changes, rec.on_reset)):
        await conn.execute("INSERT INTO fills (order_id) VALUES (1)")
        await asyncio.wait_for(rec.reset.wait(), 5)
        await conn.execute("INSERT INTO fills (order_id) VALUES (2)")
        batch = await rec.next_batch()
    assert rec.resets == 1 and [c.new["order_id"] for c in batch] == [2]
