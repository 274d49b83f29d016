"""Accounts: API keys, UIDs, the USDT wallet, per-symbol positions, orders and executions,
and the unified-account wallet view (equity, margins, available balance)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from exchange.config import InstrumentSpec
from exchange.numbers import ZERO, fmt
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
    cum_realised: Decimal = ZERO

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
            if o.reduce_only:
                continue
            lev = self.position(o.spec).leverage
            total += o.leaves_qty * o.price / lev
        return total

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
            "totalEquity": fmt(equity),
            "totalWalletBalance": fmt(self.wallet),
            "totalMarginBalance": fmt(equity),
            "totalAvailableBalance": fmt(max(available, ZERO)),
            "totalPerpUPL": fmt(upl),
            "totalInitialMargin": fmt(pos_im + order_im),
            "totalMaintenanceMargin": fmt(pos_mm),
            "coin": [
                {
                    "coin": "USDT",
                    "equity": fmt(equity),
                    "usdValue": fmt(equity),
                    "walletBalance": fmt(self.wallet),
                    "free": "",
                    "locked": "0",
                    "spotHedgingQty": "0",
                    "borrowAmount": "0",
                    "availableToBorrow": "",
                    "availableToWithdraw": fmt(max(available, ZERO)),
                    "accruedInterest": "0",
                    "totalOrderIM": fmt(order_im),
                    "totalPositionIM": fmt(pos_im),
                    "totalPositionMM": fmt(pos_mm),
                    "unrealisedPnl": fmt(upl),
                    "cumRealisedPnl": fmt(self.cum_realised),
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
