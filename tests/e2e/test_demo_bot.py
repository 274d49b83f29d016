"""`plutarc up`'s demo bot part: the demo user's bot is created, deployed with the local
provider against the local exchange and comes online; stopping it leaves nothing behind; a
second `up` reuses the same bot."""

from __future__ import annotations

from types import SimpleNamespace

from backend.demo import ensure_demo_user
from infra.providers.demo import DemoBotPart
from tests.e2e.harness import World, wait_async


async def test_demo_bot_is_deployed_online_and_stopped_cleanly_twice(
    world: World, tmp_path
) -> None:
    demo_user = await ensure_demo_user(world.dsn, "demo-password")
    up = SimpleNamespace(
        settings=SimpleNamespace(data_dir=tmp_path / "data"),
        facts={
            "dsn": world.dsn,
            "api_url": world.server.url,
            "demo_user_id": demo_user,
            "exchange": world.exchange,
        },
    )
    bot_ids = []
    for _ in range(2):
        part = DemoBotPart()
        lines = await part.start(up)
        assert "running locally" in lines[0]
        bot_ids.append(part.bot_id)

        async def online(bot_id: int = part.bot_id) -> bool:
            return (await world.backend.bot(bot_id))["lifecycle"] == "online"

        await wait_async(online, 30, "the demo bot online")
        workdir = part.provider.workdir(part.bot_id)
        await part.stop()
        assert not workdir.exists()
        rows = await world.sql("SELECT lifecycle FROM bots WHERE id = $1", part.bot_id)
        assert rows[0]["lifecycle"] == "stopped"
    assert bot_ids[0] == bot_ids[1]
