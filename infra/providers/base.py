"""The deployment-provider interface, and the backend calls the supervisor makes.

A provider only starts, watches and ends the instance that runs one bot; the supervisor
(infra/supervisor) decides when, and records every step through the backend's internal
functions (as the system, in-process, never over HTTP):

    provisioning ──start()──▶ deploying ──(first heartbeat)──▶ online ⇄ paused
    online/paused ──(desired stop: the bot closes, flushes, exits)──▶ stopping ──remove()──▶ stopped
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

from backend.db.pool import create_pool
from backend.runtime.context import ANONYMOUS, Auth
from backend.runtime.registry import discover
from backend.runtime.runner import Runtime


class ProviderUnavailable(RuntimeError):
    """The provider cannot run instances from here; the message says what to install or set."""


@dataclass(frozen=True)
class Launch:
    """What an instance needs to start: its deployment and credentials (for it alone)."""

    bot_id: int
    deployment_id: int
    region: str
    token: str
    data_key: str  # base64


class Backend:
    """The function runtime on its own small pool, for the supervisor and the main job."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @classmethod
    async def connect(cls, dsn: str) -> Backend:
        return cls(Runtime(await create_pool(dsn, min_size=1, max_size=6), discover()))

    async def close(self) -> None:
        await self.runtime.pool.close()

    async def system(self, path: str, args: dict[str, Any]) -> Any:
        """An internal mutation, called as the system."""
        return (await self.runtime.call("mutation", path, args, ANONYMOUS, internal_ok=True)).value

    async def system_query(self, path: str, args: dict[str, Any]) -> Any:
        """An internal query, called as the system."""
        return (await self.runtime.call("query", path, args, ANONYMOUS, internal_ok=True)).value

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

    async def event(
        self, bot_id: int, kind: str, message: str, level: str = "info",
        data: dict[str, Any] | None = None,
    ) -> None:
        await self.system("deployer:event", {"bot_id": bot_id, "kind": kind, "message": message,
                                             "level": level, "data": data})


class Provider(abc.ABC):
    """Starts, watches and ends bot instances of one kind (``local``, ``gcp``).

    Every method takes the bot id; a provider keeps what it needs per running instance.
    """

    name: str

    @abc.abstractmethod
    async def start(self, launch: Launch) -> str:
        """Start an instance for the deployment; returns its instance id once it is starting.
        Raises ProviderUnavailable (or OSError) when it cannot."""

    async def restart(self, bot_id: int) -> str | None:
        """Start the instance again on its open deployment (after a crash) if this provider
        still holds its credentials; None when a fresh deployment is needed."""
        return None

    @abc.abstractmethod
    async def adopt(self, bot_id: int, instance_id: str) -> bool:
        """After a supervisor restart: watch the instance if it still runs (True)."""

    @abc.abstractmethod
    async def wait(self, bot_id: int) -> int | None:
        """Return when the instance has ended by itself: its exit code (None if unknown)."""

    @abc.abstractmethod
    async def terminate(self, bot_id: int, grace_s: float = 10.0) -> int | None:
        """End the instance (asking it to flush first, forcing it after ``grace_s``)."""

    @abc.abstractmethod
    async def remove(self, bot_id: int) -> str | None:
        """Delete everything the instance left; returns what had to be kept and why (e.g.
        undelivered reports), None when nothing is left."""

    def last_lines(self, bot_id: int, count: int = 20) -> list[str]:
        """The last lines the instance logged, when the provider can see them."""
        return []

    async def close(self) -> None:
        """Stop watching; instances keep running (they are separate sessions)."""
        return None
