"""Which database to use: DATABASE_URL when set, else the embedded server under the data dir."""

from __future__ import annotations

from backend.config import Settings
from backend.db.embedded import start_embedded


def resolve_dsn(settings: Settings) -> tuple[str, bool]:
    """Return (dsn, embedded?) — starting the embedded server when no URL is configured."""
    if settings.database_url:
        return settings.database_url, False
    return start_embedded(settings.data_dir), True
