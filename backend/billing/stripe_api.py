"""Every call plutarc makes to Stripe (or localstripe), through the `stripe` library's async
client; results come back as plain data. Nothing here touches the database.

Differences between real Stripe and localstripe handled here, and only here:
- localstripe has Plan objects, not Prices: subscription items name `plan` there, `price` on
  Stripe (plan ids are valid price ids on Stripe);
- newer Stripe API versions put the current period on the subscription item, localstripe on
  the subscription: read the item first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe
from pydantic import BaseModel
from stripe import StripeClient as Client

from backend.billing.config import BillingConfig
from backend.billing.plans import BY_PRICE, FREE, PLANS, Plan
from backend.billing.results import Invoice
from backend.runtime import BadRequest
from backend.runtime.errors import ApiError

LIVE = ("active", "trialing", "past_due", "unpaid")  # a subscription that holds a plan


class StripeFailed(ApiError):
    """Stripe could not be reached or refused a request we thought valid."""

    status, code = 502, "stripe_error"


class SubscriptionState(BaseModel):
    """A customer's current subscription as Stripe has it now (status 'none': no subscription)."""

    subscription_id: str | None = None
    status: str = "none"
    plan: str = FREE.key
    period_start: datetime | None = None
    period_end: datetime | None = None
    cancel_at_period_end: bool = False
    payment_method: str | None = None
    next_invoice_cents: int | None = None  # Stripe's preview: prorations included
    next_invoice_currency: str | None = None
    next_invoice_at: datetime | None = None


def _time(ts: Any) -> datetime | None:
    return datetime.fromtimestamp(int(ts), UTC) if ts else None


def _dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


async def _call(coro: Any) -> Any:
    """Await a Stripe call; a declined card or a request Stripe refuses (an unknown card) is
    the caller's 400, anything else (Stripe unreachable, its 5xx) a 502."""
    try:
        return await coro
    except stripe.CardError as exc:
        raise BadRequest(f"the card was declined: {exc.user_message or 'declined'}",
                         field="payment_method_id") from None
    except stripe.InvalidRequestError as exc:  # e.g. no such payment method
        raise BadRequest(f"Stripe refused the request: {exc.user_message or 'invalid'}",
                         field="payment_method_id" if exc.param in (None, "payment_method")
                         else exc.param) from None
    except stripe.StripeError as exc:
        raise StripeFailed(f"Stripe answered {exc.http_status or 'nothing'}: "
                           f"{exc.user_message or type(exc).__name__}") from None


async def ensure_catalog(config: BillingConfig) -> list[str]:
    """Create each paid plan's product and price if Stripe does not have them yet; returns the
    ids created (idempotent: a second run creates nothing)."""
    created: list[str] = []
    async with config.client() as client:
        for p in PLANS:
            if not p.paid:
                continue
            try:
                await client.v1.products.retrieve_async(p.stripe_product)
            except stripe.InvalidRequestError:
                await _call(client.v1.products.create_async(
                    {"id": p.stripe_product, "name": f"plutarc {p.name}"}))
                created.append(p.stripe_product)
            try:
                await client.v1.plans.retrieve_async(p.stripe_price)
            except stripe.InvalidRequestError:
                await _call(client.v1.plans.create_async({
                    "id": p.stripe_price, "product": p.stripe_product,
                    "amount": p.monthly_cents, "currency": p.currency, "interval": "month",
                    "nickname": f"{p.name} monthly",
                }))
                created.append(p.stripe_price)
    return created


async def create_customer(config: BillingConfig, email: str, user_id: int) -> str:
    async with config.client() as client:
        customer = await _call(client.v1.customers.create_async(
            {"email": email, "metadata": {"plutarc_user_id": str(user_id)}}))
    return customer.id


async def setup_intent(config: BillingConfig, customer_id: str) -> str:
    """A SetupIntent for a card; its client secret goes to Stripe.js on the billing page."""
    async with config.client() as client:
        intent = await _call(client.v1.setup_intents.create_async(
            {"customer": customer_id, "payment_method_types": ["card"], "usage": "off_session"}))
    return intent.client_secret


async def use_payment_method(config: BillingConfig, customer_id: str, pm_id: str) -> None:
    """Attach the card (if not yet) and make it the customer's default for invoices."""
    async with config.client() as client:
        pm = await _call(client.v1.payment_methods.retrieve_async(pm_id))
        if pm.customer not in (None, customer_id):
            raise BadRequest("this payment method belongs to another customer",
                             field="payment_method_id")
        if pm.customer is None:
            await _call(client.v1.payment_methods.attach_async(pm_id, {"customer": customer_id}))
        await _call(client.v1.customers.update_async(
            customer_id, {"invoice_settings": {"default_payment_method": pm_id}}))


async def _subscriptions(client: Client, customer_id: str) -> list[dict[str, Any]]:
    listed = await _call(client.v1.subscriptions.list_async(
        {"customer": customer_id, "status": "all", "limit": 20}))
    return sorted((_dict(s) for s in listed.data), key=lambda s: s.get("created") or 0,
                  reverse=True)


