"""The whole lifecycle on the real stack (backend, database, local exchange, supervisor, bot
process): a bot created through the API is deployed by the supervisor, comes online and
trades; pause → resume → stop ends in `stopped` with no process and no file left, positions
empty, its token revoked (its live session closed with 4401) and one deployment in its
history; `kill -9` → restarted, position adopted; a key the exchange refuses → `error` with
the reason after the retries."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import websockets

from bot.order_ids import parse_order_link_id
from infra.providers.local import _alive
from tests.e2e.conftest import Supervised
from tests.e2e.harness import MINUTE, World, wait_async

# 5× the p50 measured by bench/deployments.py on a loaded host (3.8 s and 1.1 s)
ONLINE_WITHIN_S = 20.0
STOPPED_WITHIN_S = 6.0


async def _bot(world: World) -> dict:
    return await world.call("query", "bots:get", {"bot_id": world.bot_id})


async def _until(world: World, lifecycle: str, timeout_s: float) -> float:
    """Seconds until the bot's lifecycle is `lifecycle`."""
    started = time.monotonic()

    async def reached() -> bool:
        return (await world.backend.bot(world.bot_id))["lifecycle"] == lifecycle

    await wait_async(reached, timeout_s, f"the bot {lifecycle}")
    return time.monotonic() - started


async def _candle(world: World) -> None:
    """One candle, handled by the bot process (its signal state reached the backend)."""

    async def count() -> int:
        rows = await world.sql("SELECT count(*) AS n FROM signal_states WHERE bot_id = $1",
                               world.bot_id)
        return rows[0]["n"]

    before = await count()
    await world.admin.advance(ms=MINUTE)

    async def handled() -> bool:
        return await count() > before

    await wait_async(handled, 15, "the bot process to handle the candle")


def _position(world: World) -> Decimal:
    return sum((p.size for p in world.exchange_account().positions.values()), Decimal(0))


async def _open_a_position(world: World) -> None:
    await world.subscribed(30)
    for _ in range(40):
        if _position(world):
            return
        await _candle(world)
    raise AssertionError("no position opened")


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


async def test_created_bot_runs_pauses_resumes_and_stops_leaving_nothing(
    world: World, supervised: Supervised
) -> None:
    await supervised.start()
    online_s = await _until(world, "online", ONLINE_WITHIN_S * 2)
    assert online_s < ONLINE_WITHIN_S
    deployment = (await world.call("query", "bots:deployments", {"bot_id": world.bot_id}))[0]
    pid = int(deployment["instance_id"].removeprefix("local:"))
    token = (await world.backend.runtime.pool.fetchval(
        "SELECT count(*) FROM bot_tokens WHERE bot_id = $1 AND revoked_at IS NULL", world.bot_id))
    assert token == 1
    await _open_a_position(world)

    await world.set_desired("pause")
    assert (await _bot(world))["lifecycle"] == "paused"
    await world.set_desired("run")
    assert (await _bot(world))["lifecycle"] == "online"

    async def position_reported() -> bool:
        return bool(await world.call("query", "bots:positions", {"bot_id": world.bot_id}))

    await wait_async(position_reported, 15, "the open position reported")
    overview = await world.call("query", "dashboard:overview", {})
    assert overview["open_positions"]["count"] == 1

    await world.set_desired("stop", close_positions=True)
    stopped_s = await _until(world, "stopped", STOPPED_WITHIN_S * 5)
    assert stopped_s < STOPPED_WITHIN_S
    assert not _position(world), "stop with close_positions left the position open"
    assert not _alive(pid), "the bot process is still running"
    assert _files(supervised.data_dir / "bots") == [], "a stopped bot left files behind"
    bot = await _bot(world)
    assert bot["connection"]["status"] == "offline"
    assert await world.call("query", "bots:positions", {"bot_id": world.bot_id}) == []
    overview = await world.call("query", "dashboard:overview", {})
    assert overview["open_positions"]["count"] == 0  # the world's user has this one bot
    history = await world.call("query", "bots:deployments", {"bot_id": world.bot_id})
    assert [(d["outcome"], d["ended_at"] is not None) for d in history] == [("stopped", True)]
    assert await world.backend.runtime.pool.fetchval(
        "SELECT count(*) FROM bot_tokens WHERE bot_id = $1 AND revoked_at IS NULL",
        world.bot_id) == 0
    trades = await world.reported_trades()
    assert trades and trades[-1]["exit_reason"] == "stop"
    assert not await world.backend.runtime.pool.fetchval(
        "SELECT count(*) FROM bot_claims WHERE bot_id = $1", world.bot_id)


