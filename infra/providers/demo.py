"""The demo bot of `plutarc up`: the demo user's MA-cross bot, deployed with the local provider
against the local exchange.

Idempotent across runs: the demo user's API key (the exchange's default account), strategy and bot are
created once and reused; a deployment left open by a previous run that did not stop cleanly
is closed as failed before the bot is provisioned and deployed again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.providers.base import Backend
from infra.providers.local import LocalProvider

DEMO_TEMPLATE = Path(__file__).resolve().parents[2] / "examples" / "templates" / "ma_cross.json"
DEMO_BOT_NAME = "Demo MA cross"
DEMO_KEY_LABEL = "Local exchange (demo account)"


class DemoBotPart:
    """A `plutarc up` part: needs the facts dsn, api_url, demo_user_id and exchange."""

    name = "demo bot"

    def __init__(self, template_path: Path = DEMO_TEMPLATE) -> None:
        self.template_path = template_path
        self.backend: Backend | None = None
        self.provider: LocalProvider | None = None
        self.bot_id: int | None = None

    async def start(self, up: Any) -> list[str]:
        facts = up.facts
        if "exchange" not in facts or "demo_user_id" not in facts:
            return ["demo bot: skipped (needs the local exchange and the demo user)"]
        exchange, user_id = facts["exchange"], facts["demo_user_id"]
        # the exchange part has recorded the local exchange's endpoint for bot configs
        self.backend = await Backend.connect(facts["dsn"])
        key_id = await self._api_key(user_id, exchange.config.api_key, exchange.config.api_secret)
        strategy_id = await self._strategy(user_id)
        self.bot_id = bot_id = await self._bot(user_id, strategy_id, key_id)
        self.provider = LocalProvider(self.backend, facts["api_url"], up.settings.data_dir)
        deployment = await self.provider.deploy(bot_id)
        workdir = self.provider.workdir(bot_id)
        line = (
            f"demo bot: {DEMO_BOT_NAME!r} (bot {bot_id}) running locally as "
            f"{deployment.instance_id}; log {workdir / 'bot.log'}"
        )
        return [line]

    async def stop(self) -> None:
        if self.provider is not None and self.bot_id is not None:
            await self.provider.stop(self.bot_id, close_positions=True, timeout_s=20)
        if self.backend is not None:
            await self.backend.close()

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
        stale = await backend.open_deployment(bot_id)
        if stale is not None:
            await backend.system(
                "bots:endDeployment",
                {
                    "bot_id": bot_id,
                    "deployment_id": stale["id"],
                    "outcome": "failed",
                    "detail": "the previous plutarc up ended without stopping the bot",
                },
            )
        bot = await backend.bot(bot_id)
        if bot["lifecycle"] != "provisioning":
            await backend.as_user(
                user_id, "mutation", "bots:setDesiredState", {"bot_id": bot_id, "state": "run"}
            )
        return bot_id
