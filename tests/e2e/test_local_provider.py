"""The bot as a real process started by the local provider: provisioning → deploying →
online; `kill -9` with a position open, restart, the position is adopted and exits on its
rule with no orphan orders and no second entry; stop closes, flushes, removes the working
directory and records the deployment."""

from __future__ import annotations

from decimal import Decimal

from bot.order_ids import parse_order_link_id
from infra.providers.local import LocalProvider
from tests.e2e.harness import MINUTE, World, trades_from_executions, wait_async


async def _lifecycle(world: World) -> str:
    return (await world.backend.bot(world.bot_id))["lifecycle"]


async def _signals(world: World) -> int:
    rows = await world.sql(
        "SELECT count(*) AS n FROM signal_states WHERE bot_id = $1", world.bot_id
    )
    return rows[0]["n"]


async def _candle(world: World) -> None:
    """One candle, handled by the bot process (its signal state reached the backend)."""
    before = await _signals(world)
    await world.admin.advance(ms=MINUTE)

    async def handled() -> bool:
        return await _signals(world) > before

    await wait_async(handled, 15, "the bot process to handle the candle")


def _position(world: World) -> Decimal:
    positions = world.exchange_account().positions
    return sum((p.size for p in positions.values()), Decimal(0))


async def online_with_a_position(world: World, provider: LocalProvider) -> None:
    """Wait for the deployed bot process to be online, then close candles until it holds a
    position."""
    await wait_async(lambda: _is(world, "online"), 30, "the bot online")
    await world.subscribed(30)
    for _ in range(40):
        if _position(world):
            break
        await _candle(world)
    assert _position(world), "no position opened"


async def test_kill_9_with_a_position_then_restart_adopts_it(
    world: World, provider: LocalProvider
) -> None:
    await provider.deploy(world.bot_id)
    assert await _lifecycle(world) == "deploying"
    await online_with_a_position(world, provider)
    entries_before = _legs(world, "en")

    await provider.kill(world.bot_id)
    await world.admin.advance(ms=MINUTE)  # the market moves on while the bot is dead
    # Lose the bot's own note of the open trade too: it is rebuilt from the exchange's lists.
    (provider.workdir(world.bot_id) / "open_trade.json").unlink()
    await provider.restart(world.bot_id)
    await wait_async(lambda: _has_event(world, "position_adopted"), 30, "adoption")
    await world.subscribed(30)
    for _ in range(20):
        if not _position(world):
            break
        await _candle(world)
    assert not _position(world), "the adopted position never exited"
    assert _legs(world, "en") == entries_before, "the restarted bot opened a second position"
    assert not world.exchange_account().open_orders(), "orphan orders left on the exchange"
    adopted = (await world.events("position_adopted"))[0]
    seq = int(adopted["message"].split("(trade ")[1].split(")")[0])
    assert any(
        parse_order_link_id(o["orderLinkId"]).trade_seq == seq
        for o in world.exchange_orders()
        if parse_order_link_id(o["orderLinkId"]).leg == "ex"
    )

    async def trade_reported() -> bool:
        rows = await world.reported_trades()
        return any(r["report_id"] == f"trade:{seq}" for r in rows)

    await wait_async(trade_reported, 15, "the adopted trade reported")
    expected = {t["seq"]: t for t in trades_from_executions(world.exchange_executions())}
    row = next(r for r in await world.reported_trades() if r["report_id"] == f"trade:{seq}")
    assert (
        row["entry_price"].normalize(),
        row["exit_price"].normalize(),
        row["fees"].normalize(),
    ) == (expected[seq]["entry_price"], expected[seq]["exit_price"], expected[seq]["fees"])

    workdir = provider.workdir(world.bot_id)
    assert workdir.exists()
    assert await provider.stop(world.bot_id, timeout_s=30) == "stopped"
    assert not workdir.exists(), "a stopped bot left files behind"
    assert await _lifecycle(world) == "stopped"
    deployments = await world.sql("SELECT outcome FROM deployments WHERE bot_id = $1", world.bot_id)
    assert [d["outcome"] for d in deployments] == ["stopped"]


def _legs(world: World, leg: str) -> int:
    return sum(
        1 for o in world.exchange_orders() if parse_order_link_id(o["orderLinkId"]).leg == leg
    )


async def _is(world: World, state: str) -> bool:
    return await _lifecycle(world) == state


async def _has_event(world: World, kind: str) -> bool:
    return bool(await world.events(kind))


async def test_stop_with_close_positions_closes_the_position_first(
    world: World,
    provider: LocalProvider,
) -> None:
    await provider.deploy(world.bot_id)
    await online_with_a_position(world, provider)
    assert await provider.stop(world.bot_id, close_positions=True, timeout_s=30) == "stopped"
    assert not _position(world), "stop with close_positions left the position open"
    assert not provider.workdir(world.bot_id).exists()
    trades = await world.reported_trades()
    assert trades and trades[-1]["exit_reason"] == "stop"
