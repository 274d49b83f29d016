"""The demo bot of `plutarc up`: the demo user's MA-cross bot on the local exchange, set to
run; the deployer part (the supervisor) deploys it like any other bot.

Idempotent across runs: the demo user's API key (the exchange's default account), strategy and
bot are created once and reused. On Ctrl-C the demo bot is stopped (positions closed) and
the part waits for it to reach `stopped`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from backend.runtime.errors import ApiError
from infra.providers.base import Backend

DEMO_TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "templates" / "ma_cross.json"
DEMO_BOT_NAME = "Demo MA cross"
DEMO_KEY_LABEL = "Local exchange (demo account)"
SETTLED = {"start": ("online", "paused", "error"), "stop": ("stopped", "error")}


class DemoBotPart:
    """A `plutarc up` part: needs the facts dsn, demo_user_id and exchange, and the deployer."""

    name = "demo bot"

    def __init__(self, template_path: Path = DEMO_TEMPLATE, settle_s: float = 30.0) -> None:
        self.template_path = template_path
        self.settle_s = settle_s
        self.backend: Backend | None = None
        self.bot_id: int | None = None
        self.user_id: int | None = None

    async def start(self, up: Any) -> list[str]:
        facts = up.facts
        if "exchange" not in facts or "demo_user_id" not in facts:
            return ["demo bot: skipped (needs the local exchange and the demo user)"]
        exchange, user_id = facts["exchange"], facts["demo_user_id"]
        # the exchange part has recorded the local exchange's endpoint for bot configs
        self.backend = await Backend.connect(facts["dsn"])
        self.user_id = user_id
        key_id = await self._api_key(user_id, exchange.config.api_key, exchange.config.api_secret)
        strategy_id = await self._strategy(user_id)
        self.bot_id = bot_id = await self._bot(user_id, strategy_id, key_id)
        lifecycle = await self._settle("start")
        workdir = up.settings.data_dir / "bots" / f"bot-{bot_id}"
        return [f"demo bot: {DEMO_BOT_NAME!r} (bot {bot_id}) {lifecycle}, deployed locally by "
                f"the deployer; log {workdir / 'bot.log'}"]

    async def stop(self) -> None:
        if self.backend is not None and self.bot_id is not None:
            with contextlib.suppress(ApiError):
                await self.backend.as_user(self.user_id or 0, "mutation", "bots:setDesiredState",
                                           {"bot_id": self.bot_id, "state": "stop"})
            await self._settle("stop")
        if self.backend is not None:
            await self.backend.close()

    async def _settle(self, phase: str) -> str:
        """Wait (at most `settle_s`) until the supervisor has taken the bot where asked."""
        assert self.backend is not None and self.bot_id is not None
        deadline = time.monotonic() + self.settle_s
        while True:
            lifecycle = (await self.backend.bot(self.bot_id))["lifecycle"]
            if lifecycle in SETTLED[phase] or time.monotonic() > deadline:
                return lifecycle
            await asyncio.sleep(0.1)

    async def _one(self, sql: str, *params: Any) -> Any:
        assert self.backend is not None
        return await self.backend.runtime.pool.fetchval(sql, *params)

    async def _api_key(self, user_id: int, api_key: str, api_secret: str) -> int:
        found = await self._one(
            "SELECT id FROM api_keys WHERE user_id = $1 AND exchange = 'local' AND label = $2",
            user_id,
            DEMO_KEY_LABEL,
        )
        if found:
            return found
        assert self.backend is not None
        row = await self.backend.as_user(
            user_id,
            "mutation",
            "apiKeys:add",
            {
                "exchange": "local",
                "label": DEMO_KEY_LABEL,
                "api_key": api_key,
                "api_secret": api_secret,
            },
        )
        return row["id"]

    async def _strategy(self, user_id: int) -> int:
        template = json.loads(self.template_path.read_text())
        found = await self._one(
            "SELECT id FROM strategies WHERE user_id = $1 AND name = $2 AND archived_at IS NULL",
            user_id,
            template["name"],
        )
        if found:
            return found
        assert self.backend is not None
        row = await self.backend.as_user(
            user_id, "mutation", "strategies:create", {"template": template}
        )
        return row["id"]

    async def _bot(self, user_id: int, strategy_id: int, key_id: int) -> int:
        backend = self.backend
        assert backend is not None
        bot_id = await self._one(
            "SELECT id FROM bots WHERE user_id = $1 AND name = $2", user_id, DEMO_BOT_NAME
        )
        if not bot_id:
            row = await backend.as_user(
                user_id,
                "mutation",
                "bots:create",
                {
                    "name": DEMO_BOT_NAME,
                    "strategy_id": strategy_id,
                    "api_key_id": key_id,
                    "provider": "local",
                    "region": "local",
                },
            )
            return row["id"]
        bot = await backend.bot(bot_id)
        if bot["lifecycle"] in ("stopped", "error"):  # else the supervisor adopts what runs
            await backend.as_user(
                user_id, "mutation", "bots:setDesiredState", {"bot_id": bot_id, "state": "run"}
            )
        return bot_id
