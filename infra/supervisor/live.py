"""An in-process live query: a subscription on the reactive engine, held by a session that
is not a socket. `value` is the query's current result; `changed` is set at every new one.

The supervisor follows its work this way, so that a change of desired state reaches it as
soon as it commits, with no polling loop as the trigger.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from backend.reactive.diff import apply_diff
from backend.reactive.engine import Engine
from backend.reactive.session import ClientSession
from backend.runtime.context import ANONYMOUS, Auth

log = logging.getLogger(__name__)
SUB_ID = "live"


class LiveQuery:
    """`async with LiveQuery(engine, "deployer:work") as live: await live.changed.wait()`."""

    def __init__(self, engine: Engine, path: str, args: dict[str, Any] | None = None,
                 auth: Auth = ANONYMOUS) -> None:
        self.engine, self.path, self.args = engine, path, args or {}
        self.session = ClientSession(self._receive, auth)
        self.value: Any = None
        self.error: dict[str, Any] | None = None
        self.changed = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LiveQuery:
        self.engine.attach(self.session)
        self.engine.subscribe(self.session, SUB_ID, self.path, self.args, internal_ok=True)
        self._writer = asyncio.create_task(self.session.write_forever(), name=f"live-{self.path}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.engine.detach(self.session)
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def _receive(self, text: str) -> None:
        message = json.loads(text)
        for change in message.get("changes", []):
            if "value" in change:
                self.value, self.error = change["value"], None
            elif "diff" in change:
                self.value = apply_diff(self.value, change["diff"])
            elif "error" in change:
                self.error = change["error"]
                log.error("live query %s failed: %s", self.path, change["error"])
        if "seq" in message:
            self.session.ack(message["seq"])
        self.changed.set()
