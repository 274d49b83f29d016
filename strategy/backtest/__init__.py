"""The backtester: run a template over candles with the live bot's decision rules."""

from strategy.backtest.engine import run_backtest
from strategy.backtest.result import BacktestConfig, BacktestResult, Trade

__all__ = ["BacktestConfig", "BacktestResult", "Trade", "run_backtest"]
