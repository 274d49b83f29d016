"""One bot under one supervisor: claim it, deploy or adopt its instance, watch it, restart it
after a crash, and take it to the end of its lifecycle (stopped, or error with the reason).

A runner lives while its supervisor holds the bot's claim and acts on it; it is the only
code that touches that bot's instance (the supervisor starts at most one runner per bot, and
the claim keeps every other supervisor off). It learns lifecycle changes from the
supervisor's live work query (`update`), and the instance's end from the provider (`wait`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from backend.runtime.errors import ApiError, Contention
from bot.main import UNDELIVERED
from infra.providers.base import Launch, Provider, ProviderUnavailable
from infra.supervisor.crashes import Crashes

if TYPE_CHECKING:
    from infra.supervisor.core import Supervisor

log = logging.getLogger(__name__)
RUNNING = frozenset({"deploying", "online", "paused"})
ENDED = frozenset({"stopped", "error"})


class BotRunner:
    """See the module docstring. `item` is the bot's latest row of `deployer:work`."""

    def __init__(self, supervisor: Supervisor, provider: Provider, item: dict[str, Any]) -> None:
        self.sup, self.provider, self.item = supervisor, provider, item
        self.bot_id: int = item["bot_id"]
        self.backend = supervisor.backend
        self.crashes = Crashes(supervisor.options.crash_policy)
        self.changed = asyncio.Event()

    def update(self, item: dict[str, Any] | None) -> None:
        """The bot's new work row (None: it left the work list: stopped, nothing open)."""
        self.item = item or {**self.item, "lifecycle": "stopped", "deployment_id": None}
        self.changed.set()

    @property
    def lifecycle(self) -> str:
        return self.item["lifecycle"]

    # the run --------------------------------------------------------------------------------

    async def run(self) -> None:
        if not await self.sup.claim(self.bot_id):
            return
        try:
            if self.item["deployment_id"] is None:
                if self.lifecycle != "provisioning" or not await self._deploy(restart=False):
                    return
            elif not await self.provider.adopt(self.bot_id, self.item["instance_id"]):
                await self._instance_gone_while_away()
                if await self._settled():
                    return
            else:
                self.crashes.started(time.monotonic())
            await self._watch()
        finally:
            if await self.backend.open_deployment(self.bot_id) is None:
                await self.sup.release(self.bot_id)

    async def _settled(self) -> bool:
        return await self.backend.open_deployment(self.bot_id) is None

    async def _deploy(self, restart: bool) -> bool:
        """Open a deployment and start its instance; False (bot in error) when it cannot."""
        try:
            async with self.sup.deploying:
                begun = await self.backend.system(
                    "bots:beginDeployment", {"bot_id": self.bot_id, "restart": restart})
        except Contention:
            raise  # not the bot's fault: the supervisor's sweep tries again
        except ApiError as exc:
            await self._mark("error", f"could not deploy: {exc.message}")
            return False
        launch = Launch(self.bot_id, begun["deployment_id"], begun["region"], begun["token"],
                        begun["data_key"])
        try:
            instance_id = await self.provider.start(launch)
        except (ProviderUnavailable, OSError) as exc:
            await self._end(begun["deployment_id"], "failed", f"{self.provider.name}: {exc}")
            return False
        self.crashes.started(time.monotonic())
        target = "deploying" if not restart else self.lifecycle
        await self._mark(target, f"instance {instance_id} starting", instance_id)
        return True

    async def _watch(self) -> None:
        """Until the instance is gone for good."""
        while True:
            exited = asyncio.ensure_future(self.provider.wait(self.bot_id))
            try:
                while not exited.done() and not self._asked_to_end():
                    self.changed.clear()
                    changed = asyncio.ensure_future(self.changed.wait())
                    await asyncio.wait({exited, changed}, return_when=asyncio.FIRST_COMPLETED)
                    changed.cancel()
                if not exited.done():
                    await self._finish(await self._wait_or_end(exited))
                    return
            finally:
                if not exited.done():
                    exited.cancel()
            code = exited.result()
            bot = await self.backend.bot(self.bot_id)  # the exit may be ahead of the live query
            self.item = {**self.item, "lifecycle": bot["lifecycle"]}
            if self._asked_to_end():
                await self._finish(code)
                return
            if not await self._crashed(code):
                return

    def _asked_to_end(self) -> bool:
        return self.lifecycle == "stopping" or self.lifecycle in ENDED

    async def _wait_or_end(self, exited: asyncio.Future[int | None]) -> int | None:
        """The exit code of an instance asked to stop: it exits by itself (positions closed,
        reports flushed) unless it takes longer than the stop timeout."""
        if self.lifecycle in ENDED:  # error (or a stop of an errored bot): end it now
            return await self.provider.terminate(self.bot_id)
        try:
            return await asyncio.wait_for(exited, self.sup.options.stop_timeout_s)
        except TimeoutError:
            await self.backend.event(
                self.bot_id, "deployment", f"the bot did not exit within "
                f"{self.sup.options.stop_timeout_s:.0f}s of its stop: ending it", "warning")
            return await self.provider.terminate(self.bot_id)

    async def _finish(self, code: int | None) -> None:
        """The instance has ended after a stop (or in error): clean up and close the record."""
        kept = await self.provider.remove(self.bot_id)
        if kept:
            await self.backend.event(self.bot_id, "residual_data", kept, "warning")
        deployment = await self.backend.open_deployment(self.bot_id)
        if deployment is None:
            return
        if code in (0, UNDELIVERED) or (code is None and self.lifecycle != "error"):
            outcome, detail = "stopped", ("reports undelivered, kept" if kept else None)
        else:
            outcome, detail = "failed", self._exit_detail(code)
        if self.lifecycle in ENDED:
            outcome = "failed" if self.lifecycle == "error" else outcome
        await self._end(deployment["id"], outcome, detail)

    async def _crashed(self, code: int | None) -> bool:
        """The instance ended while it should run: restart it after the backoff (True), or
        give up with the bot in error (False)."""
        delay = self.crashes.record(time.monotonic())
        lines = self.provider.last_lines(self.bot_id)
        if delay is None:
            reason = (f"{self.crashes.recent} crashes in "
                      f"{self.sup.options.crash_policy.window_s / 60:.0f} minutes; last: "
                      f"{self._exit_detail(code)}" + (f": {lines[-1]}" if lines else ""))
            await self.backend.event(self.bot_id, "crashed", reason, "error", {"log": lines})
            await self.provider.remove(self.bot_id)
            deployment = await self.backend.open_deployment(self.bot_id)
            if deployment is not None:
                await self._end(deployment["id"], "failed", reason)
            return False
        await self.backend.event(
            self.bot_id, "crashed", f"{self._exit_detail(code)} without a stop; restarting in "
            f"{delay:g}s (crash {self.crashes.recent} of {self.sup.options.crash_policy.limit} "
            "allowed in the window)", "warning", {"log": lines[-5:]})
        self.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._until_asked_to_end(), delay)
        if self._asked_to_end():
            await self._finish(code)
            return False
        instance_id = await self.provider.restart(self.bot_id)
        if instance_id is None:
            return await self._deploy(restart=True)
        self.crashes.started(time.monotonic())
        await self._mark(self.lifecycle, "restarted after a crash", instance_id)
        await self.backend.event(self.bot_id, "restarted",
                                 f"bot restarted after a crash as {instance_id}")
        return True

    async def _until_asked_to_end(self) -> None:
        while not self._asked_to_end():
            self.changed.clear()
            await self.changed.wait()

    async def _instance_gone_while_away(self) -> None:
        """Adoption found no instance (the supervisor was down when it ended)."""
        if self.lifecycle in RUNNING:
            await self.backend.event(self.bot_id, "deployment", "the bot's instance was gone "
                                     "when its supervisor started: starting it again", "warning")
            await self._deploy(restart=True)
        else:
            await self._finish(None)

    # records --------------------------------------------------------------------------------

    @staticmethod
    def _exit_detail(code: int | None) -> str:
        if code is None:
            return "the bot's instance ended"
        if code < 0:
            return f"the bot process was killed by signal {-code}"
        return f"the bot process exited with code {code}"

    async def _mark(self, lifecycle: str, message: str, instance_id: str | None = None) -> None:
        with contextlib.suppress(ApiError):
            await self.backend.system("bots:markLifecycle", {
                "bot_id": self.bot_id, "lifecycle": lifecycle, "message": message,
                "instance_id": instance_id})

    async def _end(self, deployment_id: int, outcome: str, detail: str | None) -> None:
        with contextlib.suppress(ApiError):
            await self.backend.system("bots:endDeployment", {
                "bot_id": self.bot_id, "deployment_id": deployment_id, "outcome": outcome,
                "detail": detail})
