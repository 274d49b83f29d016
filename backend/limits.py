"""The API's bounds: every limit a hostile or broken client can hit, each a named setting
(environment variable `PLUTARC_LIMIT_<NAME>`) with a default sized for one trader's
dashboard and a few bots. docs/security.md lists them with the error each one answers.

A limit hit is always a clear error naming the limit (400, 413, 429, or a WebSocket close
code), never a stall and never a traceback.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, fields
from functools import cache

INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Limits:
    """Every bound the HTTP, SSE and WebSocket layers enforce."""

    # request bodies: checked against Content-Length before reading, and while streaming
    body_bytes: int = 1 << 20
    # a request without a credential may send this much; the token is checked first
    anonymous_body_bytes: int = 64 << 10
    # nesting of any JSON a client sends (arguments, frames, SSE args)
    json_depth: int = 32
    # any JSON object argument stored as a report field (signal state, event data)
    report_field_bytes: int = 16 << 10
    # HTTP: whole request head, and each gap between body chunks
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    # WebSocket: the first frame (`connect`) must arrive within this
    connect_timeout_s: float = 10.0
    # WebSocket frames from a client; bigger ones close the socket (1009)
    frame_bytes: int = 1 << 20
    # live queries
    subscriptions_per_socket: int = 1000
    subscriptions_per_user: int = 4000
    # one subscription's value, serialised; above it the subscription gets an error
    value_bytes: int = 4 << 20
    # one transition message; more is split into several messages of the same version
    transition_bytes: int = 1 << 20
    # pending read-your-writes `wait`s per socket, and how long one may stay pending
    waits_per_socket: int = 64
    wait_timeout_s: float = 60.0
    # calls (query/mutation/action) running at once on one socket, and started per second
    # (a token bucket: bursts up to call_burst), so one socket cannot take the whole loop
    calls_per_socket: int = 16
    call_rate_per_socket: float = 100.0
    call_burst: int = 50
    # SSE: a stream whose client does not read for this long is closed
    sse_send_timeout_s: float = 30.0
    # password hashing (scrypt) runs in threads, at most this many at once (one leaves the
    # event loop a core of a 2-core machine during a burst of sign-ups)
    hashing_threads: int = 1

    @classmethod
    def from_env(cls) -> Limits:
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"PLUTARC_LIMIT_{f.name.upper()}")
            if raw is not None:
                kind = float if f.type in ("float", float) else int
                try:
                    values[f.name] = kind(raw)
                except ValueError:
                    raise ValueError(
                        f"PLUTARC_LIMIT_{f.name.upper()} must be a number, not {raw!r}"
                    ) from None
        return cls(**values)


@dataclass
class Bucket:
    """A token bucket: `take()` is True while the caller stays within `rate` per second,
    allowing bursts of up to `burst`. Invariant: 0 <= tokens <= burst."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    at: float = field(init=False, default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@cache
def get_limits() -> Limits:
    """The process's limits, read from the environment on first use."""
    return Limits.from_env()
