"""What the billing tests share: a trader talking to the API over HTTP, the browser's part
of entering a card (what Stripe.js does, over HTTP to localstripe), Stripe's own calls made
with the `stripe` library, webhook signatures, and waiting for a condition."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import stripe

from backend.billing.config import BillingConfig

CARD_OK = "4242424242424242"
CARD_DECLINES_CHARGES = "4000000000000341"  # attaches; every charge is declined
CARD_REFUSED = "4000000000000002"  # declined as soon as it is attached


@dataclass
class Billing:
    """The API of this test module with billing on, and the localstripe behind it."""

    url: str
    dsn: str
    config: BillingConfig

    @property
    def stripe_url(self) -> str:
        assert self.config.api_base
        return self.config.api_base

    def stripe(self) -> stripe.StripeClient:
        """Stripe as Stripe itself (or its dashboard) would act: the sync client."""
        return stripe.StripeClient(self.config.secret_key,
                                   base_addresses={"api": self.stripe_url})


class Trader:
    """A user, logged in: a new one, or the one whose session `token` is given."""

    def __init__(self, billing: Billing, token: str | None = None) -> None:
        self.billing = billing
        self.http = httpx.Client(base_url=billing.url, timeout=30)
        if token is None:
            email, password = f"b-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
            self.ok("action", "auth:signup", {"email": email, "password": password})
            token = self.ok("action", "auth:login", {"email": email, "password": password}
                            )["token"]
        self.token = token
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.user_id: int = self.ok("query", "auth:me")["id"]

    def call(self, kind: str, path: str, args: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(f"/api/{kind}", json={"path": path, "args": args or {}})

    def ok(self, kind: str, path: str, args: dict[str, Any] | None = None) -> Any:
        response = self.call(kind, path, args)
        assert response.status_code == 200, response.text
        return response.json()["value"]

    def status(self) -> dict[str, Any]:
        return self.ok("query", "billing:status")

    def card(self, number: str = CARD_OK) -> httpx.Response:
        """Enter a card on the billing page: a SetupIntent from the backend, confirmed by the
        browser with the publishable key, as Stripe.js (localstripe's stand-in) does."""
        intent = self.ok("action", "billing:setupIntent")
        seti = intent["client_secret"].split("_secret_")[0]
        return httpx.post(
            f"{self.billing.stripe_url}/v1/setup_intents/{seti}/confirm",
            json={"key": intent["publishable_key"], "client_secret": intent["client_secret"],
                  "payment_method_data": {"type": "card", "card": {
                      "number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}}},
            timeout=10,
        )

    def card_id(self, number: str = CARD_OK) -> str:
        confirmed = self.card(number)
        assert confirmed.status_code == 200, confirmed.text
        return confirmed.json()["payment_method"]

    def customer_id(self) -> str:
        return self.ok("query", "billing:account")["customer_id"]

    def strategy(self) -> int:
        from tests.e2e.harness import template

        return self.ok("mutation", "strategies:create", {"template": template()})["id"]

    def key(self) -> int:
        """A local-exchange API key of its own account (one running bot per account and
        symbol)."""
        return self.ok("mutation", "apiKeys:add", {
            "exchange": "local", "label": "local", "api_key": f"K-{uuid.uuid4().hex[:8]}",
            "api_secret": "local-secret"})["id"]

    def bot(self, strategy_id: int, key_id: int | None = None, **args: Any) -> httpx.Response:
        """bots:create with a key of its own unless `key_id`."""
        return self.call("mutation", "bots:create", {
            "name": f"bot-{uuid.uuid4().hex[:4]}", "strategy_id": strategy_id,
            "api_key_id": key_id or self.key(), **args})


def signature(payload: bytes, secret: str, at: int | None = None) -> str:
    """A Stripe-Signature header, computed as Stripe documents it."""
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def wait(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.05)
    return value


def subscribe_directly(billing: Billing, customer_id: str, pm_id: str, plan: str) -> Any:
    """A subscription made on Stripe's side (its dashboard, Checkout): only webhooks tell."""
    client = billing.stripe()
    client.v1.payment_methods.attach(pm_id, {"customer": customer_id})
    client.v1.customers.update(customer_id,
                               {"invoice_settings": {"default_payment_method": pm_id}})
    return client.v1.subscriptions.create(
        {"customer": customer_id, "items": [{"plan": f"plutarc-{plan}-monthly"}]})


def renew(billing: Billing, customer_id: str, subscription_id: str, cents: int) -> str:
    """What Stripe does at a renewal (localstripe does not renew by itself): an invoice for
    the next period, charged to the default card. Returns the invoice's status."""
    client = billing.stripe()
    client.v1.invoice_items.create({"customer": customer_id, "amount": cents,
                                    "currency": "usd", "description": "next period"})
    invoice = client.v1.invoices.create({"customer": customer_id,
                                         "subscription": subscription_id})
    return client.v1.invoices.pay(invoice.id).status
