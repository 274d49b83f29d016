"""The ``local`` provider: each bot is a process on this machine (`python -m bot`).

The bot's token and data key reach it through its environment only (never its command line,
never a file); its working directory is ``<data dir>/bots/bot-<id>`` (mode 0700) and holds its
outbox, cached config, guard memory, market-data cache (``XDG_CACHE_HOME``) and log.
`remove` deletes that directory: a stopped bot leaves nothing behind — except undelivered
reports (the outbox alone is kept, and the next deployment, started in the same directory,
delivers them).

Instance ids are ``local:<pid>``. The credentials of a running deployment are kept in memory
only, so a crashed process is started again on the same deployment (`restart`); a supervisor
restarted while bots run adopts their processes by pid (`adopt`, checked against the
process's command line) and watches them by polling, since they are not its children.
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
from bot.outbox import Outbox
from infra.providers.base import Launch, Provider

OUTBOX_FILES = ("outbox.sqlite", "outbox.sqlite-wal", "outbox.sqlite-shm")
POLL_S = 0.2


@dataclass
class _Instance:
    launch: Launch | None  # None for an adopted process: its credentials are not known here
    pid: int
    process: asyncio.subprocess.Process | None  # None for an adopted process


class LocalProvider(Provider):
    """Bot processes on this machine; see the module docstring."""

    name = "local"

    def __init__(
        self,
        api_url: str,
        data_dir: Path,
        command: list[str] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.api_url = api_url
        self.root = Path(data_dir) / "bots"
        self.command = command or [sys.executable, "-m", "bot"]
        self.extra_env = extra_env or {}
        self.instances: dict[int, _Instance] = {}

    def workdir(self, bot_id: int) -> Path:
        return self.root / f"bot-{bot_id}"

    async def start(self, launch: Launch) -> str:
        process = await self._spawn(launch)
        self.instances[launch.bot_id] = _Instance(launch, process.pid, process)
        return f"local:{process.pid}"

    async def restart(self, bot_id: int) -> str | None:
        instance = self.instances.get(bot_id)
        if instance is None or instance.launch is None:
            return None
        return await self.start(instance.launch)

    async def _spawn(self, launch: Launch) -> asyncio.subprocess.Process:
        workdir = self.workdir(launch.bot_id)
        workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = {
            **os.environ,
            **self.extra_env,
            TOKEN_ENV: launch.token,
            DATA_KEY_ENV: launch.data_key,
            "XDG_CACHE_HOME": str(workdir / "cache"),
        }
        for name in (f"{TOKEN_ENV}_FILE", f"{DATA_KEY_ENV}_FILE"):
            env.pop(name, None)
        log = open(workdir / "bot.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            return await asyncio.create_subprocess_exec(
                *self.command, "--backend", self.api_url, "--workdir", str(workdir),
                env=env, cwd=workdir, stdin=asyncio.subprocess.DEVNULL, stdout=log,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            )
        finally:
            log.close()

    async def adopt(self, bot_id: int, instance_id: str) -> bool:
        instance = self.instances.get(bot_id)
        if instance is not None and f"local:{instance.pid}" == instance_id:
            return _alive(instance.pid)
        pid = _pid(instance_id)
        if pid is None or not _alive(pid) or str(self.workdir(bot_id)) not in _cmdline(pid):
            return False
        self.instances[bot_id] = _Instance(None, pid, None)
        return True

    async def wait(self, bot_id: int) -> int | None:
        instance = self.instances[bot_id]
        if instance.process is not None:
            return await instance.process.wait()
        while _alive(instance.pid):
            await asyncio.sleep(POLL_S)
        return None

    async def terminate(self, bot_id: int, grace_s: float = 10.0) -> int | None:
        instance = self.instances.get(bot_id)
        if instance is None:
            return None
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(instance.pid, sig)
            try:
                return await asyncio.wait_for(self.wait(bot_id), wait_s)
            except TimeoutError:
                continue
        return None

    async def kill(self, bot_id: int) -> None:
        """SIGKILL the bot's process: a crash, for tests and operators."""
        instance = self.instances[bot_id]
        with contextlib.suppress(ProcessLookupError):
            os.kill(instance.pid, signal.SIGKILL)

    async def remove(self, bot_id: int) -> str | None:
        self.instances.pop(bot_id, None)
        workdir = self.workdir(bot_id)
        if not workdir.exists():
            return None
        waiting = _undelivered(workdir)
        if not waiting:
            shutil.rmtree(workdir, ignore_errors=True)
            return None
        for entry in workdir.iterdir():
            if entry.name in OUTBOX_FILES:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        return (f"{waiting} undelivered reports kept in {workdir / OUTBOX_FILES[0]} (nothing "
                "else); the next deployment of this bot delivers them")

    def last_lines(self, bot_id: int, count: int = 20) -> list[str]:
        log = self.workdir(bot_id) / "bot.log"
        try:
            with log.open("rb") as f:
                f.seek(max(0, log.stat().st_size - 16_384))
                tail = f.read().decode(errors="replace").splitlines()
        except OSError:
            return []
        return tail[-count:]

    async def close(self) -> None:
        self.instances.clear()


def _undelivered(workdir: Path) -> int:
    path = workdir / OUTBOX_FILES[0]
    if not path.exists():
        return 0
    outbox = Outbox(path)
    try:
        return len(outbox)
    finally:
        outbox.close()


def _pid(instance_id: str | None) -> int | None:
    if not instance_id or not instance_id.startswith("local:"):
        return None
    text = instance_id.removeprefix("local:")
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (exited, not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
