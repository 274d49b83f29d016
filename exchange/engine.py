"""The exchange state machine: clock, markets, accounts, matching, funding and faults,
advanced step by step. Everything here is synchronous and runs on the server's event loop; the same seed and
the same calls on a manual clock always give the same result.

Invariant: `last_step` is the market time of the last processed step; every step time is a
multiple of `config.step_ms`, and steps are processed in time order, symbols in config order.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from exchange import funding
from exchange.accounts import Account, Accounts
from exchange.clock import Clock, wall_ms
from exchange.config import DEFAULT_START_MS, ExchangeConfig, instrument_for
from exchange.faults import Faults
from exchange.ids import IdSource
from exchange.market.pricepath import load_candles_csv
from exchange.market.symbol import StepResult, SymbolMarket
from exchange.matching import Matching
from exchange.ratelimit import RateLimiter

MAX_CATCH_UP_STEPS = 720
PublicListener = Callable[[SymbolMarket, StepResult], None]
PrivateListener = Callable[[int, str, list[dict]], None]


class Exchange:
    """All mutable state of one running exchange."""

    def __init__(self, config: ExchangeConfig) -> None:
        self.config = config
        self.faults = Faults(config.seed)
        self.public_listeners: list[PublicListener] = []
        self.private_listeners: list[PrivateListener] = []
        self._build()

    def _start_ms(self, csvs: dict) -> int:
        c = self.config
        if c.start_ms is not None:
            return c.start_ms
        if csvs:
            first = min(candles[0].open_time_ms for candles in csvs.values())
            return first - first % 60_000 + c.history_candles * 60_000
        if c.clock == "manual":
            return DEFAULT_START_MS
        now = wall_ms()
        return now - now % 60_000

    def _build(self) -> None:
        c = self.config
        csvs = {s: load_candles_csv(p) for s, p in c.candles.items() if s in c.symbols}
        start = self._start_ms(csvs)
        self.start_ms = start
        self.markets = {
            s: SymbolMarket(instrument_for(s), c.seed, c.step_ms, c.book_levels, csvs.get(s))
            for s in c.symbols
        }
        for t in range(start - c.history_candles * 60_000, start, c.step_ms):
            for market in self.markets.values():
                market.step(t, book=False)
        self.last_step = start - c.step_ms
        self.clock = Clock(c.clock, start, c.speed)
        self.accounts = Accounts(c.maker_fee, c.taker_fee)
        self.limiter = RateLimiter()
        self.default_account = self.accounts.create(c.starting_balance, c.api_key, c.api_secret)
        self.matching = Matching(
            self.markets,
            self.accounts,
            IdSource(c.seed, "orders"),
            self.now,
            self._emit,
            self._public_trades if c.market_impact else None,
        )
        self._funding_ids = IdSource(c.seed, "funding")
        self.paused = False
        self._forced: dict[str, Decimal] = {}
        self._stepping_ts: int | None = None
        self.advance_to(start)

    def reset(self) -> None:
        """Back to the state right after start (same seed, only the default account)."""
        self.faults.reset()
        self._build()

    def now(self) -> int:
        """Market time: the step being processed, else the clock."""
        return self._stepping_ts if self._stepping_ts is not None else self.clock.now_ms()

    def _public_trades(self, market: SymbolMarket, result: StepResult) -> None:
        for listener in self.public_listeners:
            listener(market, result)

    def _emit(self, uid: int, topic: str, data: list[dict]) -> None:
        for listener in self.private_listeners:
            listener(uid, topic, data)

    def advance_to(self, ts: int) -> int:
        """Process every step up to market time `ts`; returns how many ran."""
        ran = 0
        step = self.config.step_ms
        while self.last_step + step <= ts:
            self._step(self.last_step + step)
            ran += 1
        return ran

    def catch_up(self) -> int:
        """Process the steps the clock has passed (called by the wall-clock runner and
        before requests, so answers never lag the clock). A wall clock that fell far behind
        (a suspended machine) skips ahead instead of replaying hours at once; the skipped
        time shows as flat candles."""
        now = self.clock.now_ms()
        behind = (now - self.last_step) // self.config.step_ms
        if not self.clock.manual and behind > MAX_CATCH_UP_STEPS:
            self.last_step += (behind - MAX_CATCH_UP_STEPS) * self.config.step_ms
        return self.advance_to(now)

    def advance_clock(self, ms: int | None = None, to: int | None = None) -> int:
        """Manual clock only: move time and drive the market; returns the new time."""
        target = to if to is not None else self.clock.now_ms() + (ms or 0)
        self.clock.advance_to(target)
        self.advance_to(target)
        return target

    def _step(self, ts: int) -> None:
        self.last_step = ts
        if self.paused:
            return
        self._stepping_ts = ts
        try:
            for symbol, market in self.markets.items():
                result = market.step(ts, self._forced.pop(symbol, None))
                self._public_trades(market, result)
                self.matching.on_step(symbol, result)
                if self.config.funding and ts % funding.INTERVAL_MS == 0:
                    self._settle_funding(market, ts)
        finally:
            self._stepping_ts = None

    def _settle_funding(self, market: SymbolMarket, ts: int) -> None:
        """Charge or pay funding on every open position of `market` (see exchange.funding)."""
        spec, mark = market.spec, market.last_price
        rate = funding.rate(self.config.seed, spec.symbol, ts)
        for uid in sorted(self.accounts.by_uid):
            account = self.accounts.by_uid[uid]
            position = account.positions.get(spec.symbol)
            if position is None or position.size == 0:
                continue
            fee = (position.size * mark * rate).quantize(Decimal("0.00000001"))
            account.wallet -= fee
            account.cum_realised -= fee
            position.cum_realised -= fee
            position.cur_realised -= fee
            position.seq += 1
            position.updated = ts
            record = funding.execution(
                spec.symbol,
                position.size,
                mark,
                rate,
                fee,
                ts,
                self._funding_ids.next_uuid(),
                spec.tick_size,
                spec.qty_step,
                position.seq,
            )
            account.executions.append(record)
            self._emit(uid, "execution", [record])
            self._emit(uid, "position", [account.position_view(position, self.matching.mark)])
            self._emit(uid, "wallet", [account.wallet_view(self.matching.mark)])

    def force_price(self, symbol: str, price: Decimal) -> None:
        """Make the next step of `symbol` trade at `price` (the path continues from there)."""
        if symbol not in self.markets:
            raise KeyError(symbol)
        self._forced[symbol] = price

    def create_account(
        self,
        balance: Decimal | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
    ) -> Account:
        amount = self.config.starting_balance if balance is None else balance
        return self.accounts.create(amount, api_key, api_secret)

    def fund(self, uid: int, amount: Decimal) -> Account:
        account = self.accounts.by_uid[uid]
        account.wallet += amount
        self._emit(uid, "wallet", [account.wallet_view(self.matching.mark)])
        return account
