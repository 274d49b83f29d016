"""Server-side use of stored API keys: sealing a new secret and unwrapping a key's data key
for the deployment provider (never for a query)."""

from __future__ import annotations

from typing import Any, Protocol

from backend import crypto
from backend.runtime import NotFound


class Fetcher(Protocol):
    async def fetchrow(self, sql: str, *params: Any) -> Any: ...


async def unwrap_data_key(db: Fetcher, api_key_id: int) -> bytes:
    """The data key of API key `api_key_id`, unwrapped with the master key.

    `db` is anything with asyncpg's `fetchrow` (an Executor, a connection or a pool). The
    result goes to the provider, which hands it to the bot by environment or file.
    """
    row = await db.fetchrow(
        "SELECT wrapped_data_key, master_key_id FROM api_keys WHERE id = $1", api_key_id
    )
    if row is None:
        raise NotFound(f"no API key {api_key_id}", field="api_key_id")
    return crypto.unwrap(bytes(row["wrapped_data_key"]), row["master_key_id"])
