"""The validated template as Python objects (built only by ``validate_template``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from strategy.sessions import SessionWindow

SCHEMA_VERSION = 1
TIMEFRAMES: dict[str, int] = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
}
COMBINATION_MODES = ("weighted_sum", "weighted_average", "unanimous", "majority", "any")
SIZING_MODES = ("fixed_quantity", "percent_equity", "risk_per_trade")


@dataclass(frozen=True, slots=True)
class Component:
    """One configured component: its type, parameters (defaults filled in) and weight."""

    type: str
    params: dict[str, Any]
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Template:
    """A validated template; ``data`` is the normalised JSON (defaults filled in)."""

    data: dict[str, Any]
    signals: tuple[Component, ...]
    filters: tuple[Component, ...]
    guards: tuple[Component, ...]
    exits: tuple[Component, ...]
    sessions: tuple[SessionWindow, ...]

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def symbol(self) -> str:
        return self.data["symbol"]

    @property
    def timeframe(self) -> str:
        return self.data["timeframe"]

    @property
    def timeframe_ms(self) -> int:
        return TIMEFRAMES[self.data["timeframe"]]

    @property
    def long_enabled(self) -> bool:
        return self.data["long_enabled"]

    @property
    def short_enabled(self) -> bool:
        return self.data["short_enabled"]

    @property
    def combination_mode(self) -> str:
        return self.data["combination"]["mode"]

    @property
    def threshold(self) -> float:
        return float(self.data["combination"]["threshold"])

    @property
    def risk(self) -> dict[str, Any]:
        return self.data["risk"]

    @property
    def sizing_mode(self) -> str:
        return self.data["risk"]["sizing"]["mode"]

    @property
    def sizing_value(self) -> Decimal:
        return Decimal(str(self.data["risk"]["sizing"]["value"]))

    @property
    def leverage(self) -> Decimal:
        return Decimal(str(self.data["risk"]["leverage"]))

    def to_json(self) -> dict[str, Any]:
        """The normalised template JSON (a copy: store it, edit it, validate it again)."""
        return copy.deepcopy(self.data)
