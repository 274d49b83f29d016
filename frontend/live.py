"""Live data of one browser tab: a background task per tab holds the subscriptions (and the
polled actions) of the page it shows, and hands their values to the page's state.

Invariant: `_running` holds at most one task per tab (keyed by Reflex's client token); a page
that starts following cancels the tab's previous task, so the subscriptions of the page left
behind end with it (`stop` ends them for pages that follow nothing). When the tab closes,
Reflex cancels the task: its backend client closes and the backend drops the subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from frontend import api

_running: dict[str, asyncio.Task[Any]] = {}


@dataclass(frozen=True)
class Feed:
    """What a page follows: live queries by name, and actions polled every `every_s`."""

    queries: dict[str, tuple[str, dict[str, Any]]]
    polls: dict[str, tuple[str, dict[str, Any], float]] = field(default_factory=dict)


Apply = Callable[[dict[str, Any]], Awaitable[None]]
Fail = Callable[[str, api.DashboardError], Awaitable[None]]


def stop(tab: str) -> None:
    """End the tab's live task, if any (the page shown follows nothing)."""
    task = _running.pop(tab, None)
    if task is not None and task is not asyncio.current_task():
        task.cancel()


def subscriber_tabs() -> int:
    """How many tabs hold live subscriptions now."""
    return len(_running)


@contextlib.contextmanager
def _tab_task(tab: str) -> Iterator[None]:
    """The current task is the tab's live task while the block runs (the previous one ends)."""
    me = asyncio.current_task()
    assert me is not None
    stop(tab)
    _running[tab] = me
    try:
        yield
    finally:
        if _running.get(tab) is me:
            del _running[tab]


async def follow(tab: str, token: str, client_ip: str, feed: Feed, apply: Apply,
                 fail: Fail) -> None:
    """Run until cancelled: every batch of new values goes to `apply` as {name: value}. An
    error of a polled action goes to `fail(name, error)` and polling goes on; an error of a
    live query (an expired session, a bot that is gone) goes to `fail` and ends the task."""
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    with _tab_task(tab):
        async with api.client(token, client_ip) as client:
            pumps = [asyncio.create_task(_pump(name, client.subscribe(path, args), queue))
                     for name, (path, args) in feed.queries.items()]
            pumps += [asyncio.create_task(_poll(name, path, args, every, token, client_ip, queue))
                      for name, (path, args, every) in feed.polls.items()]
            try:
                await _deliver(queue, apply, fail)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)


async def repeat(tab: str, step: Callable[[], Awaitable[None]], every: float) -> None:
    """Run `step` every `every` seconds as the tab's live task, until cancelled (a page
    that polls something other than a function, e.g. the operator's /api/stats)."""
    with _tab_task(tab):
        while True:
            await step()
            await asyncio.sleep(every)


async def _deliver(queue: asyncio.Queue[tuple[str, Any]], apply: Apply, fail: Fail) -> None:
    while True:
        batch = dict([await queue.get()])
        while not queue.empty():  # values that arrived together are applied together
            name, value = queue.get_nowait()
            batch[name] = value
        errors = {k: v for k, v in batch.items() if isinstance(v, _Failure)}
        values = {k: v for k, v in batch.items() if k not in errors}
        if values:
            await apply(values)
        for name, failure in errors.items():
            await fail(name, failure.error)
            if failure.fatal:
                return


@dataclass(frozen=True)
class _Failure:
    error: api.DashboardError
    fatal: bool


async def _pump(name: str, subscription: Any, queue: asyncio.Queue[tuple[str, Any]]) -> None:
    try:
        async for value in subscription:
            await queue.put((name, value))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        await queue.put((name, _Failure(api.readable(exc), fatal=True)))


async def _poll(name: str, path: str, args: dict[str, Any], every: float, token: str,
                client_ip: str, queue: asyncio.Queue[tuple[str, Any]]) -> None:
    while True:
        try:
            await queue.put((name, await api.call("action", path, args, token, client_ip)))
        except api.DashboardError as exc:
            await queue.put((name, _Failure(exc, fatal=exc.expired)))
        await asyncio.sleep(every)
