"""A template version ready to trade live: validated, its evaluator warmed on recent candles
and its numba kernels compiled before the first live candle.

Built off the trader's critical path (at start, and when the config brings a new template
version); the trader swaps it in at the next candle.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.market_data import Candle
from strategy.components.state import AccountState, PositionState
from strategy.evaluator import Candle as EvalCandle
from strategy.evaluator import Evaluator
from strategy.indicators import Candles
from strategy.template import validate_template


@dataclass
class Strategy:
    """A template version ready to trade: its evaluator, warmed up on recent candles."""

    version: int
    template: dict[str, Any]
    evaluator: Evaluator


def build_strategy(
    version: int, template: dict[str, Any], qty_step: Decimal, history: list[Candle]
) -> Strategy:
    """Validate ``template`` and warm a fresh evaluator with ``history`` (oldest first)."""
    validated = validate_template(template)
    evaluator = Evaluator(validated, qty_step=qty_step)
    if history:
        evaluator.warm(_columns(history))
        _prime(Evaluator(validated, qty_step=qty_step), history)
    return Strategy(version, template, evaluator)


def _columns(history: list[Candle]) -> Candles:
    return Candles.of(
        [c.open_time_ms for c in history],
        [float(c.open) for c in history],
        [float(c.high) for c in history],
        [float(c.low) for c in history],
        [float(c.close) for c in history],
        [float(c.volume) for c in history],
    )


def _prime(scratch: Evaluator, history: list[Candle]) -> None:
    """Decide once flat and once in a position on a scratch evaluator, so the indicator and
    exit kernels are compiled before the first live candle (~200 ms otherwise)."""
    scratch.warm(_columns(history[:-1]))
    last = history[-1]
    candle = EvalCandle(*last.floats())
    account = AccountState(Decimal(10_000))
    scratch.on_candle(candle, account, None)
    scratch.on_candle(
        candle._replace(open_time_ms=last.open_time_ms + 1),
        account,
        PositionState("long", Decimal(1), last.close, last.open_time_ms),
    )
