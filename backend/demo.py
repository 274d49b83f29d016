"""The demo account of local mode: demo@plutarc.local with the password given to `plutarc up`."""

from __future__ import annotations

import asyncpg

from backend.auth.passwords import hash_password

DEMO_EMAIL = "demo@plutarc.local"
DEFAULT_DEMO_PASSWORD = "plutarc-demo"


async def ensure_demo_user(dsn: str, password: str) -> int:
    """Create the demo user, or reset its password to `password`; return its id."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(
            "INSERT INTO users (email, password_hash, display_name, created_at) "
            "VALUES ($1, $2, 'Demo trader', now()) "
            "ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash "
            "RETURNING id",
            DEMO_EMAIL, hash_password(password),
        )
    finally:
        await conn.close()
