"""The ``local`` provider: each bot is a process on this machine (`python -m bot`).

The bot's token and data key reach it through its environment only (never its command line,
never a file); its working directory is ``<data dir>/bots/bot-<id>`` (mode 0700) and holds its
outbox, cached config and log. `stop` removes that directory: a stopped bot leaves nothing
behind. The credentials of a running deployment are kept in memory so a crashed process can
be started again (`restart`) on the same deployment and adopt its position.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.cli import DATA_KEY_ENV, TOKEN_ENV
from bot.main import UNDELIVERED
from infra.providers.base import Backend, Deployment, Provider


@dataclass
class _Instance:
    deployment: Deployment
    token: str
    data_key: str
    workdir: Path
    process: asyncio.subprocess.Process


class LocalProvider(Provider):
    """Bot processes on this machine; see the module docstring."""

    name = "local"

    def __init__(
        self,
        backend: Backend,
        api_url: str,
        data_dir: Path,
        command: list[str] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(backend)
        self.api_url = api_url
        self.root = Path(data_dir) / "bots"
        self.command = command or [sys.executable, "-m", "bot"]
        self.extra_env = extra_env or {}
        self.instances: dict[int, _Instance] = {}

    def workdir(self, bot_id: int) -> Path:
        return self.root / f"bot-{bot_id}"

    async def deploy(self, bot_id: int) -> Deployment:
        begun = await self.backend.system("bots:beginDeployment", {"bot_id": bot_id})
        workdir = self.workdir(bot_id)
        workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            process = await self._spawn(bot_id, workdir, begun["token"], begun["data_key"])
        except OSError as exc:
            await self.end(bot_id, begun["deployment_id"], "failed", f"could not start: {exc}")
            raise
        deployment = Deployment(bot_id, begun["deployment_id"], f"local:{process.pid}")
        self.instances[bot_id] = _Instance(
            deployment, begun["token"], begun["data_key"], workdir, process
        )
        await self.backend.system(
            "bots:markLifecycle",
            {
                "bot_id": bot_id,
                "lifecycle": "deploying",
                "instance_id": deployment.instance_id,
                "message": f"bot process {process.pid} started",
            },
        )
        return deployment

    async def _spawn(
        self, bot_id: int, workdir: Path, token: str, data_key: str
    ) -> asyncio.subprocess.Process:
        env = {
            **os.environ,
            **self.extra_env,
            TOKEN_ENV: token,
            DATA_KEY_ENV: data_key,
            "XDG_CACHE_HOME": str(workdir / "cache"),
        }
        for name in (f"{TOKEN_ENV}_FILE", f"{DATA_KEY_ENV}_FILE"):
            env.pop(name, None)
        log = open(workdir / "bot.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            return await asyncio.create_subprocess_exec(
                *self.command,
                "--backend",
                self.api_url,
                "--workdir",
                str(workdir),
                env=env,
                cwd=workdir,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()

    def process(self, bot_id: int) -> asyncio.subprocess.Process:
        return self.instances[bot_id].process

    async def kill(self, bot_id: int) -> None:
        """SIGKILL the bot's process (a crash, for tests and the operator)."""
        process = self.instances[bot_id].process
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()

    async def restart(self, bot_id: int) -> Deployment:
        """Start the bot's process again on its open deployment (after a crash)."""
        instance = self.instances[bot_id]
        if instance.process.returncode is None:
            raise RuntimeError(f"bot {bot_id} is still running (pid {instance.process.pid})")
        instance.process = await self._spawn(
            bot_id, instance.workdir, instance.token, instance.data_key
        )
        instance.deployment.instance_id = f"local:{instance.process.pid}"
        await self.backend.system(
            "bots:markLifecycle",
            {
                "bot_id": bot_id,
                "lifecycle": (await self.backend.bot(bot_id))["lifecycle"],
                "instance_id": instance.deployment.instance_id,
            },
        )
        return instance.deployment

    async def stop(
        self, bot_id: int, *, close_positions: bool = True, timeout_s: float = 60.0
    ) -> str:
        await self.request_stop(bot_id, close_positions)
        instance = self.instances.pop(bot_id, None)
        workdir = instance.workdir if instance else self.workdir(bot_id)
        outcome, detail, keep = "stopped", None, False
        if instance is not None:
            code = await _wait_exit(instance.process, timeout_s)
            if code == UNDELIVERED:
                # its outbox is the only copy of those reports: keep it; the next deployment
                # of this bot starts in the same directory and delivers them
                outcome, keep = "failed", True
                detail = f"the bot could not deliver all its reports; they are kept in {workdir}"
            elif code != 0:
                outcome, detail = "failed", f"bot process exited with {code}"
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        open_deployment = await self.backend.open_deployment(bot_id)
        if open_deployment is not None:
            await self.end(bot_id, open_deployment["id"], outcome, detail)
        return outcome

    async def close(self) -> None:
        """Stop watching; running bots keep running (they are separate sessions)."""
        self.instances.clear()


async def _wait_exit(process: asyncio.subprocess.Process, timeout_s: float) -> int:
    """The exit code; SIGTERM after ``timeout_s``, SIGKILL 10 s later."""
    for sig, wait in ((None, timeout_s), (signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
        try:
            return await asyncio.wait_for(process.wait(), wait)
        except TimeoutError:
            continue
    return await process.wait()
