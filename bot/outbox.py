"""A crash-safe, ordered on-disk outbox of reports waiting to reach the backend.

SQLite (stdlib) in WAL mode with ``synchronous=FULL``: `append` returns only once the report
is durable, so a report survives ``kill -9`` the moment it was appended. Reports leave in
append order; a report is removed (`ack`) only after the sink accepted it, so a crash
between sending and acking resends it — the backend deduplicates by ``report_id``.
Appending a report_id already queued is a no-op, which makes re-appending after a restart safe.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id  TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_ms INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class Report:
    seq: int
    report_id: str
    kind: str
    payload: dict[str, Any]
    created_ms: int


class Outbox:
    """Durable FIFO of reports. Not shared between processes; one writer (the bot)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def append(self, kind: str, payload: dict[str, Any], report_id: str | None = None) -> str:
        """Durably queue a report; returns its id (a new uuid4 unless one is given)."""
        report_id = report_id or str(uuid.uuid4())
        body = json.dumps(payload, default=_json_default, separators=(",", ":"))
        self._db.execute(
            "INSERT OR IGNORE INTO outbox (report_id, kind, payload, created_ms) VALUES (?,?,?,?)",
            (report_id, kind, body, int(time.time() * 1000)),
        )
        return report_id

    def peek(self, limit: int = 100) -> list[Report]:
        """The oldest ``limit`` reports, in append order, without removing them."""
        rows = self._db.execute(
            "SELECT seq, report_id, kind, payload, created_ms FROM outbox ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [Report(seq, rid, kind, json.loads(body), ms) for seq, rid, kind, body, ms in rows]

    def ack(self, report_id: str) -> None:
        """Remove a delivered report."""
        self._db.execute("DELETE FROM outbox WHERE report_id = ?", (report_id,))

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    async def flush(self, sink: Callable[[Report], Awaitable[object]], batch: int = 100) -> int:
        """Send queued reports in order until empty or the sink raises; returns how many went.

        The first failure stops the flush (its exception propagates) so order is kept: no
        later report overtakes one that has not been delivered.
        """
        sent = 0
        while reports := self.peek(batch):
            for report in reports:
                await sink(report)
                self.ack(report.report_id)
                sent += 1
        return sent


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot store {type(value).__name__} in a report")
