"""Backend settings read from the environment, with the local-mode defaults documented here.

| variable                    | default                                   | meaning                              |
|-----------------------------|-------------------------------------------|--------------------------------------|
| DATABASE_URL                | unset: embedded PostgreSQL under data dir | postgresql://user@host:port/db       |
| PLUTARC_DATA_DIR            | /var/lib/plutarc as root, else            | embedded database, master key, logs  |
|                             | $XDG_DATA_HOME/plutarc (~/.local/share)   |                                      |
| PLUTARC_SESSION_TTL_S       | 2592000 (30 days)                         | lifetime of a login session          |
| PLUTARC_LOGIN_MAX_FAILURES  | 5 per account, 4x that per client address | failed logins allowed per window     |
| PLUTARC_LOGIN_WINDOW_S      | 900                                       | the login rate-limit window          |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


def default_data_dir() -> Path:
    """Where local state lives when PLUTARC_DATA_DIR is unset.

    As root the embedded PostgreSQL opens read+execute for group/other on every parent of its
    data directory; under /var/lib that touches only /var and /var/lib, which are already
    world-readable, so nothing private is exposed.
    """
    if env := os.environ.get("PLUTARC_DATA_DIR"):
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/plutarc")
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "plutarc"


@dataclass(frozen=True)
class Settings:
    """Everything the backend reads from its environment, resolved once."""

    database_url: str | None = None
    data_dir: Path = field(default_factory=default_data_dir)
    session_ttl_s: int = 30 * 24 * 3600
    login_max_failures: int = 5
    login_window_s: int = 900

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            data_dir=default_data_dir(),
            session_ttl_s=int(os.environ.get("PLUTARC_SESSION_TTL_S", "2592000")),
            login_max_failures=int(os.environ.get("PLUTARC_LOGIN_MAX_FAILURES", "5")),
            login_window_s=int(os.environ.get("PLUTARC_LOGIN_WINDOW_S", "900")),
        )


@cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()
