"""Settling an order: waiting until every one of its fills is accounted, in fill order.

After an order is sent, its fills normally arrive on the private stream within
milliseconds; when the stream lost them, the venue's REST lists have them.  `settle` waits
on the stream first (``SETTLE_STREAM_WAIT_S``), then reconciles over REST (which accounts
the missed fills through the caller's handler) until the fills add up to what the venue
says was filled and the order is no longer open.  No fill is ever skipped, and a fill seen
both ways is accounted once (`bot.positions.AccountModel` keeps every exec id).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal

from bot.positions import AccountModel
from bot.venue import Order, Venue, VenueError

log = logging.getLogger(__name__)

SETTLE_STREAM_WAIT_S = 0.25
SETTLE_ROUNDS = 40


async def settle(
    venue: Venue,
    account: AccountModel,
    arrived: asyncio.Event,
    reconcile: Callable[[str], Awaitable[None]],
    order: Order,
) -> bool:
    """Wait until ``order``'s fills are all accounted; False if they never were (the caller
    reports it).  ``arrived`` is set by the caller whenever new fills were accounted."""
    link_id = order.link_id
    for round_ in range(SETTLE_ROUNDS):
        if order.status.is_open:
            try:
                order = await venue.find_order(link_id) or order
            except VenueError as exc:
                log.warning("order %s not found yet: %s", link_id, exc)
                await asyncio.sleep(0.1)
                continue
        got = sum((f.qty for f in account.fills_of(link_id)), Decimal(0))
        if got >= order.filled_qty and not order.status.is_open:
            return True
        arrived.clear()
        if round_ == 0:
            try:
                await asyncio.wait_for(arrived.wait(), SETTLE_STREAM_WAIT_S)
            except TimeoutError:
                pass
            continue
        try:
            await reconcile(f"order {link_id} settling")
        except VenueError as exc:
            log.warning("reconciliation failed while settling %s: %s", link_id, exc)
            await asyncio.sleep(0.1)
    return False
