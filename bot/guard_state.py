"""What the strategy's guards remember about the account between candles — peak equity (max
drawdown), the UTC day's starting equity and realised PnL (daily loss limit), and when the
last losing trade closed (cooldown) — kept in the working directory so that a restart after a
crash does not reset them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

from bot import config_cache
from strategy.components.state import AccountState

DAY_MS = 86_400_000


@dataclass
class GuardState:
    """The guards' memory; `path` is where it is saved (atomically) after every change."""

    path: Path
    peak_equity: Decimal | None = None
    day: int | None = None
    day_start_equity: Decimal = Decimal(0)
    day_pnl: Decimal = Decimal(0)
    last_loss_exit_ms: int | None = None
    last_exit_ms: int | None = None  # when the last trade closed: no entry in that candle

    @classmethod
    def load(cls, path: Path) -> GuardState:
        data = config_cache.load(path) or {}
        peak = data.get("peak_equity")
        return cls(
            path,
            Decimal(peak) if peak is not None else None,
            data.get("day"),
            Decimal(data.get("day_start_equity", "0")),
            Decimal(data.get("day_pnl", "0")),
            data.get("last_loss_exit_ms"),
            data.get("last_exit_ms"),
        )

    def save(self) -> None:
        data = {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}
        data.pop("path")
        config_cache.save(self.path, data)

    def trade_closed(self, pnl: Decimal, exit_ms: int) -> None:
        self.day_pnl += pnl
        self.last_exit_ms = exit_ms
        if pnl < 0:
            self.last_loss_exit_ms = exit_ms
        self.save()

    def account_state(self, equity: Decimal, now_ms: int, open_positions: int) -> AccountState:
        """The guards' view at `now_ms` with `equity`; a new UTC day starts a new day."""
        day = now_ms // DAY_MS
        changed = self.peak_equity is None or equity > self.peak_equity or day != self.day
        self.peak_equity = max(self.peak_equity or equity, equity)
        if day != self.day:
            self.day, self.day_start_equity, self.day_pnl = day, equity, Decimal(0)
        if changed:
            self.save()
        return AccountState(equity, self.peak_equity, self.day_start_equity, self.day_pnl,
                            open_positions, self.last_loss_exit_ms)
