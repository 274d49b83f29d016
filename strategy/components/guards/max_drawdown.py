"""max_drawdown: no entry while equity is `max_pct` percent or more below its peak."""

from __future__ import annotations

from decimal import Decimal

from strategy.components.base import ComponentType, Param, Params
from strategy.components.state import AccountState, GuardResult


def _allows(account: AccountState, now_ms: int, timeframe_ms: int, p: Params) -> GuardResult:
    peak = account.peak_equity if account.peak_equity is not None else account.equity
    if peak <= 0:
        return GuardResult(False)
    drawdown_pct = (peak - account.equity) / peak * 100
    return GuardResult(drawdown_pct < Decimal(str(p["max_pct"])))


MAX_DRAWDOWN = ComponentType(
    type="max_drawdown",
    kind="guard",
    description="Blocks entries while (peak equity - equity) / peak equity >= max_pct percent.",
    params=(
        Param(
            "max_pct",
            "number",
            20.0,
            "Largest tolerated drawdown (%)",
            min=0,
            max=100,
            exclusive_min=True,
        ),
    ),
    outputs=("pass",),
    compute=_allows,
)
