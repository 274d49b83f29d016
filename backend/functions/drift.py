"""Live-vs-backtest drift (`drift:report`): is the bot doing what its backtest does?

An action, as it reads the exchange: it replays the bot's candles of [start, end) — fetched
from the exchange's kline history, with the template's parity history before `start` — through
the backtester with the bot's template version and the fee rate its trades paid, then
compares trade by trade with the bot's real trades (backend/domain/drift.py).
`drift:inputs` is the query it reads the backend with (also useful alone).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from pydantic import AwareDatetime

from backend.domain.botstate import owned_bot
from backend.domain.drift import ORDER_EVENTS, DriftReport, compare, taker_fee_of
from backend.domain.exchanges import endpoint
from backend.domain.history import TradeOutcome
from backend.domain.journal import MAX_RANGE
from backend.runtime import BadRequest, Ctx, Id, action, query
from strategy.backtest import BacktestConfig, run_backtest
from strategy.evaluator import Evaluator
from strategy.indicators import Candles
from strategy.journal import backtest_journal
from strategy.template import validate_template

BotId = Id["bots"]
DEFAULT_TAKER_FEE = Decimal("0.00055")
TRADE_COLUMNS = ("side, quantity, entry_price, exit_price, entry_at, exit_at, fees, pnl, "
                 "exit_reason")


class Outcome(TypedDict):
    candle_at: datetime
    outcome: str


class OrderEvent(TypedDict):
    kind: str
    message: str
    at: datetime


class DriftInputs(TypedDict):
    """What the backend knows for a drift report: template, exchange, trades, journal."""

    symbol: str
    template: dict[str, Any]
    template_version: int
    rest_url: str | None
    ca_pem: str | None
    trades: list[TradeOutcome]
    journal: list[Outcome]
    order_events: list[OrderEvent]


@query
async def inputs(ctx: Ctx, bot_id: BotId, start: AwareDatetime, end: AwareDatetime
                 ) -> DriftInputs:
    """The bot's template, exchange endpoint, trades entered in [start, end), journal
    outcomes of that period and its latest order-error events."""
    if end <= start or end - start > MAX_RANGE:
        raise BadRequest(f"end must be after start, at most {MAX_RANGE.days} days", field="end")
    bot = await owned_bot(ctx.db, bot_id, ctx.auth.require_user())
    template = await ctx.db.fetchval(
        "SELECT template FROM strategy_versions WHERE strategy_id = $1 AND version = $2",
        bot["strategy_id"], bot["strategy_version"])
    key = await ctx.db.fetchrow("SELECT exchange, testnet FROM api_keys WHERE id = $1",
                                bot["api_key_id"])
    place: dict[str, Any] = {"rest_url": None, "ca_pem": None}
    if key is not None:
        place = dict(await endpoint(ctx.db, key["exchange"], key["testnet"]))
    trades = await ctx.db.fetch(
        f"SELECT {TRADE_COLUMNS} FROM trades WHERE bot_id = $1 AND entry_at >= $2 "
        "AND entry_at < $3 ORDER BY entry_at", bot_id, start, end)
    journal = await ctx.db.fetch(
        "SELECT candle_at, outcome FROM decisions WHERE bot_id = $1 AND candle_at >= $2 "
        "AND candle_at < $3 ORDER BY candle_at", bot_id, start, end)
    # the bot stamps events with its own clock, not the market's: the latest ones are read,
    # and an event explains a candle by naming it
    events = await ctx.db.fetch(
        "SELECT kind, message, at FROM bot_events WHERE bot_id = $1 AND kind = ANY($2) "
        "ORDER BY id DESC LIMIT 500", bot_id, list(ORDER_EVENTS))
    return {"symbol": bot["symbol"], "template": template,
            "template_version": bot["strategy_version"], "rest_url": place["rest_url"],
            "ca_pem": place["ca_pem"], "trades": trades, "journal": journal,
            "order_events": events}


@action
async def report(ctx: Ctx, bot_id: BotId, start: AwareDatetime, end: AwareDatetime
                 ) -> DriftReport:
    """The drift report of the bot's trades entered in [start, end) (module docstring)."""
    got: DriftInputs = await ctx.query("drift:inputs",
                                       {"bot_id": bot_id, "start": start, "end": end})
    if got["rest_url"] is None:
        raise BadRequest("the bot's exchange has no REST endpoint configured", field="bot_id")
    template = validate_template(got["template"])
    tf = template.timeframe_ms
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    start_ms, end_ms = start_ms - start_ms % tf, end_ms - end_ms % tf
    history = Evaluator(template).parity_history
    # the Bybit client loads cryptofeed (~2.8 s): only when a report runs, not at every start
    from bot.bybit.rest import BybitRest
    from bot.market_data import fetch_history

    async with BybitRest(got["rest_url"], ca=got["ca_pem"]) as rest:
        rows = await fetch_history(rest, got["symbol"], (end_ms - start_ms) // tf + history,
                                   interval=template.timeframe, now_ms=end_ms)
    candles = Candles.of(*zip(*(c.floats() for c in rows), strict=True))
    fee = taker_fee_of(got["trades"], DEFAULT_TAKER_FEE)
    config = BacktestConfig(taker_fee=fee, decide_from_ms=start_ms)
    result = run_backtest(template, candles, config)
    in_range = [t for t in result.trades
                if start_ms <= t.entry_time_ms < end_ms and t.exit_reason != "end_of_data"]
    live_journal = {int(r["candle_at"].timestamp() * 1000): r["outcome"] for r in got["journal"]}
    bt_journal = {r.candle_ms: r.outcome
                  for r in backtest_journal(template, candles, result, config)}
    live = [t for t in got["trades"] if t["exit_at"].timestamp() * 1000 <= end_ms]
    matched, missed, extra = compare(in_range, live, tf, live_journal, bt_journal,
                                     got["order_events"])
    return {"candles": (end_ms - start_ms) // tf, "template_version": got["template_version"],
            "taker_fee": fee, "matched": matched, "missed": missed, "extra": extra}
