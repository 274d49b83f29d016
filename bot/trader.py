"""Per closed candle: the strategy engine's decision, turned into orders on the exchange.

Rules the trader keeps, whatever happens around it:

* exits are managed on every candle in every desired state (paused still exits); entries only
  while the desired state is ``run``;
* one trading step at a time (a lock): a candle and a stop request never interleave orders;
* every order carries the orderLinkId of its intent (``bot.order_ids``: trade seq + leg
  ``en``/``ex`` + revision for a second exit attempt) and is created at most once
  (`bot.orders.Orders.place`); it is then *settled*: its executions are waited for on the
  private stream and fetched over REST (reconciliation) if the stream lost them, so no fill is
  ever missed and trades are accounted in execution order;
* a new template (`bot.live_strategy`) is built and warmed off the critical path and takes
  effect at the next candle; the open position is handed to it (entry, time, best price) so
  its exits go on.

At start `bot.adoption.adopt` makes the trader agree with the exchange (position, orphan
orders, trade numbering): the bot keeps no order state of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.bybit.errors import ApiError, BybitError
from bot.bybit.rest import BybitRest
from bot.guard_state import GuardState
from bot.instrument import Instrument, QuantityError
from bot.live_strategy import Strategy
from bot.market_data import BookTop, Candle
from bot.order_ids import is_own, order_link_id, parse_order_link_id
from bot.orders import OPEN_STATUSES, Orders
from bot.positions import AccountModel, Reconciliation
from bot.reporting import OpenTrade, Reporter, money
from strategy.components.state import AccountState, PositionState
from strategy.decision import ENTER_LONG, ENTER_SHORT, EXIT, WARMING_UP, Decision
from strategy.evaluator import Candle as EvalCandle

log = logging.getLogger(__name__)

REDUCE_ONLY_NO_POSITION = 110017
LEVERAGE_NOT_MODIFIED = 110043
SETTLE_STREAM_WAIT_S = 0.25
SETTLE_ROUNDS = 40
HISTORY_KEEP = 2000
# executions that fill the trade: ordinary trades and a liquidation (Bybit's BustTrade)
FILL_TYPES = ("Trade", "BustTrade")


class Trader:
    """Trades one bot's strategy on one symbol; see the module docstring."""

    def __init__(
        self,
        *,
        bot_id: str,
        symbol: str,
        timeframe_ms: int,
        rest: BybitRest,
        instrument: Instrument,
        account: AccountModel,
        reporter: Reporter,
        workdir: Path,
    ) -> None:
        self.bot_id, self.symbol, self.timeframe_ms = bot_id, symbol, timeframe_ms
        self.rest, self.instrument, self.account = rest, instrument, account
        self.orders = Orders(rest, instrument)
        self.reporter = reporter
        self.trade_file = workdir / "open_trade.json"
        self.lock = asyncio.Lock()
        self.strategy: Strategy | None = None
        self.pending: Strategy | None = None
        self.desired_state = "run"
        self.trade: OpenTrade | None = None
        self.next_seq = 1
        self.history: deque[Candle] = deque(maxlen=HISTORY_KEEP)
        self.last_candle_ms = 0
        self.candles_done = 0
        self.warm_reported = False
        self.guards = GuardState.load(workdir / "guards.json")
        self.wallet_balance = Decimal(0)
        self.leverage: Decimal | None = None
        self.book: BookTop | None = None
        self.exec_arrived = asyncio.Event()
        self.candle_done = asyncio.Condition()

    # the strategy ---------------------------------------------------------------------------

    async def use_strategy(self, strategy: Strategy) -> None:
        """Take ``strategy`` at the next candle (immediately if none is running yet)."""
        if self.strategy is None:
            self.strategy = strategy
            await self.ensure_leverage()
        else:
            self.pending = strategy

    async def ensure_leverage(self) -> None:
        """Give the exchange position the template's leverage (margin follows the template)."""
        assert self.strategy is not None
        wanted = self.strategy.evaluator.template.leverage
        if wanted == self.leverage:
            return
        body = {
            "category": "linear",
            "symbol": self.symbol,
            "buyLeverage": wanted,
            "sellLeverage": wanted,
        }
        try:
            await self.rest.post("/v5/position/set-leverage", body)
        except ApiError as exc:
            if exc.ret_code != LEVERAGE_NOT_MODIFIED:
                self.reporter.event(
                    "exchange_error", f"leverage {wanted} refused: {exc}", level="warning"
                )
                return
        self.leverage = wanted

    @property
    def warmup(self) -> int:
        return self.strategy.evaluator.warmup if self.strategy else 0

    # executions -----------------------------------------------------------------------------

    def on_executions(self, rows: list[dict[str, Any]]) -> None:
        """New executions of the symbol (from the stream or found by reconciliation)."""
        for row in sorted(rows, key=lambda r: int(r.get("execTime") or 0)):
            kind = row.get("execType", "Trade")
            if row.get("symbol") != self.symbol or kind not in FILL_TYPES + ("Funding",):
                continue
            if kind == "Funding":
                # funding paid or received while the trade is open is part of its PnL
                if self.trade is not None:
                    self.trade.add_funding(row)
                continue
            if self.trade is None:
                intent = parse_order_link_id(row.get("orderLinkId", ""))
                seq = (
                    intent.trade_seq
                    if intent and is_own(row["orderLinkId"], self.bot_id)
                    else self.next_seq
                )
                side = "long" if row["side"] == "Buy" else "short"
                ms = int(row.get("execTime") or 0)
                self.trade = OpenTrade(seq, side, ms - ms % self.timeframe_ms)
                self.next_seq = max(self.next_seq, seq + 1)
            self.trade.add_execution(row)
            self.reporter.execution(row)
            if self.trade.closed:
                self._close_trade()
        self._save_trade()
        self.exec_arrived.set()

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
        if result.missed_executions:
            self.on_executions(result.missed_executions)

    async def reconcile(self, why: str) -> None:
        self.on_reconciliation(await self.account.reconcile(self.rest), why)

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
                try:
                    await self.ensure_leverage()
                except BybitError as exc:
                    log.warning("leverage not set: %s", exc)
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
            except BybitError as exc:  # the exchange stayed unreachable: next candle retries
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
        if self.trade is not None and self.account.position.size:
            position = PositionState(
                self.trade.side,
                self.account.position.size,
                self.trade.entry_price or self.account.position.avg_price,
                self.trade.entry_candle_ms,
                best_price,
            )
        return self.strategy.evaluator.on_candle(
            EvalCandle(
                candle.open_time_ms,
                float(candle.open),
                float(candle.high),
                float(candle.low),
                float(candle.close),
                float(candle.volume),
            ),
            self._account_state(candle.close),
            position,
            entries_enabled=self.desired_state == "run",
            spread_bps=self._spread_bps(),
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
        if self.trade is not None and self.trade.exit_reason and self.account.position.size:
            await self.exit(self.trade.exit_reason)  # a previous exit did not complete
        elif decision.action == EXIT and self.account.position.size:
            await self.exit(decision.reason or "exit")
        elif (
            decision.action in (ENTER_LONG, ENTER_SHORT)
            and self.desired_state == "run"
            and not self.account.position.size
            and self.trade is None
        ):
            await self._enter(decision, close_ms)

    async def _enter(self, decision: Decision, close_ms: int) -> None:
        side = "long" if decision.action == ENTER_LONG else "short"
        seq, self.next_seq = self.next_seq, self.next_seq + 1
        link_id = order_link_id(self.bot_id, seq, "en")
        trade = OpenTrade(seq, side, close_ms, dict(decision.signal_state))
        self.trade = trade  # before the order: its fill may arrive before the answer
        try:
            qty = self.instrument.round_qty(decision.quantity or Decimal(0))
            view = await self.orders.market_entry(trade.entry_side, qty, link_id)
        except (QuantityError, BybitError, LookupError) as exc:
            self.trade = None if not trade.entry_qty else trade
            self.reporter.order_rejected(link_id, "entry", exc)
            return
        self.reporter.order_placed(link_id, view, f"entry {side} {qty}")
        await self.settle(link_id, view)
        if self.trade is trade and not trade.entry_qty:
            self.trade = None  # nothing filled: no trade
        self._save_trade()

    async def exit(self, reason: str) -> None:
        """Close the whole open position at market (reduce-only), remembering ``reason``."""
        position, trade = self.account.position, self.trade
        if not position.size:
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
        try:
            view = await self.orders.market_exit(position.side, position.size, link_id)
        except ApiError as exc:
            if exc.ret_code == REDUCE_ONLY_NO_POSITION:
                await self.reconcile("exit found no position")
                return
            self.reporter.order_rejected(link_id, "exit", exc)
            return
        except (QuantityError, BybitError, LookupError) as exc:
            self.reporter.order_rejected(link_id, "exit", exc)
            return
        self.reporter.order_placed(link_id, view, f"exit ({trade.exit_reason}) {position.size}")
        await self.settle(link_id, view)

    async def settle(self, link_id: str, view: dict[str, Any]) -> None:
        """Wait until every execution of the order is accounted (stream first, then REST)."""
        for round_ in range(SETTLE_ROUNDS):
            if view.get("orderStatus") in OPEN_STATUSES or not view.get("orderStatus"):
                try:
                    view = await self.orders.find(link_id) or view
                except BybitError as exc:
                    log.warning("order %s not found yet: %s", link_id, exc)
                    await asyncio.sleep(0.1)
                    continue
            need = Decimal(view.get("cumExecQty") or 0)
            got = sum(
                (Decimal(e["execQty"]) for e in self.account.executions_of(link_id)), Decimal(0)
            )
            if got >= need and view.get("orderStatus") not in OPEN_STATUSES:
                return
            self.exec_arrived.clear()
            if round_ == 0:
                try:
                    await asyncio.wait_for(self.exec_arrived.wait(), SETTLE_STREAM_WAIT_S)
                except TimeoutError:
                    pass
                continue
            try:
                await self.reconcile(f"order {link_id} settling")
            except BybitError as exc:
                log.warning("reconciliation failed while settling %s: %s", link_id, exc)
                await asyncio.sleep(0.1)
        self.reporter.event(
            "order_unsettled",
            f"order {link_id}: executions still missing",
            level="error",
            key=f"order:{link_id}:unsettled",
        )

    # account state and the per-candle reports --------------------------------------------------

    async def refresh_wallet(self) -> None:
        result = await self.rest.get(
            "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, signed=True
        )
        rows = result.get("list") or [{}]
        self.wallet_balance = Decimal(rows[0].get("totalWalletBalance") or 0)

    def _balance(self) -> Decimal:
        wallet = self.account.wallet
        if wallet and wallet.get("totalWalletBalance"):
            self.wallet_balance = Decimal(wallet["totalWalletBalance"])
        return self.wallet_balance

    def _equity(self, price: Decimal) -> Decimal:
        position = self.account.position
        sign = 1 if position.side == "Buy" else -1
        return self._balance() + sign * (price - position.avg_price) * position.size

    def _account_state(self, price: Decimal) -> AccountState:
        open_positions = 1 if self.account.position.size else 0
        return self.guards.account_state(self._equity(price), self.last_candle_ms, open_positions)

    def _report_candle(self, candle: Candle, decision: Decision, close_ms: int) -> None:
        if decision.action == WARMING_UP:
            return
        opened = candle.open_time_ms
        state = {**decision.signal_state, "action": decision.action, "reason": decision.reason}
        self.reporter.signal(opened, state)
        self.reporter.equity(opened, close_ms, self._equity(candle.close), self._balance())
        position = self.account.position
        rows = []
        if position.size:
            sign = 1 if position.side == "Buy" else -1
            rows.append(
                {
                    "symbol": self.symbol,
                    "side": "long" if sign > 0 else "short",
                    "size": position.size,
                    "entry_price": position.avg_price,
                    "unrealised_pnl": money(
                        sign * (candle.close - position.avg_price) * position.size
                    ),
                    "leverage": Decimal(10),
                }
            )
        self.reporter.positions(opened, close_ms, rows)

    async def wait_candles(self, count: int, timeout_s: float = 10.0) -> None:
        """Wait until ``count`` candles have been handled (for tests and the bench)."""
        async with asyncio.timeout(timeout_s):
            async with self.candle_done:
                await self.candle_done.wait_for(lambda: self.candles_done >= count)