def _pick(subs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The subscription that decides the plan: the newest live one, else the newest
    incomplete one (a first payment still failing), else the newest ended one, else none."""
    for wanted in (LIVE, ("incomplete",)):
        for sub in subs:
            if sub.get("status") in wanted:
                return sub
    return subs[0] if subs else None


def _item(sub: dict[str, Any]) -> dict[str, Any]:
    return ((sub.get("items") or {}).get("data") or [{}])[0]


def _price_id(sub: dict[str, Any]) -> str | None:
    item = _item(sub)
    return ((item.get("price") or item.get("plan")) or {}).get("id")


async def _card(client: Client, customer_id: str) -> str | None:
    customer = _dict(await _call(client.v1.customers.retrieve_async(customer_id)))
    pm_id = (customer.get("invoice_settings") or {}).get("default_payment_method")
    if not pm_id:
        return None
    pm = _dict(await _call(client.v1.payment_methods.retrieve_async(pm_id)))
    details = pm.get("card") or {}
    return f"{details.get('brand') or 'card'} •••• {details.get('last4') or '????'}"


async def card(config: BillingConfig, customer_id: str) -> str | None:
    """The customer's default card as shown to them ("visa •••• 4242"), or None."""
    async with config.client() as client:
        return await _card(client, customer_id)


async def _next_invoice(client: Client, customer_id: str, sub: dict[str, Any]
                        ) -> dict[str, Any]:
    """The subscription's next invoice as Stripe previews it, or nothing if it will not renew."""
    if sub["status"] not in LIVE or sub.get("cancel_at_period_end"):
        return {}
    preview = _dict(await _call(client.v1.invoices.create_preview_async(
        {"customer": customer_id, "subscription": sub["id"]})))
    return {"next_invoice_cents": preview.get("amount_due"),
            "next_invoice_currency": preview.get("currency"),
            "next_invoice_at": _time(preview.get("next_payment_attempt") or preview.get("date")
                                     or preview.get("period_end"))}


async def current_subscription(config: BillingConfig, customer_id: str) -> SubscriptionState:
    """What Stripe says now (read, not taken from an event: events may arrive in any order)."""
    async with config.client() as client:
        sub = _pick(await _subscriptions(client, customer_id))
        default_card = await _card(client, customer_id)
        upcoming = await _next_invoice(client, customer_id, sub) if sub else {}
    if sub is None:
        return SubscriptionState(payment_method=default_card)
    item = _item(sub)
    plan = BY_PRICE.get(_price_id(sub) or "", FREE) if sub["status"] in LIVE else FREE
    return SubscriptionState(
        subscription_id=sub["id"], status=sub["status"], plan=plan.key,
        period_start=_time(item.get("current_period_start") or sub.get("current_period_start")),
        period_end=_time(item.get("current_period_end") or sub.get("current_period_end")),
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")), payment_method=default_card,
        **upcoming,
    )


async def change_plan(config: BillingConfig, customer_id: str, target: Plan) -> None:
    """Move the customer to `target`: Free cancels the subscription now; a paid plan updates
    the live subscription's item, or starts one (an incomplete leftover is cancelled first)."""
    key = "plan" if config.local else "price"
    async with config.client() as client:
        subs = await _subscriptions(client, customer_id)
        live = next((s for s in subs if s.get("status") in LIVE), None)
        for sub in subs:
            if sub.get("status") == "incomplete" or (sub is live and not target.paid):
                await _call(client.v1.subscriptions.cancel_async(sub["id"]))
        if not target.paid:
            return
        if live is None:
            await _call(client.v1.subscriptions.create_async(
                {"customer": customer_id, "items": [{key: target.stripe_price}],
                 "payment_behavior": "allow_incomplete", "metadata": {"plutarc_plan": target.key}}))
        elif _price_id(live) != target.stripe_price:
            await _call(client.v1.subscriptions.update_async(
                live["id"], {"items": [{"id": _item(live)["id"], key: target.stripe_price}]}))


async def pay_open_invoices(config: BillingConfig, customer_id: str) -> int:
    """Try again to pay the customer's open invoices with the default card; returns how many
    were paid. A declined card is a 400 (Stripe answers 402; localstripe leaves it open)."""
    paid = 0
    async with config.client() as client:
        listed = await _call(client.v1.invoices.list_async({"customer": customer_id,
                                                            "limit": 20}))
        for invoice in (_dict(i) for i in listed.data):
            if invoice.get("status") == "open":
                after = await _call(client.v1.invoices.pay_async(invoice["id"]))
                if after.status != "paid":
                    raise BadRequest("the card was declined: the invoice is still open",
                                     field="payment_method_id")
                paid += 1
    return paid


async def invoices(config: BillingConfig, customer_id: str) -> list[Invoice]:
    """The customer's invoices, newest first, as the billing page lists them."""
    async with config.client() as client:
        listed = await _call(client.v1.invoices.list_async({"customer": customer_id,
                                                            "limit": 24}))
    rows = [_dict(i) for i in listed.data]
    return [
        {"id": i["id"], "number": i.get("number"), "status": i.get("status"),
         "amount_due": i.get("amount_due"), "amount_paid": i.get("amount_paid"),
         "currency": i.get("currency"), "created": _time(i.get("created") or i.get("date")),
         "url": i.get("hosted_invoice_url")}
        for i in sorted(rows, key=lambda i: i.get("created") or i.get("date") or 0, reverse=True)
    ]
