"""Paginated live queries over 10,000 rows: each page is its own live subscription, pages are
pinned as the next one loads, and the loaded pages stay exactly the head of the true order
(no row lost, none doubled) as rows are inserted before, inside and after them."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Annotated, TypedDict

import pytest
from pydantic import Field

from backend.reactive.capture import install_capture
from backend.runtime import Ctx, Functions, Keyset, Page, mutation, paginate, query
from backend.testing import TestBackend
from backend.testing.pages import LivePages

ROWS = 10_000
LIMIT = 100


class Row(TypedDict):
    id: int
    rank: int


@query
async def ranked(ctx: Ctx, cursor: str | None = None, end_cursor: str | None = None,
                 limit: Annotated[int, Field(ge=1, le=500)] = LIMIT) -> Page[Row]:
    """The caller's rows, highest rank first, a page at a time (test function)."""
    user_id = ctx.auth.require_user()
    keyset = Keyset("id, rank", "ranked_rows", "owner_id = $1", (user_id,), "rank", "bigint")
    return await paginate(ctx.db, keyset, cursor=cursor, end_cursor=end_cursor,  # type: ignore[return-value]
                          limit=limit)


@mutation
async def add(ctx: Ctx, rank: int) -> int:
    """A new row for the caller (test function)."""
    user_id = ctx.auth.require_user()
    return await ctx.db.fetchval(
        "INSERT INTO ranked_rows (owner_id, rank) VALUES ($1, $2) RETURNING id", user_id, rank)


@pytest.fixture
async def t(template_db: str) -> AsyncIterator[TestBackend]:
    async with TestBackend(Functions.from_modules(sys.modules[__name__]),
                           template=template_db) as backend:
        await backend.sql("CREATE TABLE ranked_rows (id bigserial PRIMARY KEY, "
                          "owner_id bigint NOT NULL, rank bigint NOT NULL)")
        await backend.sql("CREATE INDEX ON ranked_rows (owner_id, rank, id)")
        async with backend.pool.acquire() as conn:
            await install_capture(conn, "ranked_rows")
        yield backend


async def truth(t: TestBackend, owner_id: int) -> list[int]:
    rows = await t.sql("SELECT id FROM ranked_rows WHERE owner_id = $1 "
                       "ORDER BY rank DESC, id DESC", owner_id)
    return [r["id"] for r in rows]


async def test_live_pages_stay_correct_under_inserts_before_inside_and_after(
        t: TestBackend) -> None:
    alice = await t.user()
    assert alice.auth.user_id is not None
    owner = alice.auth.user_id
    # ranks 10, 20, ... 100,000: gaps leave room for inserts inside a page
    await t.sql("INSERT INTO ranked_rows (owner_id, rank) "
                "SELECT $1, g * 10 FROM generate_series(1, $2) g", owner, ROWS)
    await t.settle()  # else a cycle already under way could show the first page empty
    pages = await LivePages.open(alice, "test_paginated_live:ranked", limit=LIMIT)
    for _ in range(2):
        assert await pages.load_more()
    loaded = [r["id"] for r in await pages.items()]
    assert len(loaded) == 3 * LIMIT and loaded == (await truth(t, owner))[:3 * LIMIT]
    first, second, third = pages.pages

    async def check(expected_len: int) -> None:
        ids = [r["id"] for r in await pages.items()]
        assert len(ids) == expected_len
        assert ids == (await truth(t, owner))[:expected_len]

    await alice.mutation("test_paginated_live:add", {"rank": 10 * ROWS + 5})  # before all
    assert (await first.next_value())["items"][0]["rank"] == 10 * ROWS + 5
    await check(3 * LIMIT + 1)

    inside_second = ROWS * 10 - (LIMIT + 50) * 10 + 5  # between two rows of page 2
    await alice.mutation("test_paginated_live:add", {"rank": inside_second})
    grown = await second.next_value()
    assert len(grown["items"]) == LIMIT + 1 and inside_second in [r["rank"] for r in grown["items"]]
    await check(3 * LIMIT + 2)

    await alice.mutation("test_paginated_live:add", {"rank": 3})  # after every loaded page
    await first.expect_no_change()
    await check(3 * LIMIT + 2)

    inside_third = ROWS * 10 - (2 * LIMIT + 10) * 10 + 5  # the open last page shifts its tail
    await alice.mutation("test_paginated_live:add", {"rank": inside_third})
    shifted = await third.next_value()
    assert len(shifted["items"]) == LIMIT
    await check(3 * LIMIT + 2)
    assert await pages.load_more()
    await check(4 * LIMIT + 2)  # the row pushed out of page 3 starts page 4
    assert not (await pages.pages[-1].value())["is_done"]
