"""The shapes the `billing:*` functions answer with (their OpenAPI response schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from backend.billing.plans import PlanInfo


class Usage(TypedDict):
    """What the caller uses against each limit of the plan in force."""

    running_bots: int
    max_bots: int
    live_keys: int
    live_keys_allowed: bool
    regions: list[str]
    regions_allowed: list[str] | None  # None: every region


class PausedBot(TypedDict):
    bot_id: int
    name: str
    reason: str
    paused_at: datetime


class BillingEvent(TypedDict):
    id: int
    kind: str
    level: str
    message: str
    data: dict[str, Any] | None
    at: datetime


class NextInvoice(TypedDict):
    amount_cents: int
    currency: str | None
    at: datetime | None


class BillingStatus(TypedDict):
    """`billing:status`: `enabled` false means billing is off and no plan applies."""

    enabled: bool
    mode: str
    publishable_key: str | None
    js_url: str | None
    plan: PlanInfo
    effective_plan: PlanInfo
    status: str
    subscription_id: str | None
    period_start: datetime | None
    period_end: datetime | None
    cancel_at_period_end: bool
    grace_until: datetime | None
    in_grace: bool
    payment_method: str | None
    usage: Usage | None
    paused_for_plan: list[PausedBot]
    next_invoice: NextInvoice | None
    events: list[BillingEvent]


class Account(TypedDict):
    """The caller's billing account row."""

    user_id: int
    customer_id: str | None
    subscription_id: str | None
    plan: str
    status: str
    effective_plan: str
    period_start: datetime | None
    period_end: datetime | None
    cancel_at_period_end: bool
    grace_until: datetime | None
    payment_method: str | None
    next_invoice_cents: int | None
    next_invoice_currency: str | None
    next_invoice_at: datetime | None
    stripe_read_at: datetime | None


class SetupIntent(TypedDict):
    client_secret: str
    publishable_key: str
    js_url: str


class Invoice(TypedDict):
    id: str
    number: str | None
    status: str | None
    amount_due: int | None
    amount_paid: int | None
    currency: str | None
    created: datetime | None
    url: str | None
