"""End to end, on the real stack (backend with billing on, localstripe, the local exchange,
a running bot): a renewal declined by the card → payment failed → grace period → at its end
the bot over the Free limit is paused, never stopped: its open position is still managed and
closed by its exit rule on the exchange, and it opens nothing new → the payment succeeds with
another card → the bot paused for the plan resumes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from backend.billing.local import LocalStripe
from backend.billing.service import billing_service
from backend.runtime.scheduler import scheduler_service
from tests.billing.support import CARD_DECLINES_CHARGES, CARD_OK, Billing, Trader, renew
from tests.e2e.conftest import close_world, make_world
from tests.e2e.harness import World, wait_async, wait_for

GRACE_S = 5
CRON_S = 10  # billing:expireGrace runs every 10 s


@pytest.fixture
async def paying(db_dsn: str, tmp_path, localstripe: LocalStripe
                 ) -> AsyncIterator[tuple[World, Billing, Trader]]:
    """The e2e world with billing on; its trader on Pro with a second bot (the world's),
    online on its own exchange account; the first bot (made while on Free) keeps its slot."""
    from backend.billing.local import new_webhook_secret

    secret = new_webhook_secret()
    config = localstripe.config(secret, grace_s=GRACE_S)
    services = [scheduler_service(poll_s=0.2), billing_service(config)]  # + the grace cron
    world = await make_world(db_dsn, tmp_path, services=services)
    try:
        localstripe.register_webhook(f"{world.server.url}/api/stripe/webhook", secret)
        billing = Billing(world.server.url, db_dsn, config)
        trader = Trader(billing, world.user_token)
        pm = await asyncio.to_thread(trader.card_id, CARD_OK)
        await world.call("action", "billing:changePlan", {"plan": "pro", "payment_method_id": pm})
        account = await world.admin.create_account(balance="10000")
        key = await world.call("mutation", "apiKeys:add", {
            "exchange": "local", "label": "second", "api_key": account["apiKey"],
            "api_secret": account["apiSecret"]})
        bot = await world.call("mutation", "bots:create", {
            "name": "second bot", "strategy_id": world.strategy_id, "api_key_id": key["id"]})
        world.bot_id, world.uid, world.api_secret = bot["id"], account["uid"], account["apiSecret"]
        yield world, billing, trader
    finally:
        await close_world(world)


async def _status(world: World) -> dict:
    return await world.call("query", "billing:status", {})


async def test_a_lapsed_plan_pauses_the_bot_over_the_limit_which_still_closes_its_position(
        paying: tuple[World, Billing, Trader]) -> None:
    world, billing, trader = paying
    first_bot = (await world.call("query", "bots:list", {}))[0]["id"]
    await world.deploy()
    bot = world.start_bot()
    await asyncio.wait_for(bot.ready.wait(), 20)
    await world.subscribed()
    engine = bot.trader
    for _ in range(40):
        if engine.account.position.size > 0:
            break
        await world.candles(bot, 1)
    assert engine.account.position.size > 0, "the strategy should have opened a position"
    open_seq, entries = engine.trade.seq, len(world.own_orders("en"))

    # The trader's card now declines charges, and the renewal fails.
    declining = await asyncio.to_thread(trader.card_id, CARD_DECLINES_CHARGES)
    await world.call("action", "billing:retryPayment", {"payment_method_id": declining})
    status = await _status(world)
    invoice = await asyncio.to_thread(renew, billing, trader.customer_id(),
                                      status["subscription_id"], 2900)
    assert invoice == "open", "the renewal should have failed"
    failed_at = time.monotonic()

    async def in_grace() -> bool:
        return (await _status(world))["status"] == "past_due"

    await wait_async(in_grace, 10, "the payment_failed webhook")
    status = await _status(world)
    assert status["in_grace"] and status["effective_plan"]["key"] == "pro"
    assert status["grace_until"] and engine.desired_state == "run"
    assert any(e["kind"] == "grace" for e in status["events"])

    async def paused() -> bool:
        rows = await world.sql("SELECT desired_state FROM bots WHERE id = $1", world.bot_id)
        return rows[0]["desired_state"] == "pause"

    await wait_async(paused, GRACE_S + CRON_S + 10, "the bot paused after the grace period")
    assert time.monotonic() - failed_at >= GRACE_S - 0.5, "paused before the grace ended"
    await wait_for(lambda: engine.desired_state == "pause", 10, "the pause reaching the bot")
    first = await world.sql("SELECT desired_state, lifecycle FROM bots WHERE id = $1", first_bot)
    assert first[0]["desired_state"] == "run", "the oldest bot keeps its Free slot"
    mine = await world.sql("SELECT lifecycle FROM bots WHERE id = $1", world.bot_id)
    assert mine[0]["lifecycle"] == "paused"
    assert engine.account.position.size > 0, "the position is still open when paused"

    # Paused, never stopped: the exit rule still closes the position on the exchange.
    for _ in range(10):
        if engine.trade is None:
            break
        await world.candles(bot, 1)
    assert engine.trade is None and engine.account.position.size == 0
    assert any(o["orderLinkId"].split("-")[1] == str(open_seq) for o in world.own_orders("ex"))
    await world.candles(bot, 6)
    assert len(world.own_orders("en")) == entries, "a bot paused for the plan opened a trade"
    events = await world.events("billing")
    assert events and "still managed" in events[0]["message"]

    # The trader pays with another card: Pro again, and the bot paused for it resumes.
    good = await asyncio.to_thread(trader.card_id, CARD_OK)
    status = await world.call("action", "billing:retryPayment", {"payment_method_id": good})
    assert status["status"] == "active" and status["grace_until"] is None
    assert status["effective_plan"]["key"] == "pro" and status["paused_for_plan"] == []
    await wait_for(lambda: engine.desired_state == "run", 10, "the resume reaching the bot")
    kinds = [e["kind"] for e in status["events"]]
    assert "bot_resumed" in kinds and "payment" in kinds
