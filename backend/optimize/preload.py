"""Imported by the search processes' fork server only (follower.py): runs one tiny search so
that the fork server holds the engine's compiled kernels, and every search process forked
from it starts with them loaded instead of loading them from numba's cache itself (a second
or more per process)."""

from backend.optimize import child
from strategy.backtest.synthetic import random_walk

_TEMPLATE = {
    "schema_version": 1, "name": "warm-up", "symbol": "BTCUSDT", "timeframe": "1m",
    "signals": [{"type": "ma_cross", "params": {"fast": 5, "slow": 30, "mode": "trend"}}],
    "exits": [{"type": "opposite_signal"}],
    "combination": {"mode": "weighted_sum", "threshold": 1.0},
    "risk": {"sizing": {"mode": "fixed_quantity", "value": 0.01}},
}
child.search(_TEMPLATE, {"params": ["signals.0.fast=5,6"], "kind": "grid", "samples": None,
                         "seed": 0, "kpi": "net_pnl", "top": 1, "folds": [[0, 300, 300, 400]]},
             random_walk(400, seed=1), workers=1)
