"""The Tortoise ORM configuration: one app, `plutarc`, with its models and migrations."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit


def tortoise_url(dsn: str) -> str:
    """Turn a postgresql:// DSN into the asyncpg:// URL Tortoise expects."""
    parts = urlsplit(dsn)
    return urlunsplit(("asyncpg",) + tuple(parts)[1:])


def tortoise_config(dsn: str) -> dict[str, Any]:
    return {
        "connections": {"default": tortoise_url(dsn)},
        "apps": {
            "plutarc": {
                "models": ["backend.models"],
                "migrations": "backend.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }
