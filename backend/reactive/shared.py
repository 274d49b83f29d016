"""A shared query execution (one per path, args and auth scope) and the result of one re-run.

Invariants on `SharedQuery`: `subscribers` is exactly the (session, sub id) pairs whose
`session.subs[sub_id]` is this object; while `stale` is true, the value may be older than the
engine's version, so the sessions holding it (once `computed`) are sent nothing (backlog.py).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backend.reactive.readset import ReadSet
from backend.runtime.context import Auth
from backend.runtime.registry import FunctionDef

if TYPE_CHECKING:
    from backend.reactive.session import ClientSession

HISTORY = 4  # earlier values kept per query, so a resuming client can get a diff


def fingerprint(value: Any) -> tuple[str, int]:
    """The value's hash (what clients send back when resuming) and its JSON size in bytes."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.blake2b(text, digest_size=12).hexdigest(), len(text)


@dataclass(eq=False)
class SharedQuery:
    """One execution shared by all subscriptions with the same path, args and auth scope."""

    key: tuple[str, str, str]
    fdef: FunctionDef
    args: dict[str, Any]
    auth: Auth
    computed: bool = False
    value: Any = None
    hash: str = ""
    size: int = 0  # bytes of `value` as JSON; never above the value_bytes limit
    error: dict[str, Any] | None = None
    readset: ReadSet | None = None
    # the statements of its last run and their read set, reused while they repeat; None when
    # they join (such a read set depends on the joined rows it read, not on the statements)
    readset_memo: tuple[list[tuple[str, Any]], ReadSet] | None = None
    subscribers: set[tuple[ClientSession, str]] = field(default_factory=set)
    history: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    stale: bool = False
    # once a SQL error aborted a re-run's transaction, its re-runs get a savepoint
    savepoint: bool = False

    def known_values(self) -> dict[str, Any]:
        """Values a client may hold, by hash: the current one and a few before it."""
        return dict(self.history) | ({self.hash: self.value} if self.computed else {})

    def remember(self) -> None:
        """Keep the current value in the history before it is replaced."""
        if self.computed and self.error is None:
            self.history[self.hash] = self.value
            while len(self.history) > HISTORY:
                self.history.popitem(last=False)


@dataclass
class RunResult:
    """One re-run: its value or error, and what it read (even when it failed)."""

    value: Any = None
    error: dict[str, Any] | None = None
    readset: ReadSet = field(default_factory=ReadSet)
