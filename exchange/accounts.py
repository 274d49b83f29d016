"""Accounts: API keys, UIDs, the USDT wallet, margin mode, per-symbol positions, orders,
executions and closed-PnL records, and the unified-account views (wallet: equity, margins,
available balance; positions with their liquidation prices)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from exchange import liquidation
from exchange.closed_pnl import ClosedPnl
from exchange.config import InstrumentSpec
from exchange.numbers import ZERO, fmt, money
from exchange.orders import Order
from exchange.positions import Position

FIRST_UID = 100001


@dataclass
class Account:
    """One trader. Invariant: every order id in `orders` is unique; `link_ids` holds every
    orderLinkId ever used by this account (Bybit refuses a reused one)."""

    uid: int
    api_key: str
    api_secret: str
    wallet: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    positions: dict[str, Position] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    link_ids: dict[str, str] = field(default_factory=dict)
    executions: list[dict] = field(default_factory=list)
    # position/closed-pnl records, one per closing order, oldest first
    closed_pnl: list[ClosedPnl] = field(default_factory=list)
    cum_realised: Decimal = ZERO
    margin_mode: str = liquidation.CROSS

    def position(self, spec: InstrumentSpec) -> Position:
        if spec.symbol not in self.positions:
            self.positions[spec.symbol] = Position(spec)
        return self.positions[spec.symbol]

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [
            o for o in self.orders.values() if o.is_open and (symbol is None or o.symbol == symbol)
        ]

    def order_margin(self) -> Decimal:
        """Initial margin locked by open orders that would grow a position."""
        total = ZERO
        for o in self.open_orders():
            if o.reduce_only or o.untriggered:
                continue
            lev = self.position(o.spec).leverage
            total += o.leaves_qty * o.price / lev
        return total

    def liq_prices(
        self, position: Position, mark: Callable[[str], Decimal]
    ) -> tuple[Decimal | None, Decimal | None]:
        """(liquidation, bankruptcy) price of `position` under the account's margin mode."""
        if self.margin_mode == liquidation.ISOLATED:
            return liquidation.isolated_price(position), liquidation.bankruptcy_price(position)
        others = [p for p in self.positions.values() if p is not position and p.size]
        return liquidation.cross_price(position, self.wallet, others, mark), None

    def position_view(self, position: Position, mark: Callable[[str], Decimal]) -> dict:
        liq, bust = self.liq_prices(position, mark)
        trade_mode = 1 if self.margin_mode == liquidation.ISOLATED else 0
        return position.to_bybit(mark(position.spec.symbol), liq, bust, trade_mode, self.taker_fee)

    def wallet_view(self, mark: Callable[[str], Decimal]) -> dict:
        """The UNIFIED account entry of account/wallet-balance and the `wallet` topic."""
        upl = sum((p.unrealised(mark(s)) for s, p in self.positions.items()), ZERO)
        pos_im = sum((p.initial_margin() for p in self.positions.values()), ZERO)
        pos_mm = sum((p.maintenance_margin(mark(s)) for s, p in self.positions.items()), ZERO)
        order_im = self.order_margin()
        equity = self.wallet + upl
        available = equity - pos_im - order_im
        im_rate = (pos_im + order_im) / equity if equity > 0 else ZERO
        mm_rate = pos_mm / equity if equity > 0 else ZERO
        return {
            "accountType": "UNIFIED",
            "accountLTV": "0",
            "accountIMRate": fmt(im_rate.quantize(Decimal("0.0001"))),
            "accountMMRate": fmt(mm_rate.quantize(Decimal("0.0001"))),
            "totalEquity": money(equity),
            "totalWalletBalance": money(self.wallet),
            "totalMarginBalance": money(equity),
            "totalAvailableBalance": money(max(available, ZERO)),
            "totalPerpUPL": money(upl),
            "totalInitialMargin": money(pos_im + order_im),
            "totalMaintenanceMargin": money(pos_mm),
            "coin": [
                {
                    "coin": "USDT",
                    "equity": money(equity),
                    "usdValue": money(equity),
                    "walletBalance": money(self.wallet),
                    "free": "",
                    "locked": "0",
                    "spotHedgingQty": "0",
                    "borrowAmount": "0",
                    "availableToBorrow": "",
                    "availableToWithdraw": money(max(available, ZERO)),
                    "accruedInterest": "0",
                    "totalOrderIM": money(order_im),
                    "totalPositionIM": money(pos_im),
                    "totalPositionMM": money(pos_mm),
                    "unrealisedPnl": money(upl),
                    "cumRealisedPnl": money(self.cum_realised),
                    "bonus": "0",
                    "marginCollateral": True,
                    "collateralSwitch": True,
                }
            ],
        }

    def available(self, mark: Callable[[str], Decimal]) -> Decimal:
        return Decimal(self.wallet_view(mark)["totalAvailableBalance"])


class Accounts:
    """All accounts, by UID and by API key."""

    def __init__(self, maker_fee: Decimal, taker_fee: Decimal) -> None:
        self._maker_fee = maker_fee
        self._taker_fee = taker_fee
        self.by_uid: dict[int, Account] = {}
        self._by_key: dict[str, Account] = {}

    def create(
        self, balance: Decimal, api_key: str | None = None, api_secret: str | None = None
    ) -> Account:
        key = api_key or secrets.token_hex(9)
        if key in self._by_key:
            raise ValueError(f"api key {key!r} already exists")
        uid = FIRST_UID + len(self.by_uid)
        account = Account(
            uid,
            key,
            api_secret or secrets.token_hex(18),
            Decimal(balance),
            self._maker_fee,
            self._taker_fee,
        )
        self.by_uid[uid] = account
        self._by_key[key] = account
        return account

    def by_key(self, api_key: str) -> Account | None:
        return self._by_key.get(api_key)

    def secret_for(self, api_key: str) -> str | None:
        account = self._by_key.get(api_key)
        return account.api_secret if account else None
