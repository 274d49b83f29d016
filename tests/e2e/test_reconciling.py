"""Reconciling, visible: execution messages lost by the local exchange make the bot's model
and the exchange disagree; the bot is `reconciling` (both views in its events, shown live by
`insights:reconciliation`) until a later reconciliation pass finds nothing, then it clears."""

from __future__ import annotations

import asyncio
from typing import Any

from backend.client import Client
from tests.e2e.harness import World, wait_async
from tests.e2e.test_faults import _open_position, _started


async def test_a_forced_difference_shows_reconciling_until_a_clean_pass(world: World) -> None:
    seen: list[dict[str, Any]] = []
    async with Client(world.server.url, world.user_token) as trader:

        async def follow() -> None:
            async for value in trader.subscribe("insights:reconciliation", {"bot_id": world.bot_id}):
                seen.append(value)

        watcher = asyncio.create_task(follow())
        try:
            bot = await _started(world)
            await wait_async(lambda: _true(bool(seen)), 10, "the first value")
            assert seen[0] == {"reconciling": False, "since": None, "differences": []}
            await world.admin.lose("execution", count=3)
            await _open_position(world, bot)

            async def shown_then_cleared() -> bool:
                on = [i for i, v in enumerate(seen) if v["reconciling"]]
                return bool(on) and any(not v["reconciling"] for v in seen[on[0]:])

            # the periodic pass (every 2 s here) finds the lost fill, the next one nothing
            await wait_async(shown_then_cleared, 20, "reconciling shown, then cleared")
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
    shown = next(v for v in seen if v["reconciling"])
    executions = [d for d in shown["differences"] if d["kind"] == "execution"]
    assert executions, shown
    # both views: the stream never delivered the fill, REST has it
    assert executions[0]["stream"] is None and executions[0]["rest"]["exec_id"]
    assert shown["since"] is not None
    assert seen[-1]["reconciling"] is False and seen[-1]["differences"] == []
    kinds = [e["kind"] for e in await world.events()
             if e["kind"] in ("reconciliation", "reconciled")]
    assert kinds[-1] == "reconciled" and "reconciliation" in kinds


async def _true(value: bool) -> bool:
    return value