async def test_a_stopped_bots_token_is_revoked_and_its_live_session_closed(world: World, supervised: Supervised
                                                       ) -> None:
    await supervised.start()
    await _until(world, "online", 30)
    supervisor = supervised.running[0][0]
    local = supervisor.providers["local"]
    token = local.instances[world.bot_id].launch.token  # type: ignore[attr-defined]
    url = world.server.url.replace("http", "ws") + "/api/sync"
    async with websockets.connect(url) as live:  # a live session on the deployment's token
        await live.send(json.dumps({"type": "connect", "token": token}))
        await live.send(json.dumps({"type": "subscribe", "id": "c", "path": "bot:config"}))
        await world.set_desired("stop")
        await _until(world, "stopped", 30)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(30):
                while True:
                    await live.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(f"{world.server.url}/api/query", json={"path": "bot:config"},
                                 headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


async def test_kill_9_restarts_the_bot_which_adopts_its_position(
    world: World, supervised: Supervised
) -> None:
    supervisor = await supervised.start()
    await _until(world, "online", 30)
    await _open_a_position(world)
    entries = sum(1 for o in world.exchange_orders()
                  if parse_order_link_id(o["orderLinkId"]).leg == "en")
    await supervisor.providers["local"].kill(world.bot_id)  # type: ignore[attr-defined]

    async def adopted() -> bool:
        return bool(await world.events("position_adopted"))

    await wait_async(adopted, 30, "the restarted bot adopting its position")
    kinds = [e["kind"] for e in await world.events()]
    assert "crashed" in kinds and "restarted" in kinds
    assert (await _bot(world))["lifecycle"] == "online"
    history = await world.call("query", "bots:deployments", {"bot_id": world.bot_id})
    assert len(history) == 1, "a restart on the same deployment, with the same credentials"
    await world.subscribed(30)
    for _ in range(20):
        if not _position(world):
            break
        await _candle(world)
    assert not _position(world), "the adopted position never exited"
    assert sum(1 for o in world.exchange_orders()
               if parse_order_link_id(o["orderLinkId"]).leg == "en") == entries
    assert not world.exchange_account().open_orders(), "orphan orders left on the exchange"


async def test_a_key_the_exchange_refuses_ends_in_error_with_the_reason(
    world: World, supervised: Supervised
) -> None:
    await world.set_desired("stop")
    key = await world.call("mutation", "apiKeys:add", {
        "exchange": "local", "label": "wrong", "api_key": "NO-SUCH-KEY", "api_secret": "nope"})
    await world.call("mutation", "bots:update", {"bot_id": world.bot_id, "api_key_id": key["id"]})
    await world.set_desired("run")
    await supervised.start()
    await _until(world, "error", 90)
    bot = await _bot(world)
    assert "5 crashes in 10 minutes" in bot["error_message"], bot["error_message"]
    crashed = await world.events("crashed")
    assert len(crashed) == 5 and crashed[-1]["level"] == "error"
    assert any("10003" in line or "API key" in line for line in crashed[-1]["data"]["log"])
    history = await world.call("query", "bots:deployments", {"bot_id": world.bot_id})
    assert [d["outcome"] for d in history] == ["failed"]
    assert _files(supervised.data_dir / "bots") == []
