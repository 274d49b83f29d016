"""The bot's venue-neutral vocabulary: sides, orders, fills, positions, account updates, the
`Venue` an exchange adapter implements, and the failures the core acts on.

The core (``trader``, ``positions``, ``reporting``, ``adoption``, ``protection``) speaks only
these types.  Each exchange is an adapter at the edge that alone knows its JSON, paths and
codes: ``bot.bybit`` turns Bybit V5 messages into these types (``bot.bybit.convert``) and
implements `Venue` (``bot.bybit.venue.BybitVenue``).  A second venue is a second adapter
(docs/bot.md says what Binance USD-M futures would touch), not a change to the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

ZERO = Decimal(0)


class Side(StrEnum):
    """The side of an order or a fill."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Direction(StrEnum):
    """The direction of a position or a trade."""

    LONG = "long"
    SHORT = "short"

    @property
    def entry_side(self) -> Side:
        return Side.BUY if self is Direction.LONG else Side.SELL

    @property
    def sign(self) -> int:
        return 1 if self is Direction.LONG else -1

    @classmethod
    def of_entry(cls, side: Side) -> Direction:
        return cls.LONG if side is Side.BUY else cls.SHORT


class OrderStatus(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    UNTRIGGERED = "untriggered"  # a conditional order waiting for its trigger
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED)


class Trigger(StrEnum):
    """What made an order the bot did not send itself: a position level on the venue, or
    the venue's liquidation of the position."""

    NONE = ""
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    LIQUIDATION = "liquidation"


class FillKind(StrEnum):
    """A trade of an order (including a liquidation's), or a funding payment on the open
    position (its ``fee`` > 0 paid, < 0 received; no quantity changes hands)."""

    TRADE = "trade"
    FUNDING = "funding"


@dataclass(frozen=True, slots=True)
class Order:
    """The venue's view of one order; ``link_id`` is the bot's client order id."""

    order_id: str
    link_id: str
    side: Side
    qty: Decimal
    status: OrderStatus
    filled_qty: Decimal = ZERO
    avg_price: Decimal = ZERO
    created_ms: int = 0


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution (a trade of one of the account's orders)."""

    exec_id: str
    order_id: str
    link_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    time_ms: int
    leaves_qty: Decimal = ZERO  # what the order still has to fill after this one
    trigger: Trigger = Trigger.NONE
    kind: FillKind = FillKind.TRADE


@dataclass(frozen=True, slots=True)
class Position:
    """The one-way position of one symbol; ``direction`` is None when flat (size 0).
    Levels of 0 mean none is set; ``leverage`` 0 means the venue did not say."""

    direction: Direction | None
    size: Decimal
    avg_price: Decimal
    take_profit: Decimal = ZERO
    stop_loss: Decimal = ZERO
    updated_ms: int = 0
    leverage: Decimal = ZERO

    @classmethod
    def flat(cls) -> Position:
        return cls(None, ZERO, ZERO)

    def same_holding(self, other: Position) -> bool:
        """Equal in what is held (direction, size, entry); timestamps aside."""
        return (self.direction, self.size, self.avg_price) == (
            other.direction,
            other.size,
            other.avg_price,
        )


@dataclass(slots=True)
class AccountUpdate:
    """One private-stream message of the account, already converted; symbols unfiltered."""

    orders: list[tuple[str, Order]] = field(default_factory=list)  # (symbol, order)
    fills: list[Fill] = field(default_factory=list)
    positions: list[tuple[str, Position]] = field(default_factory=list)  # (symbol, position)
    wallet_balance: Decimal | None = None


class VenueError(Exception):
    """A call to the venue failed; ``ambiguous`` when it may still have been acted on."""

    ambiguous = False


class NoPosition(VenueError):
    """A reduce-only order found nothing to reduce (the position is already flat)."""


class LevelPassed(VenueError):
    """A protective level the market is already beyond; ``which`` is "stop" or "target"."""

    def __init__(self, which: str, message: str) -> None:
        super().__init__(message)
        self.which = which


class Venue(Protocol):
    """What the core needs from an exchange, for one symbol of one account."""

    symbol: str

    async def position(self) -> Position: ...

    async def open_orders(self) -> list[Order]: ...

    async def fills(self, since_ms: int | None) -> list[Fill]:
        """Every fill of the symbol since ``since_ms`` (all the venue keeps when None)."""
        ...

    async def order_history(self, max_pages: int) -> list[Order]: ...

    async def wallet_balance(self) -> Decimal: ...

    async def find_order(self, link_id: str) -> Order | None: ...

    async def market_order(
        self, side: Side, qty: Decimal, link_id: str, *, reduce_only: bool = False
    ) -> Order:
        """Sent at most once per ``link_id``; raises `NoPosition` for a reduce-only order
        with nothing to reduce."""
        ...

    async def cancel(self, link_id: str) -> Order | None: ...

    async def set_levels(
        self, direction: Direction, stop: Decimal | None, target: Decimal | None
    ) -> None:
        """The position's venue-side stop-loss and take-profit (None clears one); raises
        `LevelPassed` for a level the market is already beyond."""
        ...

    async def set_leverage(self, leverage: Decimal) -> None:
        """Leverage of the symbol's position (already set is not an error)."""
        ...
