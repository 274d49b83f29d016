"""The guards' memory survives a restart of the bot (a new GuardState read from disk)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from bot.guard_state import DAY_MS, GuardState


def test_peak_equity_day_pnl_and_last_loss_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "guards.json"
    guards = GuardState.load(path)
    day = 20_000 * DAY_MS
    guards.account_state(Decimal("1000"), day + 1, 0)
    guards.account_state(Decimal("1200"), day + 2, 1)
    guards.trade_closed(Decimal("-50.5"), day + 3)

    restarted = GuardState.load(path)  # the process died; a new one starts
    state = restarted.account_state(Decimal("1100"), day + 4, 0)
    assert state.peak_equity == Decimal("1200")
    assert state.day_start_equity == Decimal("1000")
    assert state.day_realized_pnl == Decimal("-50.5")
    assert state.last_loss_exit_ms == day + 3


def test_a_new_utc_day_starts_from_the_current_equity(tmp_path: Path) -> None:
    guards = GuardState.load(tmp_path / "guards.json")
    guards.account_state(Decimal("1000"), 5 * DAY_MS, 0)
    guards.trade_closed(Decimal("-10"), 5 * DAY_MS + 1)
    state = guards.account_state(Decimal("990"), 6 * DAY_MS, 0)
    assert state.day_start_equity == Decimal("990") and state.day_realized_pnl == 0
    assert state.peak_equity == Decimal("1000")
