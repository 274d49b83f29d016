"""The shapes every component type shares: parameter specs, indicator needs, and the four kinds.

A component type is plain data plus a few pure functions, so the catalogue can be printed as
JSON and the same functions serve the live evaluator and the backtester:

* signals and filters compute on *series* — a mapping of name -> numpy array, oldest first,
  where element ``i`` may only use elements ``<= i``.  The evaluator passes short windows
  (the last few closed candles); the backtester passes whole histories.  Same code, so the
  same decision on the same candles.
* guards look at account state (``AccountState``) at decision time.
* exits contribute price levels to the numba position kernel (``exits/kernel.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

Params = Mapping[str, Any]
Series = Mapping[str, np.ndarray]
# (field, message) pairs for cross-field rules such as "fast must be < slow".
Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class Param:
    """One tunable parameter as the dashboard renders it and the validator checks it."""

    name: str
    type: str  # "integer" | "number" | "string" | "boolean"
    default: Any
    description: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    exclusive_min: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "description": self.description,
        }
        if self.min is not None:
            out["exclusive_min" if self.exclusive_min else "min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        if self.choices is not None:
            out["choices"] = list(self.choices)
        return out

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None."""
        if self.type == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                return f"must be an integer, got {value!r}"
        elif self.type == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"must be a number, got {value!r}"
            if not math.isfinite(value):
                return "must be finite"
        elif self.type == "boolean":
            if not isinstance(value, bool):
                return f"must be true or false, got {value!r}"
        elif self.type == "string" and self.choices is not None and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}, got {value!r}"
        if self.min is not None:
            if self.exclusive_min and value <= self.min:
                return f"must be > {self.min}, got {value}"
            if not self.exclusive_min and value < self.min:
                return f"must be >= {self.min}, got {value}"
        if self.max is not None and value > self.max:
            return f"must be <= {self.max}, got {value}"
        return None


@dataclass(frozen=True)
class Need:
    """An indicator output a component reads, under a local ``label``.

    ``source`` picks the candle column fed to the indicator as its price ("close" feeds the
    real candle; "volume" feeds a candle whose open/high/low/close are all the volume, so
    e.g. an SMA of volume reuses the SMA indicator).
    """

    label: str
    indicator: str
    params: tuple[tuple[str, Any], ...]
    output: str = "value"
    source: str = "close"

    @classmethod
    def of(
        cls, label: str, indicator: str, output: str = "value", source: str = "close", **params
    ) -> Need:
        return cls(label, indicator, tuple(sorted(params.items())), output, source)


def _no_needs(params: Params) -> list[Need]:
    return []


def _no_problems(params: Params) -> Problems:
    return []


@dataclass(frozen=True)
class ComponentType:
    """Catalogue entry shared by all kinds."""

    type: str
    kind: str  # "signal" | "filter" | "guard" | "exit"
    description: str
    params: tuple[Param, ...]
    outputs: tuple[str, ...] = ()
    needs: Callable[[Params], list[Need]] = _no_needs
    check: Callable[[Params], Problems] = _no_problems
    # extra previous bars the series functions look at (1 = uses the previous value)
    history: int = 0
    # signals: (series, params) -> score array in [-1, 1]; filters: -> bool array;
    # guards: (account, decision_ms, timeframe_ms, params) -> GuardResult; exits: None
    compute: Callable[..., Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "kind": self.kind,
            "description": self.description,
            "params": [p.to_json() for p in self.params],
            "outputs": list(self.outputs),
        }

    def with_defaults(self, params: Params) -> dict[str, Any]:
        return {p.name: params.get(p.name, p.default) for p in self.params}


@njit(cache=True)
def sign_score(values: np.ndarray) -> np.ndarray:
    """+1 / -1 / 0 by the sign of `values` (1-D), 0 while they warm up (NaN): the values of
    ``np.nan_to_num(np.sign(values))`` in one pass instead of five."""
    out = np.empty(values.shape[0])
    for i in range(values.shape[0]):
        v = values[i]
        out[i] = (v > 0) * 1.0 - (v < 0) * 1.0  # no branch (NaN: false both ways)
    return out


def prev(a: np.ndarray) -> np.ndarray:
    """``a`` shifted one bar into the past (first element NaN): element i is a[i-1]."""
    out = np.empty_like(a, dtype=np.float64)
    out[:1] = np.nan
    out[1:] = a[:-1]
    return out
