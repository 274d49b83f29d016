"""Versions taken from PostgreSQL itself, so they compare across server processes.

- A query batch runs in one REPEATABLE READ transaction; its version is that transaction's
  snapshot, `pg_current_snapshot()` = xmin:xmax:xip (the text form, e.g. "812:815:812,814").
- A mutation's version is the xid of its transaction, `pg_current_xact_id()`, read inside it.
- Snapshot S has reached xid X - X's effects are visible in S, exactly PostgreSQL's
  `pg_visible_in_snapshot(X, S)` - iff X < S.xmin, or X < S.xmax and X is not in S.xip.
  Clients compute this themselves for read-your-writes: wait until a transition's version
  includes the mutation's xid.

xids here are 64-bit (xid8, epoch included) and never wrap. Snapshots are only partially
ordered; `sort_key` (xmax, then xmin, then fewer in-progress) is a total order for display and
tie-breaking, and `covers` tells whether one snapshot sees everything another sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A PostgreSQL snapshot: every xid < xmin is finished, every xid >= xmax had not started,
    and `xip` lists the xids in [xmin, xmax) still running when it was taken."""

    xmin: int
    xmax: int
    xip: frozenset[int] = frozenset()

    @classmethod
    def parse(cls, text: str) -> Snapshot:
        """Parse the `pg_snapshot` text form "xmin:xmax:xip1,xip2,..."."""
        xmin, xmax, xip = text.strip().split(":")
        snapshot = cls(int(xmin), int(xmax), frozenset(int(x) for x in xip.split(",") if x))
        if not snapshot.xmin <= snapshot.xmax or any(
            not snapshot.xmin <= x < snapshot.xmax for x in snapshot.xip
        ):
            raise ValueError(f"not a snapshot: {text!r}")
        return snapshot

    def __str__(self) -> str:
        return f"{self.xmin}:{self.xmax}:{','.join(str(x) for x in sorted(self.xip))}"

    def includes(self, xid: int) -> bool:
        """Whether transaction `xid` had finished when this snapshot was taken."""
        return xid < self.xmin or (xid < self.xmax and xid not in self.xip)

    def covers(self, other: Snapshot) -> bool:
        """Whether every transaction `other` includes is included here too."""
        newest = other.xmax - 1  # the newest xid `other` includes
        while newest in other.xip:
            newest -= 1
        return newest < self.xmax and not any(other.includes(x) for x in self.xip)

    @property
    def sort_key(self) -> tuple[int, int, int]:
        """A total order for display: later xmax, then later xmin, then fewer running."""
        return (self.xmax, self.xmin, -len(self.xip))


async def current_snapshot(conn: asyncpg.Connection) -> Snapshot:
    """The snapshot of `conn`'s transaction. Run it first in a REPEATABLE READ transaction
    (that snapshot is then the one every later statement of the transaction uses)."""
    return Snapshot.parse(await conn.fetchval("SELECT pg_current_snapshot()::text"))


async def current_xid(conn: asyncpg.Connection) -> int:
    """The xid of `conn`'s transaction (assigning one if it has none yet)."""
    return int(await conn.fetchval("SELECT pg_current_xact_id()::text"))
