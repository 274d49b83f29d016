"""One connected client (a WebSocket or an SSE stream): its subscriptions and what it was
last sent, and the writer that turns changes into transition messages.

Backpressure: nothing is queued per change. A slow client has at most, per subscription,
the value it was last sent and the shared current value; when it is ready again, its writer
sends one transition from the one to the other. Server memory per client is bounded by its
subscriptions, however slow it is. "Ready" is decided by the client's acknowledgements: each
transition carries a `seq`, the client answers `{"type": "ack", "seq": n}`, and the writer
stops while more than `window` bytes are unacknowledged (the socket's own buffers cannot be
relied on: the server transport accepts writes without bound).

Invariant: `sent[sub_id]` is exactly what the client holds for that subscription, so every
diff the writer sends applies to the client's value. Every change names the subscription by
its id and its `epoch` (the number of the subscribe message that created it, counting from 1
on the connection), so a change of a replaced subscription can never be taken for one of the
new subscription under the same id.

Resume across processes: a client reconnecting (maybe to another server process) says the
version it reached. While this process's version may be older, `resume_xid` holds the
session back: the sync socket sets it to a transaction id assigned after the client's
version was taken, and waits for it (`waiting`); a snapshot that includes that xid was taken
later, so it covers the client's version, and the client never goes back in time.

A session holding a stale query (one the engine has not brought to its version yet,
backlog.py) is sent nothing until that query is current: the next transition then moves every
subscription to one version.

Size: one transition message carries at most `transition_bytes` of values (or a single
value, which the engine bounds separately). When more changed, the rest stay dirty and
follow in further messages of the same version; all but the last carry `"more": true`, and
a client treats the version as reached only with the last one.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backend.reactive.diff import make_diff
from backend.runtime.context import Auth
from backend.runtime.jsonvalue import dumps

if TYPE_CHECKING:
    from backend.reactive.shared import SharedQuery

Send = Callable[[str], Awaitable[None]]
WINDOW_BYTES = 1 << 20
_ids = itertools.count(1)


@dataclass
class Held:
    """What the client holds for one subscription."""

    hash: str
    value: Any


@dataclass(eq=False)
class ClientSession:
    """A client's subscriptions; `wake` tells its writer something changed."""

    send: Send
    auth: Auth
    id: int = field(default_factory=lambda: next(_ids))
    subs: dict[str, SharedQuery] = field(default_factory=dict)
    epochs: dict[str, int] = field(default_factory=dict)  # sub id -> epoch, for every sub
    sent: dict[str, Held] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    # resumed subscriptions whose held value must be confirmed ("unchanged") or updated
    resumed: set[str] = field(default_factory=set)
    # xids the client waits for (read-your-writes): answered once a transition includes them
    waiting: set[int] = field(default_factory=set)
    version: str | None = None
    bump: bool = False
    # on resume: nothing is sent until the engine's version includes this xid (it is in
    # `waiting` until then), so the first transition covers what the client had reached
    resume_xid: int | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # flow control: (seq, bytes) of transitions sent and not yet acknowledged
    window: int = WINDOW_BYTES
    seq: int = 0
    unacked: deque[tuple[int, int]] = field(default_factory=deque)
    unacked_bytes: int = 0
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    # set when the credential it connected with is revoked or expires; the transport ends it
    revoked: bool = False
    # bytes of values one transition message may carry (estimated by each value's size)
    transition_bytes: int = WINDOW_BYTES
    # False when no query anywhere is stale (the engine's backlog is empty; set on attach):
    # then take_transition need not look at every subscription
    stale_anywhere: Callable[[], bool] = lambda: True

    def mark(self, sub_ids: set[str], version: str | None, bump: bool = False) -> None:
        """Some subscriptions (maybe none) are current at `version`; wake the writer."""
        self.dirty |= sub_ids
        if version is not None:
            self.version = version
        self.bump = self.bump or bump
        self.wake.set()

    def hold(self, sub_id: str, known_hash: str | None, query: SharedQuery) -> None:
        """On resume: the client says it holds the value with `known_hash` (if the query
        still knows that value)."""
        if known_hash is None:
            return
        known = query.known_values()
        if known_hash in known:
            self.sent[sub_id] = Held(known_hash, known[known_hash])
            self.resumed.add(sub_id)

    def take_transition(self) -> dict[str, Any] | None:
        """The message that moves the client from what it holds to the current values (None:
        nothing to send, or a stale query holds the session back)."""
        if self.resume_xid is not None:
            if self.resume_xid in self.waiting:
                return None
            self.resume_xid = None
        if self.stale_anywhere() and any(q.stale and q.computed for q in self.subs.values()):
            return None
        changes: list[dict[str, Any]] = []
        budget = self.transition_bytes
        done: set[str] = set()
        for sub_id in sorted(self.dirty):
            query = self.subs.get(sub_id)
            held = self.sent.get(sub_id)
            if query is not None and query.computed and query.error is None and (
                    held is None or held.hash != query.hash):
                if changes and query.size > budget:
                    break  # the rest follow in the next message, at the same version
                budget -= query.size
            done.add(sub_id)
            if query is None or not query.computed:
                continue
            change: dict[str, Any] = {"id": sub_id, "epoch": self.epochs[sub_id]}
            if query.error is not None:
                changes.append(change | {"error": query.error})
                self.sent.pop(sub_id, None)
                continue
            if held is not None and held.hash == query.hash:
                if sub_id in self.resumed:
                    changes.append(change | {"unchanged": True, "hash": query.hash})
                continue
            if held is None:
                changes.append(change | {"value": query.value, "hash": query.hash})
            else:
                diff = make_diff(held.value, query.value, query.size)
                changes.append(change | {"diff": diff, "hash": query.hash})
            self.sent[sub_id] = Held(query.hash, query.value)
        self.resumed -= done
        self.dirty -= done
        if self.dirty:
            self.wake.set()
            return {"type": "transition", "version": self.version, "changes": changes,
                    "more": True}
        bump, self.bump = self.bump, False
        if not changes and not bump:
            return None
        return {"type": "transition", "version": self.version, "changes": changes}

    def forget(self, sub_id: str) -> None:
        self.subs.pop(sub_id, None)
        self.epochs.pop(sub_id, None)
        self.sent.pop(sub_id, None)
        self.dirty.discard(sub_id)
        self.resumed.discard(sub_id)

    def revoke(self) -> None:
        """The credential is no longer valid: wake the writer, which ends the session."""
        self.revoked = True
        self.wake.set()
        self.acked.set()

    def ack(self, seq: int) -> None:
        """The client has applied every transition up to `seq`."""
        while self.unacked and self.unacked[0][0] <= seq:
            self.unacked_bytes -= self.unacked.popleft()[1]
        self.acked.set()

    async def write_forever(self) -> None:
        """Send transitions as the client can take them (run as the session's writer task)."""
        while not self.revoked:
            await self.wake.wait()
            while self.unacked_bytes >= self.window and not self.revoked:
                self.acked.clear()
                await self.acked.wait()
            self.wake.clear()
            if self.revoked:
                break
            message = self.take_transition()
            if message is None:
                continue
            self.seq += 1
            message["seq"] = self.seq
            text = dumps(message)
            self.unacked.append((self.seq, len(text)))
            self.unacked_bytes += len(text)
            await self.send(text)
        await self.send(dumps({"type": "error", "error": {
            "code": "unauthorized", "message": "signed out or token revoked: connect again",
            "field": None}}))
