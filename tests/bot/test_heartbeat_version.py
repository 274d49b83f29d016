"""The heartbeat carries the bot's version, and a backend that refuses it stops the bot."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.heartbeat import Heartbeat, bot_version


async def test_a_refused_version_stops_the_bot() -> None:
    sent: list[dict[str, Any]] = []

    async def send(path: str, args: dict[str, Any]) -> dict[str, Any]:
        sent.append(args)
        return {"report_id": args["report_id"], "refused": "bot version 0.0.1 is too old"}

    async def latency() -> float:
        return 1.5

    stop = asyncio.Event()
    heartbeat = Heartbeat(send, latency, "run", interval_s=0.01)
    await asyncio.wait_for(heartbeat.run(stop), 5)
    assert stop.is_set() and heartbeat.refused == "bot version 0.0.1 is too old"
    assert len(sent) == 1 and sent[0]["version"] == bot_version() != "0.0.0"
