"""Live-vs-backtest drift of one bot: its real trades against a backtest of the same candles
with its template and fee rate, trade by trade, each difference explained by the journals.

Matching: a backtest trade and a live trade match when they are on the same side and the
live entry fill lies less than one candle from the backtest's (which fills at the next
candle's open after the decision; an entry one candle late is another decision); each trade matches at most once, in time order. For a match the
report gives the slippage in price (signed against the trader: > 0 means the live fill was
worse) and in time for entry and exit, and both fees and PnLs.

Unmatched backtest trades are *missed*, unmatched live trades *extra*; each is explained by
the bot's own journal record of the decision candle (`strategy/journal.py`) — e.g. it
decided to enter but an order error followed (the bot's event is quoted), a guard blocked
it, or no record exists (the bot was not running) — next to the backtest's record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypedDict

from strategy.backtest.result import Trade as BacktestTrade

ORDER_EVENTS = ("order_rejected", "exchange_error", "order_unsettled")


class Match(TypedDict):
    side: str
    backtest_entry_at: datetime
    live_entry_at: datetime
    entry_delay_ms: int
    entry_slippage: Decimal
    exit_delay_ms: int
    exit_slippage: Decimal
    backtest_exit_reason: str
    live_exit_reason: str
    backtest_fees: Decimal
    live_fees: Decimal
    backtest_pnl: Decimal
    live_pnl: Decimal


class Unmatched(TypedDict):
    """A trade only one side made; `live_outcome`/`backtest_outcome` are the journals' words
    for its decision candle (None: no record) and `explanation` says what differed."""

    side: str
    entry_at: datetime
    decision_candle_at: datetime
    live_outcome: str | None
    backtest_outcome: str | None
    explanation: str


class DriftReport(TypedDict):
    candles: int
    template_version: int
    taker_fee: Decimal
    matched: list[Match]
    missed: list[Unmatched]
    extra: list[Unmatched]


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def taker_fee_of(trades: Sequence[dict[str, Any]], default: Decimal) -> Decimal:
    """The fee rate the live trades paid (fees over entry + exit notional), else `default`."""
    notional = sum((t["quantity"] * (t["entry_price"] + t["exit_price"]) for t in trades),
                   Decimal(0))
    fees = sum((t["fees"] for t in trades), Decimal(0))
    return (fees / notional).quantize(Decimal("0.000001")) if notional else default


def _explain(side: str, live: str | None, events: list[dict[str, Any]], missed: bool) -> str:
    if live is None:
        return "the bot recorded no decision for this candle (not running or warming up)"
    if missed and live == f"entered_{side}":
        if events:
            return f"the bot decided to enter but no position followed: {events[0]['message']}"
        return "the bot decided to enter but no position followed"
    if missed:
        return f"the bot did not enter: {live}"
    return f"the bot entered ({live}) where the backtest did not"


def compare(
    backtest: Sequence[BacktestTrade], live: Sequence[dict[str, Any]], tf_ms: int,
    live_journal: dict[int, str], backtest_journal: dict[int, str],
    events: Sequence[dict[str, Any]],
) -> tuple[list[Match], list[Unmatched], list[Unmatched]]:
    """(matched, missed, extra); `live` rows are trades rows, `events` the bot's order-error
    events (kind, message, at: those naming a decision candle explain it), journals'
    outcomes keyed by candle open ms."""
    free = sorted(live, key=lambda t: t["entry_at"])
    matched: list[Match] = []
    missed: list[Unmatched] = []
    for b in sorted(backtest, key=lambda t: t.entry_time_ms):
        hit = next((t for t in free if t["side"] == b.side
                    and abs(_ms(t["entry_at"]) - b.entry_time_ms) < tf_ms), None)
        sign = 1 if b.side == "long" else -1
        if hit is None:
            decision = b.entry_time_ms - tf_ms
            near = [e for e in events if f"candle {decision}" in e["message"]]
            record = live_journal.get(decision)
            missed.append(_unmatched(b.side, b.entry_time_ms, decision, record,
                                     backtest_journal.get(decision),
                                     _explain(b.side, record, near, True)))
            continue
        free.remove(hit)
        matched.append({
            "side": b.side, "backtest_entry_at": _at(b.entry_time_ms),
            "live_entry_at": hit["entry_at"],
            "entry_delay_ms": _ms(hit["entry_at"]) - b.entry_time_ms,
            "entry_slippage": sign * (hit["entry_price"] - b.entry_price),
            "exit_delay_ms": _ms(hit["exit_at"]) - b.exit_time_ms,
            "exit_slippage": sign * (b.exit_price - hit["exit_price"]),
            "backtest_exit_reason": b.exit_reason, "live_exit_reason": hit["exit_reason"],
            "backtest_fees": b.fees, "live_fees": hit["fees"],
            "backtest_pnl": b.pnl, "live_pnl": hit["pnl"],
        })
    extra = []
    for t in free:
        decision = (_ms(t["entry_at"]) // tf_ms - 1) * tf_ms
        record = live_journal.get(decision)
        extra.append(_unmatched(t["side"], _ms(t["entry_at"]), decision, record,
                                backtest_journal.get(decision),
                                _explain(t["side"], record, [], False)))
    return matched, missed, extra


def _unmatched(side: str, entry_ms: int, decision_ms: int, live: str | None,
               backtest: str | None, explanation: str) -> Unmatched:
    return {"side": side, "entry_at": _at(entry_ms), "decision_candle_at": _at(decision_ms),
            "live_outcome": live, "backtest_outcome": backtest, "explanation": explanation}
