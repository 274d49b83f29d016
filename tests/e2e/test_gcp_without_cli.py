"""A `gcp` bot on a machine without the Pulumi CLI (as here): the supervisor runs the real
Automation API path up to the CLI check, and the deployment ends in `error` with a message
saying what to install; nothing else changes (no instance, no file, no other bot touched)."""

from __future__ import annotations

import os
import sys

import pytest

from infra.gcp.provider import GcpProvider
from tests.e2e.conftest import Supervised
from tests.e2e.harness import World, wait_async


async def test_a_gcp_bot_without_the_pulumi_cli_ends_in_error_saying_what_to_install(
    world: World, supervised: Supervised, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))  # surely no `pulumi` here
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj-1")
    await world.set_desired("stop")
    await world.call("mutation", "bots:update", {
        "bot_id": world.bot_id, "provider": "gcp", "region": "asia-southeast1"})
    await world.set_desired("run")
    gcp = GcpProvider.from_env(supervised.data_dir, world.backend)
    await supervised.start(extra={"gcp": gcp})

    async def errored() -> bool:
        return (await world.backend.bot(world.bot_id))["lifecycle"] == "error"

    await wait_async(errored, 30, "the gcp bot in error")
    bot = await world.call("query", "bots:get", {"bot_id": world.bot_id})
    assert "Pulumi CLI" in bot["error_message"] and "install" in bot["error_message"]
    assert [(d["provider"], d["region"], d["outcome"]) for d in bot["deployments"]] == [
        ("gcp", "asia-southeast1", "failed")]
    assert not (supervised.data_dir / "gcp").exists() and not gcp.stacks
    assert await world.backend.runtime.pool.fetchval(
        "SELECT count(*) FROM bot_tokens WHERE bot_id = $1 AND revoked_at IS NULL",
        world.bot_id) == 0
