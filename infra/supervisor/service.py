"""Where the supervisor runs: as a part of `plutarc up` (on the API's own runtime and reactive
engine, so the process keeps one LISTEN connection), or alone as `plutarc deployer` (its own
pool and engine) for operators whose API runs on several machines."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from backend.db.pool import create_pool
from backend.reactive.engine import Engine
from backend.runtime.registry import discover
from backend.runtime.runner import Runtime
from infra.providers.base import Backend, Provider
from infra.providers.local import LocalProvider
from infra.supervisor.core import Supervisor, SupervisorOptions, supervisor_id


def default_providers(api_url: str, data_dir: Path, backend: Backend) -> dict[str, Provider]:
    """Every provider: `local` processes reach the API at `api_url`; `gcp` instances are
    configured from the environment (infra/gcp/config.py)."""
    from infra.gcp.provider import GcpProvider

    return {"local": LocalProvider(api_url, data_dir),
            "gcp": GcpProvider.from_env(data_dir, backend)}


class SupervisorPart:
    """A `plutarc up` part, after the API and the exchange: needs the facts `app_state`
    (the API's runtime and engine) and `api_url`. On Ctrl-C the bot processes it runs are
    asked to exit (they keep their positions and are adopted or restarted at the next start)."""

    name = "deployer"

    def __init__(self, options: SupervisorOptions | None = None) -> None:
        self.options = options
        self.supervisor: Supervisor | None = None

    async def start(self, up: Any) -> list[str]:
        state, data_dir = up.facts["app_state"], up.settings.data_dir
        backend = Backend(state.runtime)
        providers = default_providers(up.facts["api_url"], data_dir, backend)
        self.supervisor = await Supervisor(
            backend, state.engine, providers, supervisor_id(data_dir), self.options,
        ).start()
        up.facts["supervisor"] = self.supervisor
        return [f"deployer: supervising {', '.join(providers)} bots as {self.supervisor.ident} "
                f"(local bots in {data_dir / 'bots'})"]

    async def stop(self) -> None:
        if self.supervisor is not None:
            await self.supervisor.stop(terminate=True)


async def run_deployer(
    dsn: str, api_url: str, data_dir: Path, stop: asyncio.Event,
    options: SupervisorOptions | None = None,
) -> None:
    """`plutarc deployer`: supervise until `stop` is set; running bots are left running."""
    pool = await create_pool(dsn, min_size=1, max_size=4)
    runtime = Runtime(pool, discover())
    engine = Engine(runtime, dsn)
    await engine.start()
    try:
        backend = Backend(runtime)
        supervisor = await Supervisor(
            backend, engine, default_providers(api_url, data_dir, backend),
            supervisor_id(data_dir), options,
        ).start()
        try:
            await stop.wait()
        finally:
            await supervisor.stop(terminate=False)
    finally:
        await engine.stop()
        await pool.close()
