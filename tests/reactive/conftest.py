"""Fixtures for the reactive tests: a scratch PostgreSQL database per test module.

The server comes from PLUTARC_TEST_PG (an admin DSN; default: the local PostgreSQL at
127.0.0.1:5432, user postgres, database test). Each module gets its own database, dropped
afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import pytest_asyncio

ADMIN_DSN = os.environ.get("PLUTARC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _with_database(dsn: str, name: str) -> str:
    base, _, query = dsn.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


async def _admin(sql: str) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    """DSN of a fresh, empty database, dropped after the module's tests."""
    name = f"reactive_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(ADMIN_DSN, name)
    finally:
        asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest_asyncio.fixture
async def conn(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the module's database."""
    connection = await asyncpg.connect(dsn)
    try:
        yield connection
    finally:
        await connection.close()


from tests.reactive.capture_support import notices  # noqa: E402, F401 (a fixture for every module)
