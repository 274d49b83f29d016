"""The inverted index from routing keys to subscriptions: which subscriptions a batch of
changes can touch.

A change touches a subscription when its old or its new routing values hit one of the
subscription's keys (a row leaving a filter matters as much as one entering it), when it is
a table-wide change on a table the subscription reads at all, or when the subscription
depends on everything. A change row that carries no value for a keyed column (the column is
not a routing column, or it was added after the triggers) touches every key on that column:
the index never under-approximates. Values compare by `keys.routing_value`, so 42 from a
JSON payload and "42" or Decimal("42") from a parameter meet.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from backend.reactive.keys import routing_value
from backend.reactive.listener import Change
from backend.reactive.readset import ReadSet

SubId = Hashable
# told, for every group of subscriptions a change hits, what hit them: "table" (the table as a
# whole) or "table.column=value" (a key); for the profiler (stats.py)
type OnHit = Callable[[str, set[SubId]], None]


class InvalidationIndex:
    """Subscriptions by the keys and tables they read. Not thread-safe; one per process."""

    def __init__(self) -> None:
        # invariant: a sub id is in _keys/_whole/_everything exactly as its _readsets entry says
        self._keys: dict[str, dict[str, dict[str, set[SubId]]]] = {}  # table -> column -> value
        self._whole: dict[str, set[SubId]] = {}  # table -> subs reading all of it
        self._everything: set[SubId] = set()
        self._readsets: dict[SubId, ReadSet] = {}

    def __len__(self) -> int:
        return len(self._readsets)

    def __contains__(self, sub_id: object) -> bool:
        return sub_id in self._readsets

    def add(self, sub_id: SubId, readset: ReadSet) -> None:
        """Index `sub_id` under `readset`, replacing what it was indexed under before."""
        self.remove(sub_id)
        self._readsets[sub_id] = readset
        if readset.everything:
            self._everything.add(sub_id)
        for table in readset.tables:
            self._whole.setdefault(table, set()).add(sub_id)
        for table, column, value in readset.keys:
            self._keys.setdefault(table, {}).setdefault(column, {}).setdefault(value, set()).add(
                sub_id
            )

    def remove(self, sub_id: SubId) -> None:
        """Forget `sub_id` (no error when unknown)."""
        readset = self._readsets.pop(sub_id, None)
        if readset is None:
            return
        self._everything.discard(sub_id)
        for table in readset.tables:
            _discard(self._whole, table, sub_id)
        for table, column, value in readset.keys:
            columns = self._keys[table]
            _discard(columns[column], value, sub_id)
            if not columns[column]:
                del columns[column]
            if not columns:
                del self._keys[table]

    def affected(self, changes: Iterable[Change], on_hit: OnHit | None = None) -> set[SubId]:
        """Every indexed subscription that any of `changes` can touch (and, to `on_hit`, what
        hit each group: its cost is that of the hits, never changes x subscriptions)."""
        hit: set[SubId] = set()

        def add(subs: set[SubId], source: str) -> None:
            if subs:
                hit.update(subs)
                if on_hit is not None:
                    on_hit(source, subs)

        for change in changes:
            table = change.table
            add(self._everything, table)
            add(self._whole.get(table, _NONE), table)
            columns = self._keys.get(table)
            if not columns:
                continue
            sides = [side for side in (change.old, change.new) if side is not None]
            for column, by_value in columns.items():
                if change.whole_table or not sides or any(column not in side for side in sides):
                    for subs in by_value.values():
                        add(subs, table)
                    continue
                for value in {routing_value(side[column]) for side in sides}:
                    if subs := by_value.get(value):
                        add(subs, f"{table}.{column}={value}")
        return hit


_NONE: set[SubId] = set()  # never added to


def _discard(index: dict[Any, set[SubId]], key: Any, sub_id: SubId) -> None:
    subs = index.get(key)
    if subs is not None:
        subs.discard(sub_id)
        if not subs:
            del index[key]
