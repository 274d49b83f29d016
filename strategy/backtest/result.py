"""What a backtest returns: its configuration, trades, equity curve and KPIs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from strategy.kpis import Kpis


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Execution assumptions.

    Fees are fractions of notional (0.00055 = 5.5 bps).  Every fill is a market order
    (entries, exits at a close, and the exchange-side stops and targets: see
    ``level_fills``) and pays ``taker_fee`` and ``slippage_bps`` against the trader.
    ``spread_bps`` is the constant
    spread fed to the spread filter (candles carry none).  ``qty_step`` rounds quantities
    down to the instrument's lot size.  ``funding_rate`` is charged every 8 h on open
    positions (``strategy.backtest.funding``; 0 = not modelled, Bybit's base is 0.0001).
    ``decide_from_ms``: the open time of the first candle decided; earlier candles only warm
    the indicators (as a live bot's warm-up history does). None: decide from the warm-up on.
    """

    initial_equity: Decimal = Decimal(10_000)
    taker_fee: Decimal = Decimal("0.00055")
    slippage_bps: Decimal = Decimal(0)
    spread_bps: float = 0.0
    qty_step: Decimal | None = None
    funding_rate: Decimal = Decimal(0)
    decide_from_ms: int | None = None


@dataclass(slots=True)
class Trade:
    """One closed (or end-of-data closed) trade; money in Decimal, times in UTC ms.

    ``entry_index``/``exit_index`` are candle indices of the fills.  ``mfe``/``mae``: the
    most favourable/adverse move over the trade in quote currency (>= 0), from the highs and
    lows of the candles held before the exit candle, plus the exit price itself.
    """

    side: str
    quantity: Decimal
    entry_index: int
    entry_time_ms: int
    entry_price: Decimal
    exit_index: int
    exit_time_ms: int
    exit_price: Decimal
    exit_reason: str
    entry_fee: Decimal
    fees: Decimal  # entry + exit fee (+ funding when modelled)
    pnl: Decimal
    mfe: Decimal
    mae: Decimal
    signal_state: dict[str, Any]

    @property
    def hold_ms(self) -> int:
        return self.exit_time_ms - self.entry_time_ms

    def to_json(self) -> dict[str, Any]:
        out = {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}
        out["hold_ms"] = self.hold_ms
        return out


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Trades, the per-candle equity curve (close of each candle, mark-to-market) and KPIs.

    The equity curve is float64 (it feeds ratio math); trade money is exact Decimal.
    """

    template_name: str
    config: BacktestConfig
    trades: Sequence[Trade]  # a list, or the compiled path's TradeColumns (built on access)
    equity_times_ms: np.ndarray
    equity: np.ndarray
    kpis: Kpis
    candles: int
    warmup: int

    def to_json(self, max_equity_points: int = 1000) -> dict[str, Any]:
        step = max(1, -(-len(self.equity) // max_equity_points))
        idx = np.unique(np.append(np.arange(0, len(self.equity), step), len(self.equity) - 1))
        idx = idx[idx >= 0]
        return {
            "template": self.template_name,
            "candles": self.candles,
            "warmup": self.warmup,
            "config": {
                k: str(v) if v is not None else None for k, v in asdict(self.config).items()
            },
            "kpis": self.kpis.to_json(),
            "trades": [t.to_json() for t in self.trades],
            "equity": [[int(self.equity_times_ms[i]), repr(float(self.equity[i]))] for i in idx],
        }
