"""One rate budget per exchange account: the backend gives bots on one API key a share of
the account's per-UID limits (`bot:config`'s `rate_share`, live); two bots' REST clients on
one account bursting together get no 10006 with their shares, where each using the whole
budget (as a bot alone does) gets 10006 from the local exchange's per-UID limits."""

from __future__ import annotations

import asyncio

from backend.client import Client
from bot.bybit.errors import TOO_MANY_VISITS, ApiError
from bot.bybit.rest import BybitRest
from bot.bybit.retry import RetryPolicy
from bot.bybit.signing import Credentials
from tests.e2e.harness import World, template, wait_async

BURST = 40  # per client, on /v5/order/realtime (50 per second per UID)


async def burst(world: World, share: float) -> int:
    """Two clients on a fresh account each send BURST signed requests at once with `share`
    of the limits; the number of 10006 answers."""
    account = await world.admin.create_account(balance="1000")
    creds = Credentials(account["apiKey"], account["apiSecret"])
    clients = [BybitRest(world.exchange.rest_url, creds, ca=world.exchange.ca_pem,
                         retry=RetryPolicy(attempts=1)) for _ in range(2)]
    refused = 0

    async def one(rest: BybitRest) -> None:
        nonlocal refused
        try:
            await rest.get("/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"},
                           signed=True)
        except ApiError as exc:
            assert exc.ret_code == TOO_MANY_VISITS, exc
            refused += 1

    try:
        for rest in clients:
            rest.limiter.set_share(share)
        await asyncio.gather(*(one(rest) for rest in clients for _ in range(BURST)))
    finally:
        for rest in clients:
            await rest.aclose()
    return refused


async def test_bots_on_one_key_share_its_rate_budget_and_never_get_10006(world: World) -> None:
    await world.deploy()
    key_id = (await world.call("query", "bots:get", {"bot_id": world.bot_id}))["api_key_id"]
    eth = await world.call("mutation", "strategies:create",
                           {"template": {**template(name="eth"), "symbol": "ETHUSDT"}})
    second = await world.call("mutation", "bots:create", {
        "name": "second", "strategy_id": eth["id"], "api_key_id": key_id})
    begun = await world.backend.system("bots:beginDeployment", {"bot_id": second["id"]})
    async with Client(world.server.url, world.token) as first, \
            Client(world.server.url, begun["token"]) as other:
        mine = first.subscribe("bot:config", {})
        assert (await anext(mine))["rate_share"] == 0.5
        assert (await anext(other.subscribe("bot:config", {})))["rate_share"] == 0.5
        await world.call("mutation", "bots:setDesiredState",
                         {"bot_id": second["id"], "state": "stop"})
        assert (await asyncio.wait_for(anext(mine), 15))["rate_share"] == 1.0
    bot = world.start_bot()  # the real bot's heartbeats publish what the exchange said
    await asyncio.wait_for(bot.ready.wait(), 20)

    async def headroom_shown() -> bool:
        keys = await world.call("query", "rateBudget:headroom", {})
        return any(e["path"] == "/v5/position/list" and e["window_limit"] == 50
                   for k in keys if k["api_key_id"] == key_id for e in k["endpoints"])

    await wait_async(headroom_shown, 15, "the key's headroom")
    assert await burst(world, 1.0) > 0  # each alone would use the whole budget: 10006
    assert await burst(world, 0.5) == 0  # sharing it, the burst waits instead
