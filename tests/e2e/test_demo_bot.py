"""`plutarc up`'s demo bot part: the demo user's bot is created and set to run, the supervisor
deploys it against the local exchange and it comes online; stopping it leaves nothing behind;
a second `up` reuses the same bot."""

from __future__ import annotations

from types import SimpleNamespace

from backend.demo import ensure_demo_user
from infra.providers.demo import DemoBotPart
from tests.e2e.conftest import Supervised
from tests.e2e.harness import World


async def test_demo_bot_is_deployed_online_and_stopped_cleanly_twice(
    world: World, supervised: Supervised
) -> None:
    await world.set_desired("stop")  # the world's own bot stays out of the way
    await supervised.start()
    demo_user = await ensure_demo_user(world.dsn, "demo-password")
    up = SimpleNamespace(
        settings=SimpleNamespace(data_dir=supervised.data_dir),
        facts={"dsn": world.dsn, "demo_user_id": demo_user, "exchange": world.exchange},
    )
    bot_ids = []
    for _ in range(2):
        part = DemoBotPart()
        lines = await part.start(up)
        assert ") online, deployed locally" in lines[0], lines
        bot_ids.append(part.bot_id)
        workdir = supervised.data_dir / "bots" / f"bot-{part.bot_id}"
        assert workdir.exists()
        await part.stop()
        assert not workdir.exists()
        rows = await world.sql("SELECT lifecycle FROM bots WHERE id = $1", part.bot_id)
        assert rows[0]["lifecycle"] == "stopped"
    assert bot_ids[0] == bot_ids[1]
