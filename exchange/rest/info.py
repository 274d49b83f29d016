"""Signed account-description routes that standard clients call at start (ccxt's
`load_markets` with keys): asset/coin/query-info, user/query-api, account/info, and
account/set-margin-mode, which switches the unified account between cross (REGULAR_MARGIN)
and isolated (ISOLATED_MARGIN) margin.

Bybit V5: https://bybit-exchange.github.io/docs/v5/asset/coin-info,
.../v5/user/apikey-info, .../v5/account/account-info, .../v5/account/set-margin-mode.
"""

from __future__ import annotations

from starlette.routing import Route

from exchange import liquidation
from exchange.accounts import Account
from exchange.engine import Exchange
from exchange.errors import ApiError
from exchange.rest.common import signed

UTA_STATUS = 5  # unifiedMarginStatus: unified trading account 2.0


def coin_info(exchange: Exchange, account: Account, params: dict) -> dict:
    """Coins of the simulated markets; no chains: deposits and withdrawals do not exist here."""
    coins = sorted({m.spec.quote_coin for m in exchange.markets.values()})
    coins += sorted({m.spec.base_coin for m in exchange.markets.values()})
    wanted = params.get("coin")
    rows = [
        {"name": c, "coin": c, "remainAmount": "0", "chains": []}
        for c in dict.fromkeys(coins)
        if not wanted or c == wanted
    ]
    return {"rows": rows}


def api_key_info(exchange: Exchange, account: Account, params: dict) -> dict:
    """The calling key's description; never its secret."""
    return {
        "id": str(account.uid),
        "note": "plutarc local exchange",
        "apiKey": account.api_key,
        "readOnly": 0,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"],
            "Spot": [],
            "Wallet": ["AccountTransfer"],
            "Options": [],
            "Derivatives": ["DerivativesTrade"],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": [],
            "NFT": [],
            "Affiliate": [],
            "Earn": [],
        },
        "ips": ["*"],
        "type": 1,
        "deadlineDay": -1,
        "expiredAt": "",
        "createdAt": "",
        "unified": 0,
        "uta": 1,
        "userID": account.uid,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
    }


def account_info(exchange: Exchange, account: Account, params: dict) -> dict:
    return {
        "unifiedMarginStatus": UTA_STATUS,
        "marginMode": account.margin_mode,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
        "updatedTime": str(exchange.now()),
        "dcpStatus": "OFF",
        "timeWindow": 0,
        "smpGroup": 0,
    }


def set_margin_mode(exchange: Exchange, account: Account, params: dict) -> dict:
    """Switch cross/isolated; refused while a position or an order is open (the margin of
    live positions cannot move between modes here)."""
    mode = params.get("setMarginMode")
    if mode not in (liquidation.CROSS, liquidation.ISOLATED):
        raise ApiError(
            10001, "params error: setMarginMode must be REGULAR_MARGIN or ISOLATED_MARGIN"
        )
    if any(p.size for p in account.positions.values()) or account.open_orders():
        raise ApiError(3400045, "Set margin mode failed: close open positions and orders first")
    account.margin_mode = mode
    return {"reasons": []}


routes = [
    Route("/v5/asset/coin/query-info", signed("/v5/asset/coin/query-info", coin_info)),
    Route("/v5/user/query-api", signed("/v5/user/query-api", api_key_info)),
    Route("/v5/account/info", signed("/v5/account/info", account_info)),
    Route(
        "/v5/account/set-margin-mode",
        signed("/v5/account/set-margin-mode", set_margin_mode),
        methods=["POST"],
    ),
]
