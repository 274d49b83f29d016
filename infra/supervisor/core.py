"""The deployment supervisor: turns every bot's desired state into instances, for every
provider it is given.

It follows `deployer:work` as a live query (a change of desired state reaches it when it
commits), re-reads it every `sweep_s` as a safety net (e.g. a claim that expired because
another supervisor died), and reconciles everything at start: a bot with an open deployment
is adopted if its instance still runs, so a restarted supervisor never starts a second one.

Each bot it acts on gets one `BotRunner`, after the supervisor has claimed it in the database
(`deployer:claim`, a lease renewed every `lease_s / 3`): two supervisors never act on the same
bot. Invariant: `runners` holds at most one live task per bot id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.reactive.engine import Engine
from infra.providers.base import Backend, Provider
from infra.supervisor.crashes import CrashPolicy
from infra.supervisor.live import LiveQuery
from infra.supervisor.runner import BotRunner

log = logging.getLogger(__name__)
WORK = "deployer:work"


@dataclass
class SupervisorOptions:
    lease_s: float = 30.0
    sweep_s: float = 15.0
    stop_timeout_s: float = 60.0
    crash_policy: CrashPolicy = field(default_factory=CrashPolicy)


def supervisor_id(data_dir: Path) -> str:
    """This machine's supervisor identity, kept in the data directory so that a restarted
    supervisor holds the same claims (and adopts the processes it started)."""
    path = Path(data_dir) / "supervisor-id"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"sup-{uuid.uuid4().hex[:16]}\n")
    return path.read_text().strip()


class Supervisor:
    """`await start()`, then `await stop()`; see the module docstring."""

    def __init__(
        self, backend: Backend, engine: Engine, providers: dict[str, Provider], ident: str,
        options: SupervisorOptions | None = None,
    ) -> None:
        self.backend, self.engine, self.providers = backend, engine, providers
        self.ident = ident
        self.options = options or SupervisorOptions()
        self.runners: dict[int, tuple[BotRunner, asyncio.Task[None]]] = {}
        # one deployment opened at a time: concurrent ones only make each other retry
        self.deploying = asyncio.Semaphore(1)
        self._live: LiveQuery | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> Supervisor:
        self._live = await LiveQuery(self.engine, WORK).__aenter__()
        self.reconcile(await self.backend.system_query(WORK, {}))  # the full reconciliation
        self._tasks = [
            asyncio.create_task(self._follow(), name="supervisor-follow"),
            asyncio.create_task(self._every(self.options.sweep_s, self._sweep), name="sweep"),
            asyncio.create_task(self._every(self.options.lease_s / 3, self._renew), name="lease"),
        ]
        return self

    async def stop(self, terminate: bool = False) -> None:
        """Stop acting. Instances keep running (a restarted supervisor adopts them) unless
        `terminate`: then they are asked to exit (positions kept, adopted at the next start)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._live is not None:
            await self._live.__aexit__(None, None, None)
        runners = list(self.runners.values())
        for _, task in runners:
            task.cancel()
        await asyncio.gather(*(t for _, t in runners), return_exceptions=True)
        if terminate:
            for runner, _ in runners:
                await runner.provider.terminate(runner.bot_id)
        for provider in self.providers.values():
            await provider.close()
        self.runners.clear()

    # what to do -------------------------------------------------------------------------

    def reconcile(self, work: list[dict[str, Any]]) -> None:
        """Hand each bot's row to its runner, or start a runner for a bot that needs one."""
        rows = {item["bot_id"]: item for item in work}
        for bot_id, (runner, _) in list(self.runners.items()):
            runner.update(rows.get(bot_id))
        for bot_id, item in rows.items():
            provider = self.providers.get(item["provider"])
            if bot_id in self.runners or provider is None:
                continue
            if item["deployment_id"] is None and item["lifecycle"] != "provisioning":
                continue  # nothing runs and nothing is to start
            runner = BotRunner(self, provider, item)
            task = asyncio.create_task(self._run(runner), name=f"bot-runner-{bot_id}")
            self.runners[bot_id] = (runner, task)

    async def _run(self, runner: BotRunner) -> None:
        try:
            await runner.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("supervising bot %s failed; the sweep will take it up again",
                          runner.bot_id)
        finally:
            current = self.runners.get(runner.bot_id)
            if current is not None and current[0] is runner:
                del self.runners[runner.bot_id]

    async def _follow(self) -> None:
        live = self._live
        assert live is not None
        while True:
            await live.changed.wait()
            live.changed.clear()
            if live.error is None and live.value is not None:
                self.reconcile(live.value)

    async def _sweep(self) -> None:
        self.reconcile(await self.backend.system_query(WORK, {}))

    async def _renew(self) -> None:
        await self.backend.system("deployer:renew",
                                  {"supervisor": self.ident, "lease_s": self.options.lease_s})

    async def _every(self, seconds: float, job: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("supervisor %s failed; again in %.0fs", job.__name__, seconds)

    # claims -----------------------------------------------------------------------------

    async def claim(self, bot_id: int) -> bool:
        return await self.backend.system("deployer:claim", {
            "bot_id": bot_id, "supervisor": self.ident, "lease_s": self.options.lease_s})

    async def release(self, bot_id: int) -> None:
        with contextlib.suppress(Exception):
            await self.backend.system("deployer:release",
                                      {"bot_id": bot_id, "supervisor": self.ident})
