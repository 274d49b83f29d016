"""The database schema as Tortoise ORM models; migrations in backend/migrations are made from them.

Each area has its own module; this package re-exports every model so Tortoise finds them.
"""

from backend.models.accounts import (
    BotToken,
    LoginAddress,
    LoginFailure,
    Session,
    TotpCredential,
    User,
)
from backend.models.api_keys import ApiKey, ExchangeEndpoint
from backend.models.bots import Bot, BotConnection, BotEvent, Deployment
from backend.models.fleet import BotClaim, LatencySample, RegionLatency
from backend.models.strategies import Strategy, StrategyVersion
from backend.models.trading import (
    EquityDaily,
    EquitySnapshot,
    KpiTotals,
    Position,
    SignalState,
    Trade,
)

__all__ = [
    "ApiKey",
    "Bot",
    "BotClaim",
    "BotConnection",
    "BotEvent",
    "BotToken",
    "Deployment",
    "EquityDaily",
    "EquitySnapshot",
    "ExchangeEndpoint",
    "KpiTotals",
    "LatencySample",
    "LoginAddress",
    "LoginFailure",
    "Position",
    "RegionLatency",
    "Session",
    "SignalState",
    "Strategy",
    "StrategyVersion",
    "TotpCredential",
    "Trade",
    "User",
]
