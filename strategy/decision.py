"""The decision rules of a template, shared verbatim by the live evaluator and the backtester.

``Rules`` holds everything derived from a template — the indicator plan, the session mask,
the exit kernel's config — and three steps of a decision:

* ``frame``: the market side (signals, combination, filters, sessions) over series;
* ``entry``: while flat, on a candle whose frame allows an entry: guards, risk limits,
  sizing and the protective levels;
* ``manage``: while in a position, the exit kernel over candles of that position.

The evaluator calls them on the candle that just closed; the backtester on whole arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from strategy.components.catalogue import COMPONENTS
from strategy.components.exits import kernel
from strategy.components.frame import MarketFrame, market_frame
from strategy.components.guards import risk_limits
from strategy.components.plan import Plan
from strategy.components.state import AccountState, GuardResult
from strategy.sessions import week_mask
from strategy.sizing import position_size
from strategy.template.model import Template

ENTER_LONG, ENTER_SHORT, EXIT, HOLD, WARMING_UP = (
    "enter_long",
    "enter_short",
    "exit",
    "hold",
    "warming_up",
)
SIDES = {ENTER_LONG: 1, ENTER_SHORT: -1}


@lru_cache(maxsize=1 << 16)  # candle prices repeat a lot; Decimals are immutable
def price(x: float) -> Decimal | None:
    """A float price as a Decimal with 12 significant digits (None for NaN).

    Candle prices come back as the text they were read from; computed levels
    (``entry * 0.98``) lose their last-bit float noise (99.96000000000001 -> 99.96).
    Rounding to the instrument's tick stays with the bot, which knows the instrument.
    """
    return None if math.isnan(x) else Decimal(f"{float(x):.12g}")


@dataclass(slots=True)
class Decision:
    """What to do after a closed candle.

    ``action``: enter_long | enter_short | exit | hold | warming_up.
    ``quantity``: units to enter (entries only).  ``reason``: the exit reason, or why an
    entry was refused ("paused", "guard:cooldown_after_loss", "size_zero", ...).
    ``exit_price``: for exits the candle touched (stops, target) the level it touched —
    an exchange-side order at that level has filled; None means exit at market now.
    ``stop_price``/``target_price``: protective levels in force for the next candle
    (for entries: computed from the signal candle's close; they follow the fill price once
    the position exists); ``stop_reason`` names the exit whose level the stop is
    (``stop_loss``, ``atr_stop``, ``break_even``, ``trailing_stop``).  ``signal_state``: JSON-able per-component outputs.
    ``until_ms``: for a guard refusal, when the block lifts by itself (None: unknown).
    ``entry_atr``: for entries with an ``atr_stop``, the ATR its stop is measured in; a bot
    keeps it with the trade and hands it back (``PositionState.entry_atr``) after a restart.
    """

    action: str
    quantity: Decimal | None = None
    reason: str | None = None
    exit_price: Decimal | None = None
    stop_price: Decimal | None = None
    target_price: Decimal | None = None
    stop_reason: str | None = None
    signal_state: dict[str, Any] = field(default_factory=dict)
    until_ms: int | None = None
    entry_atr: float | None = None


class ExitCheck(NamedTuple):
    """Outcome of the kernel over candles of one position."""

    index: int  # candle of the exit fill (-1: no exit yet)
    reason: str
    price: float  # fill price (NaN: at market, price unknown yet)
    best: float  # most favourable price over the completed candles held
    worst: float  # most adverse price over the completed candles held


class Rules:
    """A template's decision rules; see the module docstring."""

    def __init__(self, template: Template, qty_step: Decimal | None = None) -> None:
        self.template = template
        self.plan = Plan(template)
        self.qty_step = qty_step
        self.session_mask = week_mask(template.sessions)
        self.exit_cfg = kernel.exit_config([(c.type, c.params) for c in template.exits])
        atr_stop = [b for b in self.plan.exits if b.spec.type == "atr_stop"]
        self.atr_series = atr_stop[0].labels["atr"] if atr_stop else None
        self.guards = tuple((COMPONENTS[g.type], g.params) for g in template.guards)
        self.sizing_mode = template.sizing_mode
        self.sizing_value = template.sizing_value
        self.leverage = template.leverage
        self.timeframe_ms = template.timeframe_ms
        self.max_open_positions = template.risk["max_open_positions"]
        self.daily_loss_limit = template.risk["daily_loss_limit"]

    @property
    def warmup(self) -> int:
        return self.plan.warmup

    def frame(self, series: dict[str, np.ndarray], decision_ms: np.ndarray) -> MarketFrame:
        t = self.template
        return market_frame(
            self.plan,
            series,
            decision_ms,
            mode=t.combination_mode,
            threshold=t.threshold,
            long_enabled=t.long_enabled,
            short_enabled=t.short_enabled,
            session_mask=self.session_mask,
        )

    def guard_results(self, account: AccountState, now_ms: int) -> list[tuple[str, GuardResult]]:
        """Every guard's verdict, then the always-on risk limits'."""
        tf = self.timeframe_ms
        results = [(kind.type, kind.compute(account, now_ms, tf, p)) for kind, p in self.guards]
        results.append(
            ("max_open_positions", risk_limits.max_open_positions(account, self.max_open_positions))
        )
        results.append(
            (
                "daily_loss_limit",
                risk_limits.daily_loss_limit(account, now_ms, self.daily_loss_limit),
            )
        )
        return results

    def entry(
        self,
        action: str,
        account: AccountState,
        now_ms: int,
        ref_price: float,
        atr: float,
        entries_enabled: bool = True,
    ) -> Decision:
        """Entry decision for a candle whose frame says ``action`` (enter_long/enter_short).

        Its ``signal_state`` holds the guards' verdicts only; callers add the market part
        (``frame.signal_states``) — the backtester does so for all its trades at once.
        """
        if not entries_enabled:
            return Decision(HOLD, reason="paused")
        guards = self.guard_results(account, now_ms)
        verdicts = {"guards": {name: g.allowed for name, g in guards}}
        blocked = [(name, g) for name, g in guards if not g.allowed]
        if blocked:
            untils = [g.until_ms for _, g in blocked]
            return Decision(
                HOLD,
                reason=f"guard:{blocked[0][0]}",
                signal_state=verdicts,
                until_ms=None if None in untils else max(untils),
            )
        stop, target = kernel.entry_levels(float(SIDES[action]), ref_price, atr, self.exit_cfg)
        stop_price = price(stop)
        qty = position_size(
            self.sizing_mode,
            self.sizing_value,
            equity=account.equity,
            price=price(ref_price),
            leverage=self.leverage,
            stop_price=stop_price,
            qty_step=self.qty_step,
        )
        if qty <= 0:
            return Decision(HOLD, reason="size_zero", signal_state=verdicts)
        return Decision(
            action,
            quantity=qty,
            stop_price=stop_price,
            target_price=price(target),
            signal_state=verdicts,
        )

    def manage(
        self,
        open_: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        opposite: np.ndarray,
        start: int,
        st: np.ndarray,
    ) -> ExitCheck:
        """Run the exit kernel from candle ``start`` over a position with kernel state ``st``."""
        index, reason, fill = kernel.scan(open_, high, low, opposite, start, self.exit_cfg, st)
        return ExitCheck(
            int(index),
            kernel.REASONS[reason],
            float(fill),
            float(st[kernel.ST_BEST]),
            float(st[kernel.ST_WORST]),
        )

    def manage_new(
        self,
        open_: np.ndarray,
        high: np.ndarray,
        low: np.ndarray,
        opposite: np.ndarray,
        start: int,
        side: int,
        entry: float,
        atr: float,
    ) -> ExitCheck:
        """``manage`` for a position opened at the open of ``start`` (fresh kernel state)."""
        index, reason, fill, best, worst = kernel.scan_new(
            open_, high, low, opposite, start, self.exit_cfg, float(side), entry, atr
        )
        return ExitCheck(int(index), kernel.REASONS[reason], float(fill), best, worst)

    def levels(self, st: np.ndarray) -> tuple[Decimal | None, str | None, Decimal | None]:
        """(stop, the exit it belongs to, target) in force for the next candle."""
        stop, reason, target = kernel.levels(st, self.exit_cfg)
        return price(stop), (kernel.REASONS[reason] if reason else None), price(target)
