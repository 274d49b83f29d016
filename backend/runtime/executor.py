"""The one executor every SQL statement of a function passes through.

It runs on the connection of the function's transaction, converts rows to dicts, and records
each statement with its parameters (the reactive layer turns those into read sets). `failed`
tells whether a statement raised a database error, which aborts the transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")


@dataclass(frozen=True)
class Statement:
    """One executed statement and the values bound to its parameters."""

    sql: str
    params: tuple[Any, ...]


@dataclass
class Executor:
    """SQL access for one function run. `statements` lists what ran, in order."""

    conn: asyncpg.Connection
    statements: list[Statement] = field(default_factory=list)
    failed: bool = False

    def _record(self, sql: str, params: tuple[Any, ...]) -> None:
        self.statements.append(Statement(sql, params))

    async def _watch(self, pending: Awaitable[T]) -> T:
        try:
            return await pending
        except asyncpg.PostgresError:
            self.failed = True
            raise

    async def fetch(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        """All rows, as dicts."""
        self._record(sql, params)
        return [dict(r) for r in await self._watch(self.conn.fetch(sql, *params))]

    async def fetchrow(self, sql: str, *params: Any) -> dict[str, Any] | None:
        """The first row as a dict, or None."""
        self._record(sql, params)
        row = await self._watch(self.conn.fetchrow(sql, *params))
        return dict(row) if row is not None else None

    async def fetchval(self, sql: str, *params: Any) -> Any:
        """The first column of the first row."""
        self._record(sql, params)
        return await self._watch(self.conn.fetchval(sql, *params))

    async def execute(self, sql: str, *params: Any) -> str:
        """Run a statement; returns PostgreSQL's status tag (e.g. 'UPDATE 1')."""
        self._record(sql, params)
        return await self._watch(self.conn.execute(sql, *params))

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run one statement for each tuple of parameters."""
        for row in rows:
            self._record(sql, row)
        await self._watch(self.conn.executemany(sql, rows))
