"""Values of queries nobody subscribes to any more, kept for a reconnect window, so a client
that was a query's only subscriber still resumes with `unchanged` or a diff.

A query is dropped with its last subscriber; its known values (current + history, by hash)
move here for `window` seconds, at most `size` queries (oldest dropped first). A subscription
to the same (path, args, scope) within the window finds them again.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

Key = tuple[str, str, str]


class Retained:
    """Known values of recently dropped queries, by query key."""

    def __init__(self, window: float = 120.0, size: int = 10_000) -> None:
        self.window = window
        self.size = size
        # oldest first; invariant: at most `size` entries
        self._values: OrderedDict[Key, tuple[float, dict[str, Any]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._values)

    def keep(self, key: Key, values: dict[str, Any]) -> None:
        if not values:
            return
        self._values[key] = (time.monotonic(), values)
        self._values.move_to_end(key)
        self._expire()
        while len(self._values) > self.size:
            self._values.popitem(last=False)

    def take(self, key: Key) -> dict[str, Any]:
        """The values kept for `key` (removed from here), or {}."""
        self._expire()
        entry = self._values.pop(key, None)
        return entry[1] if entry else {}

    def _expire(self) -> None:
        horizon = time.monotonic() - self.window
        while self._values:
            key, (at, _) = next(iter(self._values.items()))
            if at >= horizon:
                break
            del self._values[key]
