"""The `gcp` provider: one Pulumi stack per bot, run through the Automation API with the
inline program of infra/gcp/program.py.

`start` builds the plutarc wheel (infra/gcp/wheel.py), selects or creates the stack
`bot-<id>` of project `plutarc-bots` in the configured state backend and runs `up`; `remove`
runs `destroy` (instance, disk, secrets, service account, bucket, network) and deletes the
stack. On the VM systemd restarts a crashed bot, so `wait` returns only once the bot has
reported that it is stopping (it then flushes and exits).

The Automation API needs the `pulumi` CLI on PATH; without it (or without the settings of
infra/gcp/config.py) `start` raises ProviderUnavailable saying what to install or set, and
the supervisor ends the deployment in error: nothing else changes.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from infra.gcp.config import GcpConfig
from infra.providers.base import Backend, Launch, Provider, ProviderUnavailable

PROJECT = "plutarc-bots"
INSTALL = (
    "the gcp provider needs the Pulumi CLI on PATH (install it: "
    "https://www.pulumi.com/docs/iac/download-install/, then "
    "`pulumi plugin install resource gcp`)"
)
POLL_S = 5.0
FLUSH_GRACE_S = 20.0


class GcpProvider(Provider):
    name = "gcp"

    def __init__(self, config: GcpConfig, work_dir: Path, backend: Backend | None = None) -> None:
        self.config, self.work_dir, self.backend = config, Path(work_dir), backend
        self.stacks: dict[int, object] = {}

    @classmethod
    def from_env(cls, data_dir: Path, backend: Backend | None = None) -> GcpProvider:
        return cls(GcpConfig.from_env(data_dir), Path(data_dir) / "gcp", backend)

    def available(self) -> None:
        """Raise ProviderUnavailable naming what is missing here."""
        if shutil.which("pulumi") is None:
            raise ProviderUnavailable(INSTALL)
        if missing := self.config.missing():
            raise ProviderUnavailable(f"the gcp provider needs {', '.join(missing)} set")

    def _stack(self, bot_id: int, program: object) -> object:
        from pulumi import automation as auto

        settings = auto.ProjectSettings(name=PROJECT, runtime="python",
                                        backend=auto.ProjectBackend(url=self.config.state_backend))
        return auto.create_or_select_stack(
            stack_name=f"bot-{bot_id}", project_name=PROJECT, program=program,
            opts=auto.LocalWorkspaceOptions(project_settings=settings,
                                            work_dir=str(self.work_dir)))

    async def start(self, launch: Launch) -> str:
        self.available()
        from backend.domain.regions import region
        from infra.gcp.program import BotSpec, bot_program
        from infra.gcp.wheel import build_wheel

        wheel, sha256 = await asyncio.to_thread(build_wheel, self.work_dir / "wheels")
        assert self.config.project is not None and self.config.api_url is not None
        place = region("gcp", launch.region)
        if place is None or place["zone"] is None:
            raise ProviderUnavailable(f"gcp has no region {launch.region!r}")
        spec = BotSpec(launch.bot_id, self.config.project, launch.region, place["zone"],
                       self.config.machine_type, self.config.image, self.config.api_url,
                       launch.token, launch.data_key, str(wheel), sha256)
        stack = await asyncio.to_thread(self._stack, launch.bot_id, bot_program(spec))
        await asyncio.to_thread(stack.set_config, "gcp:project",  # type: ignore[attr-defined]
                                _value(self.config.project))
        await asyncio.to_thread(stack.set_config, "gcp:region",  # type: ignore[attr-defined]
                                _value(launch.region))
        result = await asyncio.to_thread(stack.up, on_output=_quiet)  # type: ignore[attr-defined]
        self.stacks[launch.bot_id] = stack
        return f"gcp:{spec.zone}/{result.outputs['instance_name'].value}"

    async def adopt(self, bot_id: int, instance_id: str) -> bool:
        if shutil.which("pulumi") is None or not instance_id.startswith("gcp:"):
            return False
        self.stacks[bot_id] = await asyncio.to_thread(self._stack, bot_id, lambda: None)
        return True

    async def wait(self, bot_id: int) -> int | None:
        """Until the bot reports that it is stopping (then its flush grace)."""
        if self.backend is None:
            await asyncio.Event().wait()
        assert self.backend is not None
        while not await self.backend.runtime.pool.fetchval(
            "SELECT 1 FROM bot_events e JOIN deployments d ON d.bot_id = e.bot_id "
            "AND d.ended_at IS NULL WHERE e.bot_id = $1 AND e.kind = 'stopping' "
            "AND e.at >= d.started_at", bot_id,
        ):
            await asyncio.sleep(POLL_S)
        await asyncio.sleep(FLUSH_GRACE_S)
        return 0

    async def terminate(self, bot_id: int, grace_s: float = 10.0) -> int | None:
        return None  # the instance ends with its stack, in `remove`

    async def remove(self, bot_id: int) -> str | None:
        stack = self.stacks.pop(bot_id, None)
        if stack is None:
            return None
        await asyncio.to_thread(stack.destroy, on_output=_quiet)  # type: ignore[attr-defined]
        await asyncio.to_thread(
            stack.workspace.remove_stack, f"bot-{bot_id}")  # type: ignore[attr-defined]
        return None


def _value(text: str) -> object:
    from pulumi import automation as auto

    return auto.ConfigValue(value=text)


def _quiet(line: str) -> None:
    """Pulumi's progress output is not logged: it could echo resource inputs."""
