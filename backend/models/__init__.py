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
from backend.models.alerts import AlertSettings, Notification
from backend.models.api_keys import ApiKey, ExchangeEndpoint
from backend.models.billing import (
    BillingAccount,
    BillingEvent,
    BillingPausedBot,
    BillingSettings,
    StripeEvent,
)
from backend.models.bots import Bot, BotConnection, BotEvent, Deployment
from backend.models.fleet import BotClaim, LatencySample, RegionLatency
from backend.models.journal import DecisionRecord
from backend.models.optimize import OptimizationRun
from backend.models.ratebudget import RateHeadroom
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
    "AlertSettings",
    "ApiKey",
    "BillingAccount",
    "BillingEvent",
    "BillingPausedBot",
    "BillingSettings",
    "Bot",
    "BotClaim",
    "BotConnection",
    "BotEvent",
    "BotToken",
    "DecisionRecord",
    "Deployment",
    "EquityDaily",
    "EquitySnapshot",
    "ExchangeEndpoint",
    "KpiTotals",
    "LatencySample",
    "LoginAddress",
    "LoginFailure",
    "Notification",
    "OptimizationRun",
    "Position",
    "RateHeadroom",
    "RegionLatency",
    "Session",
    "SignalState",
    "Strategy",
    "StrategyVersion",
    "StripeEvent",
    "TotpCredential",
    "Trade",
    "User",
]
