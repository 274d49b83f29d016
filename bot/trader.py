"""Per closed candle: the strategy engine's decision, turned into orders on the venue.

Rules the trader keeps, whatever happens around it:

* exits are managed on every candle in every desired state (paused still exits); entries only
  while the desired state is ``run``;
* one trading step at a time (a lock): a candle and a stop request never interleave orders;
* every order carries the client id of its intent (``bot.order_ids``: trade seq + leg
  ``en``/``ex`` + revision for a second exit attempt) and is created at most once (the
  venue adapter); it is then *settled* (``bot.settling``), so no fill is ever missed and
  trades are accounted in fill order;
* the open position's protective stop and target live on the venue (``bot.protection``):
  set from the fill price at entry, moved each candle as trailing/break-even rules move them;
* a new template (`bot.live_strategy`) is built and warmed off the critical path and takes
  effect at the next candle; the open position is handed to it (entry, time, best price,
  entry ATR) so its exits go on.

The trader works on the venue-neutral types of `bot.venue` only; the venue adapter (Bybit:
`bot.bybit.venue`) alone knows the exchange's JSON.  At start `bot.adoption.adopt` makes
the trader agree with the venue (`resume`): the bot keeps no order state of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.guard_state import GuardState
from bot.instrument import Instrument, QuantityError
from bot.live_strategy import Strategy
from bot.market_data import BookTop, Candle
from bot.order_ids import is_own, order_link_id, parse_order_link_id
from bot.positions import AccountModel, Reconciliation
from bot.protection import Levels, exit_reason, protect
from bot.reporting import Reporter, money
from bot.settling import settle
from bot.trade import OpenTrade
from bot.venue import Direction, Fill, FillKind, NoPosition, Order, Venue, VenueError
from strategy.components.state import AccountState, PositionState
from strategy.decision import ENTER_LONG, ENTER_SHORT, EXIT, HOLD, WARMING_UP, Decision
from strategy.evaluator import Candle as EvalCandle

log = logging.getLogger(__name__)

HISTORY_KEEP = 2000


class Trader:
    """Trades one bot's strategy on one symbol; see the module docstring."""

    def __init__(
        self,
        *,
        bot_id: str,
        timeframe_ms: int,
        venue: Venue,
        instrument: Instrument,
        account: AccountModel,
        reporter: Reporter,
        workdir: Path,
    ) -> None:
        self.bot_id, self.symbol, self.timeframe_ms = bot_id, instrument.symbol, timeframe_ms
        self.venue, self.instrument, self.account = venue, instrument, account
        self.reporter = reporter
        self.trade_file = workdir / "open_trade.json"
        self.guards = GuardState.load(workdir / "guards.json")
        # Invariants of the trading state (changed only under ``lock``, by this class):
        # * ``trade`` is the open trade, or None when flat; once its first fill is accounted it
        #   is saved in ``trade_file`` after every change, and the file is gone when flat;
        # * ``next_seq`` is above every trade seq this bot has used (on the venue too);
        # * ``strategy`` decides the next candle; ``pending`` replaces it at that candle;
        # * ``history`` holds the latest closed candles, oldest first, no open time twice,
        #   at least the running strategy's parity history; ``last_candle_ms`` is the newest.
        self.lock = asyncio.Lock()
        self.trade: OpenTrade | None = None
        self.next_seq = 1
        self.strategy: Strategy | None = None
        self.pending: Strategy | None = None
        self.desired_state = "run"
        self.history: deque[Candle] = deque(maxlen=HISTORY_KEEP)
        self.last_candle_ms = 0
        # what the venue said last (refreshed from the stream and reconciliation)
        self.wallet_balance = Decimal(0)
        self.leverage: Decimal | None = None
        self.book: BookTop | None = None
        # progress signals for settling, tests and the bench
        self.fill_arrived = asyncio.Event()
        self.candle_done = asyncio.Condition()
        self.candles_done = 0
        self.warm_reported = False

    def resume(self, trade: OpenTrade | None, next_seq: int) -> None:
        """Adopt the open trade and the numbering found on the venue (`bot.adoption`)."""
        self.trade = trade
        self.next_seq = max(self.next_seq, next_seq)

    # the strategy ---------------------------------------------------------------------------

    async def use_strategy(self, strategy: Strategy) -> None:
        """Take ``strategy`` at the next candle (immediately if none is running yet)."""
        self.keep_history(strategy.evaluator.parity_history)
        if self.strategy is None:
            self.strategy = strategy
            await self.ensure_leverage()
        else:
            self.pending = strategy

    async def ensure_leverage(self) -> None:
        """Give the venue position the template's leverage (margin follows the template)."""
        assert self.strategy is not None
        wanted = self.strategy.evaluator.template.leverage
        if wanted == self.leverage:
            return
        try:
            await self.venue.set_leverage(wanted)
        except VenueError as exc:
            self.reporter.event(
                "exchange_error", f"leverage {wanted} refused: {exc}", level="warning"
            )
            return
        self.leverage = wanted

    def keep_history(self, count: int) -> None:
        """Keep at least the last ``count`` candles (a template's parity history)."""
        if self.history.maxlen is not None and self.history.maxlen < count:
            self.history = deque(self.history, maxlen=count)

    # fills --------------------------------------------------------------------------------------

    def on_fills(self, fills: list[Fill]) -> None:
        """New fills of the symbol (from the stream or found by reconciliation)."""
        for fill in sorted(fills, key=lambda f: f.time_ms):
            if fill.kind is FillKind.FUNDING:
                # funding paid or received while the trade is open is part of its PnL
                if self.trade is not None:
                    self.trade.add_funding(fill)
                continue
            if self.trade is None:
                intent = parse_order_link_id(fill.link_id)
                own = intent is not None and is_own(fill.link_id, self.bot_id)
                seq = intent.trade_seq if own and intent is not None else self.next_seq
                start = fill.time_ms - fill.time_ms % self.timeframe_ms
                self.trade = OpenTrade(seq, Direction.of_entry(fill.side), start)
                self.next_seq = max(self.next_seq, seq + 1)
            trade = self.trade
            if fill.trigger and fill.side is not trade.entry_side and not trade.exit_reason:
                # an exit the bot did not send: the venue-side stop or target fired
                trade.exit_reason = exit_reason(fill.trigger, trade.stop_reason)
            trade.add_fill(fill)
            self.reporter.execution(fill)
            if trade.closed:
                self._close_trade()
        self._save_trade()
        self.fill_arrived.set()

    def _close_trade(self) -> None:
        trade, self.trade = self.trade, None
        assert trade is not None
        self.reporter.trade(self.symbol, trade)
        self.guards.trade_closed(trade.pnl, trade.exit_ms)
        self.reporter.event(
            "trade_closed",
            f"trade {trade.seq} closed ({trade.side} "
            f"{money(trade.entry_qty)}, pnl {trade.pnl}, {trade.exit_reason})",
            key=f"closed:{trade.seq}",
        )

    def _save_trade(self) -> None:
        if self.trade is not None and self.trade.entry_qty:
            self.trade.save(self.trade_file)
        elif self.trade is None:
            self.trade_file.unlink(missing_ok=True)

    def on_reconciliation(self, result: Reconciliation, why: str) -> None:
        """Log every difference with both views; account the fills the stream lost."""
        for diff in result.differences:
            self.reporter.reconciliation(why, diff)
        if result.missed_fills:
            self.on_fills(result.missed_fills)

    async def reconcile(self, why: str) -> None:
        self.on_reconciliation(await self.account.reconcile(self.venue), why)

    # one closed candle ------------------------------------------------------------------------

    async def on_candle(self, candle: Candle) -> Decision | None:
        """Decide on ``candle`` and act; None for a candle seen before."""
        async with self.lock:
            if candle.open_time_ms <= self.last_candle_ms or self.strategy is None:
                return None
            self.history.append(candle)
            self.last_candle_ms = candle.open_time_ms
            if self.pending is not None:
                self.strategy, self.pending = self.pending, None
                await self.ensure_leverage()
                self.reporter.event(
                    "config_applied",
                    f"template version {self.strategy.version} in force from this candle",
                    key=f"template:{self.strategy.version}:{candle.open_time_ms}",
                )
            # the engine sees the best price of completed candles only, as in a backtest; the
            # trade's MFE/MAE include this candle
            best_before = self.trade.best_price if self.trade is not None else None
            if self.trade is not None and candle.open_time_ms >= self.trade.entry_candle_ms:
                self.trade.observe(candle.high, candle.low)
            decision = self._decide(candle, best_before)
            close_ms = candle.open_time_ms + self.timeframe_ms
            try:
                await self._act(decision, candle, close_ms)
            except VenueError as exc:  # the venue stayed unreachable: next candle retries
                self.reporter.event(
                    "exchange_error", f"candle {candle.open_time_ms}: {exc}", level="error"
                )
            self._report_candle(candle, decision, close_ms)
        async with self.candle_done:
            self.candles_done += 1
            self.candle_done.notify_all()
        return decision

    def _decide(self, candle: Candle, best_price: Decimal | None) -> Decision:
        assert self.strategy is not None
        position = None
        trade = self.trade
        if trade is not None and self.account.position.size:
            position = PositionState(
                trade.side,
                self.account.position.size,
                trade.entry_price or self.account.position.avg_price,
                trade.entry_candle_ms,
                best_price,
                trade.entry_atr,
            )
        last_exit = self.guards.last_exit_ms
        return self.strategy.evaluator.on_candle(
            EvalCandle(*candle.floats()),
            self._account_state(candle.close),
            position,
            entries_enabled=self.desired_state == "run",
            spread_bps=self._spread_bps(),
            last_exit_candle_ms=None
            if last_exit is None
            else last_exit - last_exit % self.timeframe_ms,
        )

    def _spread_bps(self) -> float:
        """The book's spread now, for a template's spread filter (NaN without a book)."""
        book = self.book
        if book is None or book.bid <= 0 or book.ask <= 0:
            return float("nan")
        return float((book.ask - book.bid) / ((book.ask + book.bid) / 2) * 10_000)

    async def on_book_top(self, book: BookTop) -> None:
        self.book = book

    async def _act(self, decision: Decision, candle: Candle, close_ms: int) -> None:
        if decision.action == WARMING_UP:
            if not self.warm_reported:
                self.warm_reported = True
                self.reporter.event(
                    "warming_up",
                    f"warming up: {decision.reason}",
                    key=f"warming:{candle.open_time_ms}",
                )
            return
        held = self.account.position.size
        if self.trade is not None and self.trade.exit_reason and held:
            await self.exit(self.trade.exit_reason)  # a previous exit did not complete
        elif decision.action == EXIT and held:
            await self.exit(decision.reason or "exit")
        elif decision.action in (ENTER_LONG, ENTER_SHORT):
            if self.desired_state == "run" and not held and self.trade is None:
                await self._enter(decision, close_ms)
        elif decision.action == HOLD and held:
            await self._protect(
                Levels(decision.stop_price, decision.stop_reason, decision.target_price)
            )

    async def _protect(self, levels: Levels) -> None:
        """Keep the open trade's protective levels on the venue (`bot.protection`); close at
        market when the market is already beyond one."""
        trade = self.trade
        if trade is None or trade.open_qty <= 0:
            return
        trade.stop_reason = levels.stop_reason
        self._save_trade()
        position = self.account.position
        held = (position.stop_loss, position.take_profit) if position.size else None
        try:
            passed = await protect(self.venue, self.instrument, levels, trade.side, held)
        except VenueError as exc:
            self.reporter.event(
                "exchange_error", f"protective levels not set: {exc}", level="warning"
            )
            return
        if passed is not None:
            await self.exit(passed)

    async def _enter(self, decision: Decision, close_ms: int) -> None:
        direction = Direction.LONG if decision.action == ENTER_LONG else Direction.SHORT
        seq, self.next_seq = self.next_seq, self.next_seq + 1
        link_id = order_link_id(self.bot_id, seq, "en")
        trade = OpenTrade(seq, direction, close_ms, dict(decision.signal_state))
        trade.entry_atr = decision.entry_atr
        self.trade = trade  # before the order: its fill may arrive before the answer
        try:
            qty = self.instrument.round_qty(decision.quantity or Decimal(0))
            order = await self.venue.market_order(direction.entry_side, qty, link_id)
        except (QuantityError, VenueError, LookupError) as exc:
            self.trade = None if not trade.entry_qty else trade
            self.reporter.order_rejected(link_id, "entry", exc)
            return
        self.reporter.order_placed(link_id, order, f"entry {direction} {qty}")
        await self._settle(order)
        if self.trade is trade and not trade.entry_qty:
            self.trade = None  # nothing filled: no trade
        self._save_trade()
        if self.trade is trade and self.strategy is not None:
            evaluator = self.strategy.evaluator
            levels = evaluator.entry_levels(direction, trade.entry_price, trade.entry_atr)
            await self._protect(Levels(*levels))

    async def exit(self, reason: str) -> None:
        """Close the whole open position at market (reduce-only), remembering ``reason``."""
        position, trade = self.account.position, self.trade
        if position.direction is None:
            return
        if trade is None:
            await self.reconcile("exit without a known trade")
            trade = self.trade
            if trade is None:
                return
        trade.exit_reason = trade.exit_reason or reason
        link_id = order_link_id(self.bot_id, trade.seq, "ex", trade.exit_attempts)
        trade.exit_attempts += 1
        self._save_trade()
        side = position.direction.entry_side.opposite
        try:
            order = await self.venue.market_order(side, position.size, link_id, reduce_only=True)
        except NoPosition:
            await self.reconcile("exit found no position")
            return
        except (QuantityError, VenueError, LookupError) as exc:
            self.reporter.order_rejected(link_id, "exit", exc)
            return
        self.reporter.order_placed(link_id, order, f"exit ({trade.exit_reason}) {position.size}")
        await self._settle(order)

    async def _settle(self, order: Order) -> None:
        if not await settle(self.venue, self.account, self.fill_arrived, self.reconcile, order):
            self.reporter.event(
                "order_unsettled",
                f"order {order.link_id}: executions still missing",
                level="error",
                key=f"order:{order.link_id}:unsettled",
            )

    # account state and the per-candle reports --------------------------------------------------

    async def refresh_wallet(self) -> None:
        self.wallet_balance = await self.venue.wallet_balance()

    def _balance(self) -> Decimal:
        if self.account.wallet_balance is not None:
            self.wallet_balance = self.account.wallet_balance
        return self.wallet_balance

    def _unrealised(self, price: Decimal) -> Decimal:
        position = self.account.position
        if position.direction is None:
            return Decimal(0)
        return position.direction.sign * (price - position.avg_price) * position.size

    def _account_state(self, price: Decimal) -> AccountState:
        open_positions = 1 if self.account.position.size else 0
        equity = self._balance() + self._unrealised(price)
        return self.guards.account_state(equity, self.last_candle_ms, open_positions)

    def _report_candle(self, candle: Candle, decision: Decision, close_ms: int) -> None:
        if decision.action == WARMING_UP:
            return
        opened = candle.open_time_ms
        state = {**decision.signal_state, "action": decision.action, "reason": decision.reason}
        self.reporter.signal(opened, state)
        balance = self._balance()
        self.reporter.equity(opened, close_ms, balance + self._unrealised(candle.close), balance)
        self.reporter.positions(opened, close_ms, self.position_rows(candle.close))

    def position_rows(self, price: Decimal) -> list[dict[str, Any]]:
        """The open position as `bot:reportPositions` rows, marked at `price`."""
        position = self.account.position
        if position.direction is None:
            return []
        return [
            {
                "symbol": self.symbol,
                "side": str(position.direction),
                "size": position.size,
                "entry_price": position.avg_price,
                "unrealised_pnl": money(self._unrealised(price)),
                "leverage": position.leverage or self.leverage or Decimal(1),
            }
        ]

    async def wait_candles(self, count: int, timeout_s: float = 10.0) -> None:
        """Wait until ``count`` candles have been handled (for tests and the bench)."""
        async with asyncio.timeout(timeout_s):
            async with self.candle_done:
                await self.candle_done.wait_for(lambda: self.candles_done >= count)
