"""Throwaway PostgreSQL databases for tests: the server from DATABASE_URL (CI and this
machine run one at 127.0.0.1:5432) or the embedded one; a migrated template database; and
fresh clones of it (`CREATE DATABASE ... TEMPLATE ...`), so tests commit for real (NOTIFY
only fires on commit) without seeing each other's rows. Used by the test kit and the suite."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from backend.db.embedded import start_embedded
from backend.db.migrate import migrate
from backend.reactive.capture import install_capture


def server_dsn() -> str:
    """The server tests run against: DATABASE_URL, else an embedded one in a temp dir."""
    if url := os.environ.get("DATABASE_URL"):
        return url
    return embedded_dsn()


def embedded_dsn() -> str:
    return start_embedded(Path(tempfile.gettempdir()) / f"plutarc-test-{os.geteuid()}")


def with_database(dsn: str, name: str) -> str:
    """The same server, another database."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def create_database(dsn: str, name: str, template: str | None = None) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        clause = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{clause}')
    finally:
        await conn.close()
    return with_database(dsn, name)


async def drop_database(dsn: str, name: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def create_migrated_template(dsn: str) -> str:
    """A new database with every migration applied; returns its name."""
    name = f"plutarc_tmpl_{uuid.uuid4().hex[:10]}"
    await migrate(await create_database(dsn, name))
    return name


async def create_captured(dsn: str, sql: str, tables: Sequence[str]) -> None:
    """Run `sql` (tables and their rows) on the database at `dsn`, then install change capture
    on `tables`, as migrations do for the application's own."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
        for table in tables:
            await install_capture(conn, table)
    finally:
        await conn.close()


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"
