"""Versions from PostgreSQL snapshots and xids, checked against pg_visible_in_snapshot."""

from __future__ import annotations

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.reactive.version import Snapshot, current_snapshot, current_xid


def test_snapshot_text_round_trips() -> None:
    s = Snapshot.parse("812:815:814,812")
    assert s == Snapshot(812, 815, frozenset({812, 814})) and str(s) == "812:815:812,814"
    assert str(Snapshot.parse("9:9:")) == "9:9:"


@pytest.mark.parametrize("text", ["", "1:2", "5:4:", "3:9:10", "a:b:"])
def test_malformed_snapshots_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        Snapshot.parse(text)


def test_includes_follows_the_snapshot_rule() -> None:
    s = Snapshot.parse("10:14:10,12")
    assert [x for x in range(8, 16) if s.includes(x)] == [8, 9, 11, 13]


def test_covers_and_display_order() -> None:
    early, late = Snapshot.parse("10:14:10,12"), Snapshot.parse("12:20:12,15")
    assert late.covers(early) and not early.covers(late)
    assert not Snapshot.parse("12:20:13,15").covers(early)  # 13 finished for early only
    assert early.covers(early)
    assert sorted([late, early], key=lambda s: s.sort_key) == [early, late]


async def _write(conn: asyncpg.Connection) -> int:
    await conn.execute("INSERT INTO ledger DEFAULT VALUES")
    return await current_xid(conn)


async def test_includes_and_covers_match_postgres_on_concurrent_transactions(dsn: str) -> None:
    conns = [await asyncpg.connect(dsn) for _ in range(5)]
    running, committer, reader, late, check = conns
    try:
        await check.execute("CREATE TABLE ledger (id serial PRIMARY KEY)")
        open_tx = running.transaction()
        await open_tx.start()
        still_running = await _write(running)
        async with committer.transaction():
            committed = await _write(committer)
        aborted_tx = late.transaction()
        await aborted_tx.start()
        aborted = await _write(late)
        await aborted_tx.rollback()

        read_tx = reader.transaction(isolation="repeatable_read", readonly=True)
        await read_tx.start()
        first = await current_snapshot(reader)
        await open_tx.commit()
        async with committer.transaction():
            after = await _write(committer)
        # a REPEATABLE READ transaction keeps its snapshot
        assert await current_snapshot(reader) == first
        second = await current_snapshot(check)
        await read_tx.rollback()

        assert first.includes(committed) and first.includes(aborted)
        assert not first.includes(still_running) and not first.includes(after)
        assert second.includes(still_running) and second.includes(after)
        assert second.covers(first) and not first.covers(second)
        for snap in (first, second):
            for xid in range(min(snap.xmin, still_running) - 3, max(snap.xmax, after) + 3):
                theirs = await check.fetchval(
                    "SELECT pg_visible_in_snapshot($1::text::xid8, $2::text::pg_snapshot)",
                    str(xid),
                    str(snap),
                )
                assert snap.includes(xid) is theirs, (snap, xid)
    finally:
        for conn in conns:
            await conn.close()


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    xmin = draw(st.integers(3, 30))
    xmax = draw(st.integers(xmin, 40))
    xip = (
        draw(st.frozensets(st.integers(xmin, max(xmin, xmax - 1)), max_size=6))
        if xmax > xmin
        else frozenset()
    )
    return Snapshot(xmin, xmax, xip)


@given(snapshots(), snapshots())
def test_covers_agrees_with_its_definition(a: Snapshot, b: Snapshot) -> None:
    assert a.covers(b) == all(a.includes(x) for x in range(45) if b.includes(x))
