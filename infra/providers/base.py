"""The deployment-provider interface and the backend calls every provider makes.

A provider starts and stops the instance that runs one bot. It talks to the backend through
the function runtime (the internal `bots:*` mutations, as the system), never over HTTP:

    provisioning ──deploy()──▶ deploying ──(first heartbeat)──▶ online ⇄ paused
    online/paused ──stop()──▶ stopping ──(instance gone)──▶ stopped

`deploy` opens a deployment (a fresh bot token and the API key's data key, for the instance
only), reports ``deploying`` with its instance id and starts the instance; the bot's first
heartbeat makes it online. `stop` sets the desired state ``stop`` (closing positions when
asked), waits for the bot to flush and exit, removes what the instance left, and records the
deployment's outcome.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

from backend.db.pool import create_pool
from backend.runtime.context import ANONYMOUS, Auth
from backend.runtime.registry import discover
from backend.runtime.runner import Runtime


@dataclass
class Deployment:
    """What a provider knows about one running bot instance."""

    bot_id: int
    deployment_id: int
    instance_id: str


class Backend:
    """The function runtime on its own small pool, for providers and the main job."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @classmethod
    async def connect(cls, dsn: str) -> Backend:
        return cls(Runtime(await create_pool(dsn, min_size=1, max_size=3), discover()))

    async def close(self) -> None:
        await self.runtime.pool.close()

    async def system(self, path: str, args: dict[str, Any]) -> Any:
        """An internal mutation, called as the system."""
        return (await self.runtime.call("mutation", path, args, ANONYMOUS, internal_ok=True)).value

    async def as_user(self, user_id: int, kind: str, path: str, args: dict[str, Any]) -> Any:
        """A function called on behalf of ``user_id`` (the bot's owner)."""
        auth = Auth(kind="user", user_id=user_id)
        return (await self.runtime.call(kind, path, args, auth)).value  # type: ignore[arg-type]

    async def bot(self, bot_id: int) -> dict[str, Any]:
        row = await self.runtime.pool.fetchrow(
            "SELECT id, user_id, name, lifecycle, desired_state, close_positions, provider "
            "FROM bots WHERE id = $1",
            bot_id,
        )
        if row is None:
            raise LookupError(f"no bot {bot_id}")
        return dict(row)

    async def open_deployment(self, bot_id: int) -> dict[str, Any] | None:
        row = await self.runtime.pool.fetchrow(
            "SELECT id, instance_id FROM deployments WHERE bot_id = $1 AND ended_at IS NULL "
            "ORDER BY id DESC LIMIT 1",
            bot_id,
        )
        return dict(row) if row else None


class Provider(abc.ABC):
    """Starts and stops bot instances of one kind (``local``, ``gcp``)."""

    name: str

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @abc.abstractmethod
    async def deploy(self, bot_id: int) -> Deployment:
        """Start an instance for a provisioning bot; returns once it is starting."""

    @abc.abstractmethod
    async def stop(
        self, bot_id: int, *, close_positions: bool = True, timeout_s: float = 60.0
    ) -> str:
        """Stop the bot's instance and clean up; returns the recorded outcome."""

    async def request_stop(self, bot_id: int, close_positions: bool) -> None:
        """Desired state ``stop`` on behalf of the owner, unless already stopping/stopped."""
        bot = await self.backend.bot(bot_id)
        if bot["lifecycle"] in ("stopping", "stopped") and bot["desired_state"] == "stop":
            return
        await self.backend.as_user(
            bot["user_id"],
            "mutation",
            "bots:setDesiredState",
            {"bot_id": bot_id, "state": "stop", "close_positions": close_positions},
        )

    async def end(self, bot_id: int, deployment_id: int, outcome: str, detail: str | None) -> None:
        await self.backend.system(
            "bots:endDeployment",
            {
                "bot_id": bot_id,
                "deployment_id": deployment_id,
                "outcome": outcome,
                "detail": detail,
            },
        )
