"""The test kit for function authors: a real backend in the test's own event loop.

    from backend.testing import TestBackend
    from backend.functions import notes

    async def test_a_note_is_live() -> None:
        async with TestBackend(modules=[notes]) as t:
            alice = await t.user("alice@example.com")
            feed = await alice.subscribe("notes:mine")
            assert await feed.value() == []
            await alice.mutation("notes:add", {"body": "hi"})
            assert [n["body"] for n in await feed.next_value()] == ["hi"]
            await t.advance(60)             # the clock moves; due jobs and crons run

What it is: a migrated throwaway database on the DATABASE_URL server (or the embedded one),
dropped at the end; the runtime with results checked against their declared types; the
reactive engine with its LISTEN connection; the scheduler on a hand-moved clock. Callers
act as a user (a real session) or a bot (a real bot token); every value they get is the JSON
a client would receive (money as exact strings). Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import Sequence
from datetime import datetime
from types import ModuleType, TracebackType
from typing import Any

from backend.auth.passwords import hash_password
from backend.auth.tokens import create_session, issue_bot_token, resolve
from backend.db.migrate import migrate
from backend.db.pool import create_pool
from backend.reactive.diff import apply_diff
from backend.reactive.engine import Engine
from backend.reactive.session import ClientSession
from backend.runtime import Functions, discover
from backend.runtime.clock import ManualClock
from backend.runtime.context import ANONYMOUS, Auth
from backend.runtime.errors import ApiError
from backend.runtime.executor import Executor
from backend.runtime.jsonvalue import to_jsonable
from backend.runtime.runner import Runtime
from backend.runtime.scheduler import Scheduler
from backend.testing.databases import create_database, drop_database, server_dsn, unique_name

__all__ = ["TEMPLATE_ENV", "Caller", "Subscription", "TestBackend"]
TEMPLATE_ENV = "PLUTARC_TEST_TEMPLATE"
_sub_ids = itertools.count(1)


class Subscription:
    """A live query as a client holds it: its current value and each change pushed."""

    def __init__(self, engine: Engine, session: ClientSession, sub_id: str) -> None:
        self._engine = engine
        self._session = session
        self._id = sub_id
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._current: Any = None
        self._has_value = False
        self.last_diff: Any = None

    def _push(self, change: dict[str, Any]) -> None:
        self._queue.put_nowait(change)

    async def _next(self, timeout: float) -> Any:
        change = await asyncio.wait_for(self._queue.get(), timeout)
        if "error" in change:
            error = ApiError(change["error"]["message"], change["error"].get("field"))
            error.code = change["error"]["code"]
            raise error
        if "value" in change:
            self._current, self.last_diff = change["value"], None
        elif "diff" in change:
            self.last_diff = change["diff"]
            self._current = apply_diff(self._current, change["diff"])
        self._has_value = True
        return self._current

    async def value(self, timeout: float = 10.0) -> Any:
        """The current value (waits for the first one)."""
        if not self._has_value:
            await self._next(timeout)
        while not self._queue.empty():
            await self._next(timeout)
        return self._current

    async def next_value(self, timeout: float = 10.0) -> Any:
        """Wait for the next change and return the whole new value (`last_diff` is the diff
        that was sent, None when the whole value was)."""
        if not self._has_value:
            await self._next(timeout)
        return await self._next(timeout)

    def close(self) -> None:
        """Unsubscribe."""
        self._engine.unsubscribe(self._session, self._id)

    async def expect_no_change(self, within: float = 0.3) -> None:
        """Assert nothing is pushed for `within` seconds."""
        try:
            change = await asyncio.wait_for(self._queue.get(), within)
        except TimeoutError:
            return
        raise AssertionError(f"expected no change, got {change}")


class Caller:
    """Calls functions as one identity (a user, a bot, anonymous, or the system)."""

    def __init__(self, backend: TestBackend, auth: Auth, internal_ok: bool = False) -> None:
        self._backend = backend
        self.auth = auth
        self._internal_ok = internal_ok
        self._session: ClientSession | None = None
        self._subs: dict[str, Subscription] = {}

    async def _call(self, kind: str, path: str, args: dict[str, Any] | None) -> Any:
        outcome = await self._backend.runtime.call(kind, path, args, self.auth,  # type: ignore[arg-type]
                                                   internal_ok=self._internal_ok)
        return json.loads(json.dumps(to_jsonable(outcome.value)))

    async def query(self, path: str, args: dict[str, Any] | None = None) -> Any:
        return await self._call("query", path, args)

    async def mutation(self, path: str, args: dict[str, Any] | None = None) -> Any:
        return await self._call("mutation", path, args)

    async def action(self, path: str, args: dict[str, Any] | None = None) -> Any:
        return await self._call("action", path, args)

    async def subscribe(self, path: str, args: dict[str, Any] | None = None) -> Subscription:
        """Subscribe to a query; read it with `value()` / `next_value()`."""
        if self._session is None:
            self._session = ClientSession(self._deliver, self.auth)
            self._backend.engine.attach(self._session)
            self._backend.tasks.append(asyncio.create_task(self._session.write_forever()))
        sub_id = f"s{next(_sub_ids)}"
        sub = self._subs[sub_id] = Subscription(self._backend.engine, self._session, sub_id)
        self._backend.engine.subscribe(self._session, sub_id, path, args or {})
        return sub

    async def _deliver(self, text: str) -> None:
        message = json.loads(text)
        if message.get("type") != "transition":
            return
        for change in message["changes"]:
            if change["id"] in self._subs:
                self._subs[change["id"]]._push(change)
        assert self._session is not None
        self._session.ack(message["seq"])


class TestBackend:
    """`async with TestBackend(modules=[...]) as t:` — see the module docstring.

    `functions`: the set to serve (default: the app's, `discover()`); `modules`: more
    modules whose functions are served too; `template`: a migrated database to clone (else
    $PLUTARC_TEST_TEMPLATE if set, else a new one is migrated: a few seconds); `clock`
    starts at 2030-01-01 UTC unless given.

    Crons: with the app's functions by default, only the crons of `modules` run (the app's
    housekeeping crons would make every `advance` run them too); with an explicit
    `functions`, all of its crons. `crons=` names them instead.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self, functions: Functions | None = None, modules: Sequence[ModuleType] = (), *,
        template: str | None = None, clock: ManualClock | None = None,
        crons: set[str] | None = None,
    ) -> None:
        extra = Functions.from_modules(*modules)
        self.functions = (discover() if functions is None else functions) | extra
        if crons is None:
            pool = extra if functions is None else self.functions
            crons = {path for path, fdef in pool.items() if fdef.cron is not None}
        self.crons = crons
        self.clock = clock or ManualClock()
        self._template = template or os.environ.get(TEMPLATE_ENV) or None
        self.tasks: list[asyncio.Task[None]] = []
        self._users = itertools.count(1)

    async def __aenter__(self) -> TestBackend:
        self._server = server_dsn()
        self._name = unique_name("plutarc_kit")
        self.dsn = await create_database(self._server, self._name, template=self._template)
        if self._template is None:
            await migrate(self.dsn)
        self.pool = await create_pool(self.dsn, min_size=1, max_size=6)
        self.runtime = Runtime(self.pool, self.functions, clock=self.clock, check_results=True)
        self.engine = Engine(self.runtime, self.dsn)
        await self.engine.start()
        self.scheduler = Scheduler(self.runtime, worker="test-kit", crons=self.crons)
        self.system = Caller(self, ANONYMOUS, internal_ok=True)
        self.anonymous = Caller(self, ANONYMOUS)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.engine.stop()
        await self.pool.close()
        await drop_database(self._server, self._name)

    async def user(self, email: str | None = None) -> Caller:
        """A new user with a real session."""
        email = email or f"user{next(self._users)}@example.com"
        async with self.pool.acquire() as conn:
            user_id = await conn.fetchval(
                "INSERT INTO users (email, password_hash, display_name, created_at) "
                "VALUES ($1, $2, '', now()) RETURNING id", email, hash_password("test-kit-pw"))
            token = await create_session(Executor(conn), user_id, 3600)
        return Caller(self, await resolve(self.pool, token))

    async def bot(self, bot_id: int) -> Caller:
        """The bot `bot_id`, with a freshly issued bot token."""
        async with self.pool.acquire() as conn:
            token = await issue_bot_token(Executor(conn), bot_id)
        return Caller(self, await resolve(self.pool, token))

    async def advance(self, seconds: float) -> list[str]:
        """Move the clock on and run every job and cron now due; the paths of those run."""
        self.clock.advance(seconds)
        return await self.scheduler.run_due()

    async def run_scheduled(self) -> list[str]:
        """Run every job due at the current time; the paths of those run."""
        return await self.scheduler.run_due()

    async def jobs(self, path: str | None = None) -> list[dict[str, Any]]:
        """The scheduled jobs (all, or of one function), oldest first."""
        rows = await self.pool.fetch(
            "SELECT id, path, args, run_at, state, attempts, last_error, cron "
            "FROM scheduled_jobs WHERE $1::text IS NULL OR path = $1 ORDER BY id", path)
        return [dict(r) for r in rows]

    async def sql(self, statement: str, *params: Any) -> list[dict[str, Any]]:
        """Run SQL directly (to set up or look behind the functions). A subscription made
        right after may first show a version from before it: `await t.settle()` first."""
        async with self.pool.acquire() as conn:
            return [dict(r) for r in await conn.fetch(statement, *params)]

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the live queries' version includes every commit made so far (what a
        client gets for a mutation's version; this also covers writes made with `sql`)."""
        async with self.pool.acquire() as conn, conn.transaction():
            marker = int(await conn.fetchval("SELECT pg_current_xact_id()::text"))
        async with asyncio.timeout(timeout):
            while self.engine.version is None or not self.engine.version.includes(marker):
                self.engine.refresh()
                await asyncio.sleep(0.01)

    @property
    def now(self) -> datetime:
        return self.clock.now()
