"""`plutarc deployer` as an operator runs it, next to an API it does not share a process with:
it deploys a bot set to run; stopped with SIGTERM it leaves the bot running; started again
it adopts the bot (no second deployment) and takes it to `stopped` on a stop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from infra.providers.local import _alive
from tests.e2e.harness import World, wait_async

PLUTARC = Path(sys.executable).with_name("plutarc")


def _deployer(world: World, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": world.dsn, "PLUTARC_DATA_DIR": str(data_dir)}
    return subprocess.Popen([str(PLUTARC), "deployer", "--api-url", world.server.url], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _lifecycle(world: World, state: str, timeout_s: float) -> None:
    async def reached() -> bool:
        return (await world.backend.bot(world.bot_id))["lifecycle"] == state

    await wait_async(reached, timeout_s, f"the bot {state}")


async def _end(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.to_thread(process.wait, 30)


async def test_the_deployer_command_deploys_survives_a_restart_and_stops_the_bot(
    world: World, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = _deployer(world, data_dir)
    try:
        await _lifecycle(world, "online", 60)
    finally:
        assert await _end(first) == 0
    [deployment] = await world.call("query", "bots:deployments", {"bot_id": world.bot_id})
    pid = int(deployment["instance_id"].removeprefix("local:"))
    try:
        assert _alive(pid), "stopping the deployer stopped the bot"
        second = _deployer(world, data_dir)
        try:
            await asyncio.sleep(3)
            again = await world.call("query", "bots:deployments", {"bot_id": world.bot_id})
            assert [d["id"] for d in again] == [deployment["id"]], "a second instance started"
            await world.set_desired("stop")
            await _lifecycle(world, "stopped", 60)
        finally:
            assert await _end(second) == 0
        assert not _alive(pid)
        assert not (data_dir / "bots" / f"bot-{world.bot_id}").exists()
    finally:
        if _alive(pid):  # the bot runs in its own session: never leave it behind
            os.kill(pid, signal.SIGKILL)
