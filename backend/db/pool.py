"""The asyncpg connection pool the runtime uses, with JSON codecs and the UTC time zone."""

from __future__ import annotations

import json

import asyncpg


async def init_connection(conn: asyncpg.Connection) -> None:
    """JSON codecs: json and jsonb columns read and bind as Python values."""
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections encode/decode json and jsonb as Python values."""
    # a server setting, not a SET: the pool's reset on release would undo a SET
    return await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=init_connection,
        server_settings={"timezone": "UTC"},
    )
