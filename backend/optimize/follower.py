"""The API side of a search: start the child process (child.py) from a fork server, follow
its pipe in a task of the API's event loop, and report through internal mutations — progress
and the heartbeat (`optimize:report`, which also says whether the run was cancelled), then
the result or the failure (`optimize:finish`).

Why a process: a search is many backtests, which hold the GIL (frontend/backtest_job.py
measured a thread stalling the loop for a whole backtest); the API's loop serves every
client's live queries. The fork server has imported the engine already, and never forks the
threaded API process itself.

Invariant: every run this module starts ends in a `finish` call or a cancel, and its process
group is killed when the task ends, however it ends. A run it could not finish (the API
stopped) is failed by service.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

from backend.optimize import child
from strategy.indicators import Candles

log = logging.getLogger(__name__)
CallFn = Callable[[str, dict[str, Any] | None], Awaitable[Any]]
POLL_S = 0.05
REPORT_S = 0.25  # progress reaches the run (and a cancel reaches the search) this often

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["backend.optimize.preload"])
_tasks: set[asyncio.Task[None]] = set()  # followed searches (a task needs a reference)


async def start(run_id: int, template: dict[str, Any], spec: dict[str, Any],
                candles: Candles, mutation: CallFn) -> None:
    """Start the search of run `run_id` and follow it in the background; `mutation` calls the
    internal mutations (an action's `ctx.mutation`). The start runs in a thread: the first
    one starts the fork server and waits for its preload (backend/optimize/preload.py)."""
    receive, send = _CONTEXT.Pipe(duplex=False)
    lifeline_r, lifeline_w = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=child.main, daemon=False,
                               args=(send, lifeline_r, template, spec, tuple(candles)))
    await asyncio.to_thread(process.start)
    send.close()
    lifeline_r.close()
    task = asyncio.create_task(_follow(run_id, process, receive, lifeline_w, mutation))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def stop_all() -> None:
    """End every search this event loop follows (the API is stopping)."""
    loop = asyncio.get_running_loop()
    mine = [task for task in _tasks if task.get_loop() is loop]
    for task in mine:
        task.cancel()
    await asyncio.gather(*mine, return_exceptions=True)


def _died(process: Any) -> str:
    code = process.exitcode
    how = ("no exit code" if code is None else
           f"killed by signal {-code}" if code < 0 else f"exit code {code}")
    return f"the search process ended without a result ({how})"


async def _follow(run_id: int, process: Any, receive: Connection, lifeline: Connection,
                  mutation: CallFn) -> None:
    async def finish(status: str, **fields: Any) -> None:
        await mutation("optimize:finish", {"run_id": run_id, "status": status, **fields})

    done, next_report = 0, 0.0
    try:
        while True:
            if receive.poll():
                try:
                    kind, *value = await asyncio.to_thread(receive.recv)
                except EOFError:
                    await asyncio.to_thread(process.join, 5)
                    await finish("failed", error=_died(process))
                    return
                if kind == "progress":
                    done = value[0]
                elif kind == "result":
                    await finish("done", result=value[0])
                    return
                else:
                    await finish("failed", error=f"the search failed: {value[0]}")
                    return
                continue
            if not process.is_alive():  # its pool workers may still hold the pipe open
                if receive.poll():
                    continue  # its last words arrived meanwhile
                await finish("failed", error=_died(process))
                return
            if time.monotonic() >= next_report:
                status = await mutation("optimize:report", {"run_id": run_id, "done": done,
                                                            "worker_pid": process.pid})
                if status != "running":  # cancelled by its owner, or failed by service.py
                    return
                next_report = time.monotonic() + REPORT_S
            await asyncio.sleep(POLL_S)
    except asyncio.CancelledError:  # the API stops (service.py): say so while it can
        with contextlib.suppress(Exception):
            await finish("failed", error="the API stopped while the search ran")
        raise
    except Exception as exc:
        log.exception("following search %s failed", run_id)
        with contextlib.suppress(Exception):
            await finish("failed", error=f"the API could not follow the search: "
                                         f"{type(exc).__name__}")
    finally:
        _end(process, receive, lifeline)


def _end(process: Any, receive: Connection, lifeline: Connection) -> None:
    """Kill the search's process group (the child and its pool workers) and close the pipes."""
    lifeline.close()  # the child's guard kills its group when the pipe ends
    if process.pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # in case the child is stuck
    process.join(5)
    receive.close()
