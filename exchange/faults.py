"""Injected faults, switchable at runtime through the admin API.

REST: a fraction (or the next N) of signed calls answered 503, or held for `timeout_seconds`
and then answered 504 - for order-writing calls optionally *after* the order was placed
("timed out but the order was placed"). WebSocket: extra delay on every message, silent loss
of the next N private messages of a topic, dropped connections (done by the hub), and a
paused market (done by the engine). Fractions draw from a generator seeded by the exchange
seed, so a fault pattern repeats run after run.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from enum import Enum

WRITE_PATHS = frozenset(
    {"/v5/order/create", "/v5/order/amend", "/v5/order/cancel", "/v5/order/cancel-all"}
)


class RestFault(Enum):
    ERROR = "error"
    TIMEOUT = "timeout"
    TIMEOUT_AFTER = "timeout_after"


@dataclass
class FaultSettings:
    """Current fault switches (all off by default)."""

    rest_error_rate: float = 0.0
    rest_timeout_rate: float = 0.0
    rest_timeout_after_rate: float = 0.0
    rest_error_next: int = 0
    rest_timeout_next: int = 0
    rest_timeout_after_next: int = 0
    timeout_seconds: float = 15.0
    rest_delay_ms: int = 0
    ws_delay_ms: int = 0
    lose: dict[str, int] = field(default_factory=dict)


class Faults:
    """Holds the settings and makes the seeded decisions."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self.settings = FaultSettings()
        self._rng = random.Random(f"faults:{seed}")

    def reset(self) -> None:
        self.__init__(self._seed)

    def update(self, changes: dict) -> FaultSettings:
        """Apply a partial update (unknown keys are a ValueError)."""
        known = FaultSettings.__dataclass_fields__
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown fault setting {key!r}")
            current = getattr(self.settings, key)
            setattr(self.settings, key, dict(value) if key == "lose" else type(current)(value))
        return self.settings

    def as_dict(self) -> dict:
        return asdict(self.settings)

    def decide_rest(self, path: str) -> RestFault | None:
        """Which fault, if any, hits this signed REST call."""
        s = self.settings
        writes = path in WRITE_PATHS
        if writes and s.rest_timeout_after_next > 0:
            s.rest_timeout_after_next -= 1
            return RestFault.TIMEOUT_AFTER
        if s.rest_error_next > 0:
            s.rest_error_next -= 1
            return RestFault.ERROR
        if s.rest_timeout_next > 0:
            s.rest_timeout_next -= 1
            return RestFault.TIMEOUT
        if not (s.rest_error_rate or s.rest_timeout_rate or s.rest_timeout_after_rate):
            return None
        draw = self._rng.random()
        if draw < s.rest_error_rate:
            return RestFault.ERROR
        draw -= s.rest_error_rate
        if draw < s.rest_timeout_rate:
            return RestFault.TIMEOUT
        draw -= s.rest_timeout_rate
        if writes and draw < s.rest_timeout_after_rate:
            return RestFault.TIMEOUT_AFTER
        return None

    def lose_private(self, uid: int, topic: str) -> bool:
        """True if this private message must be silently dropped (consumes one count).
        Keys of `lose` are a topic ("execution") or "uid:topic" ("100001:order")."""
        for key in (f"{uid}:{topic}", topic):
            left = self.settings.lose.get(key, 0)
            if left > 0:
                self.settings.lose[key] = left - 1
                return True
        return False
