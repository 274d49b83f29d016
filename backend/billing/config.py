"""Where Stripe is and with which keys, read from the environment (or given by
`plutarc up --stripe local`), and the Stripe client made from it.

| variable                     | meaning                                                     |
|------------------------------|-------------------------------------------------------------|
| STRIPE_SECRET_KEY            | `sk_...`: billing is on (unset: off, no plan limits)        |
| STRIPE_WEBHOOK_SECRET        | `whsec_...` of the endpoint `<API>/api/stripe/webhook`      |
| STRIPE_PUBLISHABLE_KEY       | `pk_...` for Stripe.js on the billing page                  |
| STRIPE_API_BASE              | another Stripe (e.g. a localstripe URL); default Stripe's   |
| PLUTARC_BILLING_GRACE_S      | grace after a failed payment, seconds (default 7 days)      |
| PLUTARC_STRIPE_LOCAL         | `1`: STRIPE_API_BASE is a localstripe (set by `plutarc up`) |

Invariant: a process has at most one active configuration (`activate` by the API's billing
service); actions and the webhook route use it. Whether limits apply is not read from here
but from the `billing_settings` row, so every process sharing the database agrees.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import stripe

from backend.runtime import Conflict

DEFAULT_GRACE_S = 7 * 24 * 3600
STRIPE_JS = "https://js.stripe.com/v3/"


@dataclass(frozen=True)
class BillingConfig:
    """Stripe's keys and address. `local`: a localstripe server (plans, not prices)."""

    secret_key: str
    webhook_secret: str
    publishable_key: str = ""
    api_base: str | None = None
    grace_s: int = DEFAULT_GRACE_S
    local: bool = False

    @property
    def mode(self) -> str:
        return "local" if self.local else "stripe"

    @property
    def js_url(self) -> str:
        """Stripe.js (localstripe serves its stand-in under the same path)."""
        return f"{self.api_base}/js.stripe.com/v3/" if self.local else STRIPE_JS

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[stripe.StripeClient]:
        """A Stripe client on its own async HTTP connection pool, closed on exit (one per
        operation: its pool belongs to the event loop that made it)."""
        http = stripe.HTTPXClient(allow_sync_methods=False)
        bases = {"api": self.api_base} if self.api_base else None
        try:
            yield stripe.StripeClient(self.secret_key, base_addresses=bases,  # type: ignore[arg-type]
                                      http_client=http, max_network_retries=2)
        finally:
            await http.close_async()

    def to_env(self) -> dict[str, str]:
        """The environment from which `from_env` makes this configuration again (for API
        worker processes; an environment is private to the process and its children)."""
        env = {"STRIPE_SECRET_KEY": self.secret_key, "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
               "STRIPE_PUBLISHABLE_KEY": self.publishable_key,
               "PLUTARC_BILLING_GRACE_S": str(self.grace_s),
               "PLUTARC_STRIPE_LOCAL": "1" if self.local else ""}
        return {**env, **({"STRIPE_API_BASE": self.api_base} if self.api_base else {})}

    def __repr__(self) -> str:  # never print the keys
        return f"BillingConfig(mode={self.mode}, api_base={self.api_base}, grace_s={self.grace_s})"


def grace_from_env() -> int:
    raw = os.environ.get("PLUTARC_BILLING_GRACE_S", str(DEFAULT_GRACE_S))
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"PLUTARC_BILLING_GRACE_S must be a whole number of seconds, not {raw!r}"
                         ) from None
    if value < 0:
        raise ValueError("PLUTARC_BILLING_GRACE_S must not be negative")
    return value


def from_env() -> BillingConfig | None:
    """The configuration in the environment, or None (billing off) without STRIPE_SECRET_KEY."""
    secret = os.environ.get("STRIPE_SECRET_KEY", "").strip()
    if not secret:
        return None
    webhook_secret = os.environ.get("STRIPE_WEBHOOK_SECRET", "").strip()
    if not webhook_secret:
        raise ValueError("STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: webhooks "
                         "could not be verified (see docs/billing.md)")
    return BillingConfig(
        secret_key=secret, webhook_secret=webhook_secret,
        publishable_key=os.environ.get("STRIPE_PUBLISHABLE_KEY", "").strip(),
        api_base=os.environ.get("STRIPE_API_BASE", "").strip() or None,
        grace_s=grace_from_env(), local=os.environ.get("PLUTARC_STRIPE_LOCAL") == "1",
    )


_active: BillingConfig | None = None


def activate(config: BillingConfig | None) -> None:
    global _active
    _active = config


def active() -> BillingConfig:
    """The process's configuration; 409 when billing is off here."""
    if _active is None:
        raise Conflict("billing is off on this server (no STRIPE_SECRET_KEY): no plan applies")
    return _active


def current() -> BillingConfig | None:
    return _active
