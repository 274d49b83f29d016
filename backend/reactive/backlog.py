"""Stale queries: re-runs that wait for a later cycle, in waves, and re-runs that outlived
their cycle (late).

A query is *stale* when its value may be older than the engine's version: after a table-wide
invalidation or a lost LISTEN connection touched more queries than one cycle runs (a
stampede), when its cycle's budget ran out before its re-run started, or while a re-run of
it is late. The sessions holding a computed stale query get no transition until it is
current again (a client never sees two of its queries disagree); sessions that do not hold
it are never delayed by it.

Waiting queries are re-run in waves of at most `wave` per cycle, the most watched (most
subscribers) first, then grouped by connection (a connection is released once all its
stale queries ran), between the normal targeted cycles.

A late re-run read the snapshot S_k of its cycle; when it ends, the engine is at a later
cycle n. Its result is still the query's value at S_n iff no change handled by the cycles
after k touches what the re-run read: `record` keeps those changes (a table-wide change, or
more than `MAX_RECORDED`, and the result is re-run instead), `settle` checks them against the
result's read set. Never under-approximates: a doubt sends the query back to waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.reactive.invalidation import InvalidationIndex
from backend.reactive.listener import Change
from backend.reactive.shared import RunResult, SharedQuery

MAX_RECORDED = 10_000


@dataclass
class Late:
    """A re-run past its cycle: the changes handled since, and its result once it ends."""

    changes: list[Change] = field(default_factory=list)
    overflow: bool = False
    ended: bool = False
    result: RunResult | None = None  # None once ended: it did not run (lost connection)


class Backlog:
    """The stale queries of one engine; sets and clears `SharedQuery.stale`."""

    def __init__(self, wave: int = 500) -> None:
        self.wave_size = wave
        # invariant: a query is in at most one of _waiting/_late, and `stale` iff in one
        self._waiting: dict[SharedQuery, None] = {}  # insertion-ordered set
        self._late: dict[SharedQuery, Late] = {}
        self._ordered = True

    def __len__(self) -> int:
        return len(self._waiting) + len(self._late)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def late(self, query: SharedQuery) -> bool:
        return query in self._late

    def wait(self, queries: list[SharedQuery] | set[SharedQuery]) -> None:
        """These must be re-run before they may be shown at a newer version."""
        for query in queries:
            if query not in self._late and query not in self._waiting:
                self._waiting[query] = None
                query.stale = True
                self._ordered = False

    def wave(self, room: int, running: set[SharedQuery]) -> list[SharedQuery]:
        """Up to `room` waiting queries for this cycle, not in `running`, most watched first."""
        if room <= 0 or not self._waiting:
            return []
        if not self._ordered:
            order = sorted(self._waiting, key=_priority)
            self._waiting = dict.fromkeys(order)
            self._ordered = True
        picked = []
        for query in self._waiting:
            if query not in running:
                picked.append(query)
                if len(picked) == room:
                    break
        return picked

    def start_late(self, query: SharedQuery) -> None:
        self._waiting.pop(query, None)
        self._late[query] = Late()
        query.stale = True

    def end_late(self, query: SharedQuery, result: RunResult | None) -> None:
        late = self._late.get(query)
        if late is not None:
            late.ended, late.result = True, result

    def record(self, changes: list[Change]) -> None:
        """Changes a cycle handles: late re-runs read a snapshot without them."""
        if not changes:
            return
        for late in self._late.values():
            if late.overflow:
                continue
            if len(late.changes) + len(changes) > MAX_RECORDED or any(c.whole_table for c in changes):
                late.overflow, late.changes = True, []
            else:
                late.changes.extend(changes)

    def settle(self) -> dict[SharedQuery, RunResult]:
        """Ended late re-runs still valid now (to install); the others go back to waiting."""
        valid: dict[SharedQuery, RunResult] = {}
        for query, late in list(self._late.items()):
            if not late.ended:
                continue
            del self._late[query]
            result = late.result
            if result is not None and not late.overflow and not _touched(result, late.changes):
                valid[query] = result
            else:
                self._waiting[query] = None
                self._ordered = False
        return valid

    def done(self, query: SharedQuery) -> None:
        """`query` was re-run at the current version (or dropped): it is not stale."""
        self._waiting.pop(query, None)
        self._late.pop(query, None)
        query.stale = False


def _priority(query: SharedQuery) -> tuple[int, int]:
    """Most subscribers first; then by connection, so whole connections are released early."""
    return (-len(query.subscribers), min((s.id for s, _ in query.subscribers), default=0))


def _touched(result: RunResult, changes: list[Change]) -> bool:
    if not changes:
        return False
    index = InvalidationIndex()
    index.add(0, result.readset)
    return bool(index.affected(changes))
