"""The component catalogue: every component type by name, and its JSON form for the dashboard."""

from __future__ import annotations

from typing import Any

from strategy.components.base import ComponentType
from strategy.components.exits.atr_stop import ATR_STOP
from strategy.components.exits.break_even import BREAK_EVEN
from strategy.components.exits.opposite_signal import OPPOSITE_SIGNAL
from strategy.components.exits.stop_loss import STOP_LOSS
from strategy.components.exits.take_profit import TAKE_PROFIT
from strategy.components.exits.time_exit import TIME_EXIT
from strategy.components.exits.trailing_stop import TRAILING_STOP
from strategy.components.filters.spread import SPREAD
from strategy.components.filters.trend_strength import TREND_STRENGTH
from strategy.components.filters.volatility_band import VOLATILITY_BAND
from strategy.components.filters.volume import VOLUME
from strategy.components.guards.cooldown_after_loss import COOLDOWN_AFTER_LOSS
from strategy.components.guards.max_drawdown import MAX_DRAWDOWN
from strategy.components.signals.bollinger_breakout import BOLLINGER_BREAKOUT
from strategy.components.signals.donchian_breakout import DONCHIAN_BREAKOUT
from strategy.components.signals.ma_cross import MA_CROSS
from strategy.components.signals.macd_histogram import MACD_HISTOGRAM
from strategy.components.signals.rsi_reversal import RSI_REVERSAL
from strategy.components.signals.supertrend_direction import SUPERTREND_DIRECTION

KINDS = {"signals": "signal", "filters": "filter", "guards": "guard", "exits": "exit"}

COMPONENTS: dict[str, ComponentType] = {
    c.type: c
    for c in (
        MA_CROSS,
        RSI_REVERSAL,
        MACD_HISTOGRAM,
        BOLLINGER_BREAKOUT,
        DONCHIAN_BREAKOUT,
        SUPERTREND_DIRECTION,
        TREND_STRENGTH,
        VOLATILITY_BAND,
        VOLUME,
        SPREAD,
        COOLDOWN_AFTER_LOSS,
        MAX_DRAWDOWN,
        STOP_LOSS,
        TAKE_PROFIT,
        TRAILING_STOP,
        ATR_STOP,
        TIME_EXIT,
        BREAK_EVEN,
        OPPOSITE_SIGNAL,
    )
}


def _catalogue() -> dict[str, Any]:
    out: dict[str, Any] = {section: {} for section in KINDS}
    for section, kind in KINDS.items():
        for c in COMPONENTS.values():
            if c.kind == kind:
                out[section][c.type] = c.to_json()
    return out


# {"signals": {type: {...}}, "filters": ..., "guards": ..., "exits": ...} — plain JSON data.
CATALOGUE: dict[str, Any] = _catalogue()
