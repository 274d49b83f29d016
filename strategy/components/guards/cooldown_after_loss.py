"""cooldown_after_loss: no entry for `bars` candles after a losing trade closed."""

from __future__ import annotations

from strategy.components.base import ComponentType, Param, Params
from strategy.components.state import AccountState, GuardResult


def _allows(account: AccountState, now_ms: int, timeframe_ms: int, p: Params) -> GuardResult:
    if account.last_loss_exit_ms is None:
        return GuardResult(True)
    until = account.last_loss_exit_ms + p["bars"] * timeframe_ms
    return GuardResult(now_ms >= until, until)


COOLDOWN_AFTER_LOSS = ComponentType(
    type="cooldown_after_loss",
    kind="guard",
    description="Blocks entries until `bars` candles have passed since a losing trade closed.",
    params=(Param("bars", "integer", 10, "Cooldown length in candles", min=1, max=100_000),),
    outputs=("pass",),
    compute=_allows,
)
