"""Runs registered functions: validates arguments, opens the right transaction, retries
mutations on serialization failures, and reports what ran.

Transactions:
- query: READ ONLY, REPEATABLE READ; the snapshot it read (`pg_current_snapshot()`) is its
  version. `run_query_on` runs one inside a caller's snapshot (the reactive batch).
- mutation: SERIALIZABLE; on serialization failure or deadlock the whole function is re-run,
  at most `max_attempts` times with jittered backoff, then 409. Its version is its xid.
- action: no transaction; `ctx.query` / `ctx.mutation` call other functions as the caller.

With `check_results` (tests and `plutarc dev`), every result is checked against the
function's declared result type (backend/runtime/results.py); a mismatch is a 500.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from backend.runtime.clock import Clock, SystemClock
from backend.runtime.context import Auth, Ctx, NoTransaction
from backend.runtime.errors import BadRequest, Conflict, Contention, NotFound
from backend.runtime.executor import Executor, Statement
from backend.runtime.jobs import JobQueue
from backend.runtime.registry import FunctionDef, Kind
from backend.runtime.results import checking_by_default

RETRYABLE = (asyncpg.exceptions.SerializationError, asyncpg.exceptions.DeadlockDetectedError)


@dataclass(frozen=True)
class CallMeta:
    """Facts about the request: its id (for logs) and the client's address."""

    request_id: str = ""
    client: str = ""


@dataclass
class Outcome:
    """The result of one run: its value, its version, and (for queries) what it read."""

    value: Any
    version: str | None = None
    statements: list[Statement] = field(default_factory=list)
    attempts: int = 1
    skipped: bool = False


# Runs first inside a mutation's transaction; False skips the mutation (nothing is written).
# The scheduler claims its job row this way, so claim and effects commit together.
Claim = Callable[[Executor], Awaitable[bool]]


class Runtime:
    """Calls the functions of a set on a connection pool.

    `functions` is the app's own set (backend/runtime/registry.py); `clock` is what the
    scheduler and `ctx.scheduler` read the time from.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        functions: Mapping[str, FunctionDef],
        max_attempts: int = 8,
        *,
        clock: Clock | None = None,
        check_results: bool | None = None,
    ) -> None:
        self.pool = pool
        self.functions = functions
        self.max_attempts = max_attempts
        self.clock: Clock = clock or SystemClock()
        self.check_results = checking_by_default() if check_results is None else check_results

    def lookup_any(self, path: str) -> FunctionDef:
        """Any function at `path`, internal or not (the scheduler's view)."""
        fdef = self.functions.get(path) if isinstance(path, str) else None
        if fdef is None:
            raise NotFound(f"no function {path!r}", field="path")
        return fdef

    def _checked(self, fdef: FunctionDef, value: Any) -> Any:
        if self.check_results:
            fdef.returns.check(value)
        return value

    def lookup(self, kind: Kind, path: str, internal_ok: bool = False) -> FunctionDef:
        """The function at `path`, which must be of `kind` (internal ones only for actions)."""
        if not isinstance(path, str) or ":" not in path:
            raise BadRequest("path must look like 'module:name'", field="path")
        fdef = self.functions.get(path)
        if fdef is None or (fdef.internal and not internal_ok):
            raise NotFound(f"no function {path!r}", field="path")
        if fdef.kind != kind:
            raise BadRequest(f"{path} is a {fdef.kind}, not a {kind}", field="path")
        return fdef

    async def call(
        self, kind: Kind, path: str, raw_args: Any, auth: Auth, meta: CallMeta = CallMeta(),
        internal_ok: bool = False,
    ) -> Outcome:
        """Validate and run one function call."""
        fdef = self.lookup(kind, path, internal_ok)
        args = fdef.args.validate(raw_args)
        if kind == "query":
            return await self.run_query(fdef, args, auth, meta)
        if kind == "mutation":
            return await self.run_mutation(fdef, args, auth, meta)
        return await self.run_action(fdef, args, auth, meta)

    async def run_query(
        self, fdef: FunctionDef, args: dict[str, Any], auth: Auth, meta: CallMeta = CallMeta()
    ) -> Outcome:
        async with self.pool.acquire() as conn:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                snapshot = await conn.fetchval("SELECT pg_current_snapshot()::text")
                executor = Executor(conn)
                ctx = Ctx(auth, executor, request_id=meta.request_id, client=meta.client)
                value = self._checked(fdef, await fdef.fn(ctx, **args))
        return Outcome(value, snapshot, executor.statements)

    async def run_query_on(
        self, executor: Executor, fdef: FunctionDef, args: dict[str, Any], auth: Auth
    ) -> Any:
        """Run a query on `executor`, inside its connection's open read-only, repeatable-read
        transaction; `executor.statements` tells what it read, even when it raised.

        No savepoint: a SQL error aborts the caller's transaction (`executor.failed` says so);
        the reactive batch gives a savepoint only to queries that once failed that way.
        """
        return self._checked(fdef, await fdef.fn(Ctx(auth, executor), **args))

    async def run_mutation(
        self, fdef: FunctionDef, args: dict[str, Any], auth: Auth, meta: CallMeta = CallMeta(),
        claim: Claim | None = None,
    ) -> Outcome:
        for attempt in range(1, self.max_attempts + 1):
            try:
                async with self.pool.acquire() as conn:
                    async with conn.transaction(isolation="serializable"):
                        executor = Executor(conn)
                        if claim is not None and not await claim(executor):
                            return Outcome(None, skipped=True)
                        ctx = Ctx(auth, executor, request_id=meta.request_id, client=meta.client,
                                  scheduler=JobQueue(executor, self))
                        value = self._checked(fdef, await fdef.fn(ctx, **args))
                        xid = await conn.fetchval("SELECT pg_current_xact_id()::text")
                return Outcome(value, xid, executor.statements, attempt)
            except RETRYABLE:
                if attempt == self.max_attempts:
                    break
                await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))
            except asyncpg.exceptions.UniqueViolationError as exc:
                raise Conflict(f"already exists ({exc.constraint_name})") from None
        raise Contention(
            f"{fdef.path} kept conflicting with concurrent writes; "
            f"gave up after {self.max_attempts} attempts"
        )

    async def run_action(
        self, fdef: FunctionDef, args: dict[str, Any], auth: Auth, meta: CallMeta = CallMeta()
    ) -> Outcome:
        async def call_query(path: str, call_args: dict[str, Any] | None = None) -> Any:
            return (await self.call("query", path, call_args, auth, meta, True)).value

        async def call_mutation(path: str, call_args: dict[str, Any] | None = None) -> Any:
            return (await self.call("mutation", path, call_args, auth, meta, True)).value

        ctx = Ctx(
            auth, NoTransaction(), call_query, call_mutation,  # type: ignore[arg-type]
            meta.request_id, meta.client,
        )
        return Outcome(self._checked(fdef, await fdef.fn(ctx, **args)))
