"""Start-up and restart: adopt what the venue holds instead of trusting memory.

`adopt` loads the account (position, open orders, every fill — none of them reported
again), cancels this bot's own orphan orders (no entry or exit of a dead run is left
working), continues the trade numbering after the highest trade seq among this bot's orders,
and adopts an open position: from ``open_trade.json`` in the working directory when it
matches the venue, else rebuilt from the venue's fills of the latest entry (or, failing
that, from the position itself).  The trader then manages its exits and never opens a
second position over it.  The position's venue-side stop and target stay where they are;
the next candle's decision moves them if the strategy's levels differ.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.order_ids import is_own, parse_order_link_id
from bot.positions import AccountModel
from bot.trade import OpenTrade
from bot.venue import Order

if TYPE_CHECKING:
    from bot.trader import Trader

HISTORY_PAGES = 10


async def adopt(trader: Trader) -> None:
    """Make ``trader`` agree with the venue (see the module docstring)."""
    venue = trader.venue
    await trader.account.load(venue)
    await trader.refresh_wallet()
    own = [o for o in await venue.order_history(HISTORY_PAGES) if is_own(o.link_id, trader.bot_id)]
    seqs = [parse_order_link_id(o.link_id).trade_seq for o in own]
    next_seq = max(seqs, default=0) + 1
    for order in list(trader.account.open_orders.values()):
        if is_own(order.link_id, trader.bot_id):
            await venue.cancel(order.link_id)
            trader.reporter.event(
                "order_cancelled",
                f"cancelled orphan order {order.link_id} left by a previous run",
                key=f"orphan:{order.link_id}",
            )
    position = trader.account.position
    if position.direction is None:
        trader.trade_file.unlink(missing_ok=True)
        trader.resume(None, next_seq)
        return
    saved = OpenTrade.load(trader.trade_file)
    if saved is not None and saved.side is position.direction and saved.open_qty == position.size:
        trade = saved
    else:
        trade = rebuild_trade(trader.account, own, next_seq, trader.timeframe_ms)
    trader.resume(trade, max(next_seq, trade.seq + 1))
    trader.reporter.event(
        "position_adopted",
        f"adopted open {position.direction} position of {position.size} {trader.symbol} at "
        f"{position.avg_price} (trade {trade.seq}); managing its exits",
        data={
            "side": str(position.direction),
            "size": position.size,
            "avg_price": position.avg_price,
        },
        key=f"adopt:{trade.seq}:{trade.open_qty}",
    )
    trade.save(trader.trade_file)


def rebuild_trade(
    account: AccountModel, own: list[Order], next_seq: int, timeframe_ms: int
) -> OpenTrade:
    """The open trade from the venue's own lists (when the working dir lost it)."""
    position = account.position
    assert position.direction is not None
    entries = sorted(
        (parse_order_link_id(o.link_id).trade_seq, o.created_ms)
        for o in own
        if parse_order_link_id(o.link_id).leg == "en"
    )
    seq, created_ms = entries[-1] if entries else (next_seq, 0)
    trade = OpenTrade(seq, position.direction, created_ms - created_ms % timeframe_ms)
    for fill in sorted(account.fills.values(), key=lambda f: f.time_ms):
        intent = parse_order_link_id(fill.link_id)
        if intent and intent.trade_seq == seq:
            trade.add_fill(fill)
    if trade.open_qty != position.size:  # not ours, or the history was cut short
        trade = OpenTrade(seq, position.direction, trade.entry_candle_ms)
        trade.entry_qty, trade.entry_value = position.size, position.size * position.avg_price
        trade.entry_ms = position.updated_ms
        trade.observe(position.avg_price, position.avg_price)
    if not trade.entry_candle_ms:
        trade.entry_candle_ms = trade.entry_ms - trade.entry_ms % timeframe_ms
    return trade
