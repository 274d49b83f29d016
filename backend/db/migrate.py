"""Apply the versioned schema migrations (Tortoise's migration engine) and the change-capture triggers.

`plutarc db migrate` and the main job call `migrate(dsn)`; developers create a new migration
after changing backend/models with `plutarc db makemigrations NAME`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import asyncpg
from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from backend.db.tortoise_config import tortoise_config

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, str, str], object]


async def migrate(dsn: str, progress: ProgressFn | None = None) -> None:
    """Bring the database at `dsn` to the newest schema, then (re)install change capture."""
    try:
        await tortoise_migrate(config=tortoise_config(dsn), progress=progress)
    finally:
        await Tortoise.close_connections()
    await install_triggers(dsn)


async def install_triggers(dsn: str) -> None:
    """Create the scheduler's tables, then install the change-capture triggers on every
    application table (idempotent).

    Running after every migration is what makes tables added later get their triggers.
    The scheduler's tables belong to the runtime, not to the app's models: they are plain
    `CREATE TABLE IF NOT EXISTS` (backend/runtime/jobs.py), captured like any other table.
    """
    from backend.reactive.capture import install_capture_all
    from backend.runtime.jobs import install_jobs_schema

    conn = await asyncpg.connect(dsn)
    try:
        await install_jobs_schema(conn)
        await install_capture_all(conn)
    finally:
        await conn.close()
