"""Start-up and restart: adopt what the exchange holds instead of trusting memory.

`adopt` loads the account (position, open orders, every execution — none of them
reported again), cancels this bot's own orphan orders (no entry or exit of a dead run is left
working), continues the trade numbering after the highest trade seq among this bot's orders,
and adopts an open position: from ``open_trade.json`` in the working directory when it
matches the exchange, else rebuilt from the exchange's executions of the latest entry (or,
failing that, from the position itself). The trader then manages its exits and never opens
a second position over it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.order_ids import is_own, parse_order_link_id
from bot.positions import AccountModel
from bot.reporting import OpenTrade

if TYPE_CHECKING:
    from bot.trader import Trader


async def adopt(trader: Trader) -> None:
    """Make ``trader`` agree with the exchange (see the module docstring)."""
    await trader.account.load(trader.rest)
    await trader.refresh_wallet()
    query = {"category": "linear", "symbol": trader.symbol, "limit": 50}
    own = [
        o
        async for o in trader.rest.pages("/v5/order/history", query, max_pages=10)
        if is_own(o.get("orderLinkId", ""), trader.bot_id)
    ]
    seqs = [parse_order_link_id(o["orderLinkId"]).trade_seq for o in own]
    trader.next_seq = max(seqs, default=0) + 1
    for order in list(trader.account.open_orders.values()):
        if is_own(order.get("orderLinkId", ""), trader.bot_id):
            await trader.orders.cancel(order["orderLinkId"])
            trader.reporter.event(
                "order_cancelled",
                f"cancelled orphan order {order['orderLinkId']} left by a previous run",
                key=f"orphan:{order['orderLinkId']}",
            )
    position = trader.account.position
    if not position.size:
        trader.trade_file.unlink(missing_ok=True)
        return
    side = "long" if position.side == "Buy" else "short"
    saved = OpenTrade.load(trader.trade_file)
    if saved is not None and saved.side == side and saved.open_qty == position.size:
        trade = saved
    else:
        trade = rebuild_trade(trader.account, own, side, trader.next_seq, trader.timeframe_ms)
    trader.trade = trade
    trader.next_seq = max(trader.next_seq, trade.seq + 1)
    trader.reporter.event(
        "position_adopted",
        f"adopted open {side} position of {position.size} {trader.symbol} at "
        f"{position.avg_price} (trade {trade.seq}); managing its exits",
        data={"side": side, "size": position.size, "avg_price": position.avg_price},
        key=f"adopt:{trade.seq}:{trade.open_qty}",
    )
    trade.save(trader.trade_file)


def rebuild_trade(
    account: AccountModel, own: list[dict[str, Any]], side: str, next_seq: int, timeframe_ms: int
) -> OpenTrade:
    """The open trade from the exchange's own lists (when the working dir lost it)."""
    entries = sorted(
        (parse_order_link_id(o["orderLinkId"]).trade_seq, int(o.get("createdTime") or 0))
        for o in own
        if parse_order_link_id(o["orderLinkId"]).leg == "en"
    )
    seq, created_ms = entries[-1] if entries else (next_seq, 0)
    trade = OpenTrade(seq, side, created_ms - created_ms % timeframe_ms)
    for row in sorted(account.executions.values(), key=lambda e: int(e.get("execTime") or 0)):
        intent = parse_order_link_id(row.get("orderLinkId", ""))
        if intent and intent.trade_seq == seq and row.get("symbol") == account.symbol:
            trade.add_execution(row)
    position = account.position
    if trade.open_qty != position.size:  # not ours, or the history was cut short
        trade = OpenTrade(seq, side, trade.entry_candle_ms)
        trade.entry_qty, trade.entry_value = position.size, position.size * position.avg_price
        trade.entry_ms = position.updated_ms
        trade.observe(position.avg_price, position.avg_price)
    if not trade.entry_candle_ms:
        trade.entry_candle_ms = trade.entry_ms - trade.entry_ms % timeframe_ms
    return trade
