"""Isolation of live subscriptions over the real WebSocket: a user never sees another user's
rows, a bot token sees only its own bot's config, and changes reach exactly who owns them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backend.client import Client, ClientError
from backend.runtime.jsonvalue import dumps
from tests.domain.conftest import SECRET, SEEN, World


async def next_value(sub: Any, timeout: float = 15) -> Any:
    value = await asyncio.wait_for(anext(sub), timeout)
    SEEN.append(dumps(value))
    return value


async def test_a_user_cannot_subscribe_to_another_users_bot(world: World) -> None:
    async with Client(world.api.url, world.b.token) as bob:
        stolen = bob.subscribe("bots:get", {"bot_id": world.a.bot_id})
        with pytest.raises(ClientError) as failure:
            await next_value(stolen)
        assert failure.value.code in ("not_found", "forbidden")
        trades = bob.subscribe("bots:trades", {"bot_id": world.a.bot_id})
        with pytest.raises(ClientError):
            await next_value(trades)


async def test_each_user_lists_only_their_own_bots_and_sees_only_their_own_changes(world: World) -> None:
    async with Client(world.api.url, world.a.token) as alice, \
            Client(world.api.url, world.b.token) as bob:
        alice_bots = alice.subscribe("bots:list", {})
        bob_bots = bob.subscribe("bots:list", {})
        assert {b["id"] for b in await next_value(alice_bots)} == {world.a.bot_id}
        assert {b["id"] for b in await next_value(bob_bots)} == {world.b.bot_id}
        await alice.mutation("bots:setDesiredState", {"bot_id": world.a.bot_id, "state": "pause"})
        changed = await next_value(alice_bots)
        assert [b["desired_state"] for b in changed] == ["pause"]
        await alice.wait_for_version(alice.last_version)
        await bob.wait_for_version(alice.last_version)
        assert not bob_bots._fresh.is_set(), "bob was sent a change of alice's bot"
        await alice.mutation("bots:setDesiredState", {"bot_id": world.a.bot_id, "state": "run"})
        assert [b["desired_state"] for b in await next_value(alice_bots)] == ["run"]


async def test_a_bot_token_subscribes_only_to_its_own_config_which_never_holds_the_secret(
        world: World) -> None:
    async with Client(world.api.url, world.a.bot_token) as bot, \
            Client(world.api.url, world.a.token) as owner:
        config = bot.subscribe("bot:config", {})
        first = await next_value(config)
        assert first["bot_id"] == world.a.bot_id
        assert SECRET not in dumps(first)
        await owner.mutation("bots:setDesiredState", {"bot_id": world.a.bot_id, "state": "pause"})
        assert (await next_value(config))["desired_state"] == "pause"
        await owner.mutation("bots:setDesiredState", {"bot_id": world.a.bot_id, "state": "run"})
        assert (await next_value(config))["desired_state"] == "run"
        user_view = bot.subscribe("bots:list", {})
        with pytest.raises(ClientError) as failure:
            await next_value(user_view)
        assert failure.value.code == "forbidden"
