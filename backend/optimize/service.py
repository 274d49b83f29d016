"""The API process's part in keeping runs honest: when it starts, it fails the runs an earlier
process on this host left running (`optimize:reap` with `starting`); while it runs, it fails
every 15 s the runs whose heartbeat stopped, whichever process followed them; when it stops,
it ends the searches it follows, failed with the reason. No run stays `running` without a
process following it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from backend.optimize import follower
from backend.runtime.context import ANONYMOUS

log = logging.getLogger(__name__)
REAP_EVERY_S = 15.0


async def _reap(runtime: Any, starting: bool) -> None:
    args = {"host": socket.gethostname(), "api_pid": os.getpid(), "starting": starting}
    failed = (await runtime.call("mutation", "optimize:reap", args, ANONYMOUS,
                                 internal_ok=True)).value
    if failed:
        log.warning("failed %d optimization run(s) no process follows any more", failed)


async def _every(runtime: Any, period_s: float) -> None:
    while True:
        await asyncio.sleep(period_s)
        try:
            await _reap(runtime, starting=False)
        except Exception:
            log.exception("reaping optimization runs failed")


def optimize_service(period_s: float = REAP_EVERY_S
                     ) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A service for `create_app(dsn, services=[optimize_service()])` (see the module
    docstring); nothing when the app does not serve `optimize:*`."""

    @contextlib.asynccontextmanager
    async def service(state: Any) -> AsyncIterator[None]:
        runtime = state.runtime
        if "optimize:reap" not in runtime.functions:
            yield
            return
        await _reap(runtime, starting=True)
        task = asyncio.create_task(_every(runtime, period_s))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await follower.stop_all()

    return service
