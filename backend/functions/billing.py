"""Billing (`billing:*`): the plans, the caller's plan with usage against each limit, their
billing events and invoices, and the one upgrade/downgrade/cancel flow:

    billing:setupIntent → Stripe.js confirms a card → billing:changePlan(plan, payment_method_id)

Stripe's answer is applied at once (and again by its webhooks, idempotently). The internal
mutations are for the webhook route and these actions; `expireGrace` is a cron.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, StringConstraints

from backend.billing import account, config, stripe_api
from backend.billing.enforce import billing_event
from backend.billing.limits import is_live_key, runs
from backend.billing.plans import BY_KEY, PLANS, PlanInfo, info, plan
from backend.billing.results import Account, BillingEvent, BillingStatus, Invoice, SetupIntent
from backend.billing.stripe_api import SubscriptionState
from backend.runtime import BadRequest, Ctx, Forbidden, action, cron, mutation, query

PlanKey = Literal[tuple(BY_KEY)]  # type: ignore[valid-type]
StripeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{3,100}$")]


@query
async def plans(ctx: Ctx) -> list[PlanInfo]:
    """Every plan with its limits and monthly price."""
    return [info(p) for p in PLANS]


@query
async def status(ctx: Ctx) -> BillingStatus:
    """The caller's plan, subscription status, current period, usage against each limit,
    next invoice, grace period and latest billing events (live)."""
    user_id = ctx.auth.require_user()
    settings = await ctx.db.fetchrow(
        "SELECT enabled, mode, grace_s, publishable_key, js_url FROM billing_settings "
        "WHERE id = 1")
    acct = await ctx.db.fetchrow(f"SELECT {account.ACCOUNT} FROM billing_accounts "
                                 "WHERE user_id = $1", user_id) or {}
    enabled = bool(settings and settings["enabled"])
    bots = await ctx.db.fetch(
        "SELECT b.desired_state, b.lifecycle, b.region FROM bots b WHERE b.user_id = $1", user_id)
    keys = await ctx.db.fetch("SELECT exchange, testnet FROM api_keys WHERE user_id = $1", user_id)
    paused = await ctx.db.fetch(
        "SELECT p.bot_id, b.name, p.reason, p.paused_at FROM billing_paused_bots p "
        "JOIN bots b ON b.id = p.bot_id WHERE p.user_id = $1 ORDER BY p.bot_id", user_id)
    events = await ctx.db.fetch(
        "SELECT id, kind, level, message, data, at FROM billing_events WHERE user_id = $1 "
        "ORDER BY id DESC LIMIT 10", user_id)
    subscribed, effective = plan(acct.get("plan", "free")), plan(acct.get("effective_plan", "free"))
    next_invoice = None
    if acct.get("next_invoice_cents") is not None:
        next_invoice = {"amount_cents": acct["next_invoice_cents"],
                        "currency": acct["next_invoice_currency"], "at": acct["next_invoice_at"]}
    return {
        "enabled": enabled,
        "mode": settings["mode"] if settings else "off",
        "publishable_key": settings["publishable_key"] if enabled else None,
        "js_url": settings["js_url"] if enabled else None,
        "plan": info(subscribed).model_dump(), "effective_plan": info(effective).model_dump(),
        "status": acct.get("status", "none"), "subscription_id": acct.get("subscription_id"),
        "period_start": acct.get("period_start"), "period_end": acct.get("period_end"),
        "cancel_at_period_end": acct.get("cancel_at_period_end", False),
        "grace_until": acct.get("grace_until"),
        "in_grace": acct.get("grace_until") is not None and effective.key != "free",
        "payment_method": acct.get("payment_method"),
        "usage": {
            "running_bots": sum(1 for b in bots if runs(b)), "max_bots": effective.max_bots,
            "live_keys": sum(1 for k in keys if is_live_key(k["exchange"], k["testnet"])),
            "live_keys_allowed": effective.live_keys,
            "regions": sorted({b["region"] for b in bots if runs(b)}),
            "regions_allowed": info(effective).regions,
        } if enabled else None,
        "paused_for_plan": paused,
        "next_invoice": next_invoice,
        "events": events,
    }


@query
async def events(ctx: Ctx) -> list[BillingEvent]:
    """The caller's billing events, newest first (the last 100)."""
    return await ctx.db.fetch(
        "SELECT id, kind, level, message, data, at FROM billing_events WHERE user_id = $1 "
        "ORDER BY id DESC LIMIT 100", ctx.auth.require_user())


@query
async def account_(ctx: Ctx) -> Account | None:
    """The caller's billing account row (for the billing actions)."""
    return await ctx.db.fetchrow(f"SELECT {account.ACCOUNT} FROM billing_accounts "
                                 "WHERE user_id = $1", ctx.auth.require_user())


async def _customer(ctx: Ctx) -> str:
    """The caller's Stripe customer, created on first use."""
    assert ctx.query is not None and ctx.mutation is not None
    acct = await ctx.query("billing:account", {})
    if acct and acct["customer_id"]:
        return acct["customer_id"]
    me = await ctx.query("auth:me", {})
    customer_id = await stripe_api.create_customer(config.active(), me["email"], me["id"])
    return (await ctx.mutation("billing:linkCustomer", {"customer_id": customer_id}))


async def _sync(ctx: Ctx, customer_id: str) -> BillingStatus:
    assert ctx.mutation is not None
    read_at = await ctx.mutation("billing:clock", {})
    state = await stripe_api.current_subscription(config.active(), customer_id)
    await ctx.mutation("billing:applyStripe", {"customer_id": customer_id, "read_at": read_at,
                                               "state": state.model_dump(mode="json")})
    assert ctx.query is not None
    return await ctx.query("billing:status", {})


@action
async def setupIntent(ctx: Ctx) -> SetupIntent:
    """A SetupIntent for the caller's card: Stripe.js confirms it with the client secret."""
    ctx.auth.require_user()
    cfg = config.active()
    customer_id = await _customer(ctx)
    return {"client_secret": await stripe_api.setup_intent(cfg, customer_id),
            "publishable_key": cfg.publishable_key, "js_url": cfg.js_url}


@action
async def changePlan(ctx: Ctx, plan: PlanKey, payment_method_id: StripeId | None = None
                     ) -> BillingStatus:
    """Upgrade, downgrade or cancel (plan `free`). A paid plan needs a card: the one just
    confirmed through setupIntent (`payment_method_id`) or the one on file. A downgrade pauses
    the running bots the new plan does not cover (paused, never stopped)."""
    ctx.auth.require_user()
    cfg, target = config.active(), BY_KEY[plan]
    customer_id = await _customer(ctx)
    if payment_method_id:
        await stripe_api.use_payment_method(cfg, customer_id, payment_method_id)
    elif target.paid and await stripe_api.card(cfg, customer_id) is None:
        raise BadRequest(f"the {target.name} plan needs a card: confirm one with "
                         "billing:setupIntent first", field="payment_method_id")
    await stripe_api.change_plan(cfg, customer_id, target)
    status = await _sync(ctx, customer_id)
    if target.paid and status["plan"]["key"] != target.key:
        raise BadRequest(f"the payment for {target.name} did not go through ({status['status']}):"
                         f" you stay on {status['plan']['name']}; try another card",
                         field="payment_method_id")
    return status


@action
async def retryPayment(ctx: Ctx, payment_method_id: StripeId | None = None) -> BillingStatus:
    """Pay the open invoices again (with a new card if given), e.g. during a grace period."""
    ctx.auth.require_user()
    cfg = config.active()
    customer_id = await _customer(ctx)
    if payment_method_id:
        await stripe_api.use_payment_method(cfg, customer_id, payment_method_id)
    await stripe_api.pay_open_invoices(cfg, customer_id)
    return await _sync(ctx, customer_id)


@action
async def invoices(ctx: Ctx) -> list[Invoice]:
    """The caller's invoices from Stripe, newest first."""
    assert ctx.query is not None
    ctx.auth.require_user()
    acct = await ctx.query("billing:account", {})
    if not acct or not acct["customer_id"]:
        return []
    return await stripe_api.invoices(config.active(), acct["customer_id"])


# Internal mutations --------------------------------------------------------------------------

@mutation(internal=True)
async def linkCustomer(ctx: Ctx, customer_id: StripeId) -> str:
    """Record the caller's Stripe customer (the first one wins; returns the one kept)."""
    user_id = ctx.auth.require_user()
    await account.ensure_account(ctx.db, user_id)
    return await ctx.db.fetchval(
        "UPDATE billing_accounts SET customer_id = COALESCE(customer_id, $2), updated_at = now() "
        "WHERE user_id = $1 RETURNING customer_id", user_id, customer_id)


@mutation(internal=True)
async def clock(ctx: Ctx) -> datetime:
    """The database's clock now: taken before a Stripe read, it orders the reads applied."""
    return await ctx.db.fetchval("SELECT clock_timestamp()")


@mutation(internal=True)
async def applyStripe(ctx: Ctx, customer_id: StripeId, state: SubscriptionState,
                      read_at: AwareDatetime, event_id: StripeId | None = None,
                      event_type: str | None = None) -> dict[str, Any]:
    """Apply the state of a customer's subscription read from Stripe at `read_at` (unless a
    later read was applied). With `event_id` (a webhook) the event is recorded and applied
    once: a replay changes nothing."""
    if ctx.auth.kind == "bot":
        raise Forbidden("bots cannot call this function")
    if event_id is not None:
        fresh = await ctx.db.fetchval(
            "INSERT INTO stripe_events (id, type, customer_id, received_at) "
            "VALUES ($1, $2, $3, now()) ON CONFLICT (id) DO NOTHING RETURNING id",
            event_id, event_type or "", customer_id)
        if fresh is None:
            return {"applied": False, "duplicate": True}
    user_id = await ctx.db.fetchval(
        "SELECT user_id FROM billing_accounts WHERE customer_id = $1", customer_id)
    if user_id is None:
        return {"applied": False, "duplicate": False}  # not one of ours
    if ctx.auth.kind == "user" and ctx.auth.user_id != user_id:
        raise Forbidden("not your Stripe customer")
    if event_type == "invoice.payment_failed":
        await billing_event(ctx.db, user_id, "payment", "a payment failed: the card was "
                            "declined or could not be charged", "warning")
    applied = await account.apply_state(ctx.db, user_id, state, read_at) is not None
    return {"applied": applied, "duplicate": False}


@cron(every_s=10)
@mutation(internal=True)
async def expireGrace(ctx: Ctx) -> list[int]:
    """End the grace periods that are over (a cron: queries cannot read the clock)."""
    if ctx.auth.kind != "anonymous":
        raise Forbidden("only the system ends grace periods")
    return await account.expire_grace(ctx.db)


@mutation(internal=True)
async def configure(ctx: Ctx, enabled: bool, mode: Literal["off", "stripe", "local"],
                    grace_s: int, publishable_key: str | None = None,
                    js_url: str | None = None) -> dict[str, bool]:
    """Record whether billing is on for this deployment (the API process does, at start)."""
    if ctx.auth.kind != "anonymous":
        raise Forbidden("only the system configures billing")
    if grace_s < 0:
        raise BadRequest("grace_s must not be negative", field="grace_s")
    await ctx.db.execute(
        "INSERT INTO billing_settings (id, enabled, mode, grace_s, publishable_key, js_url, "
        "updated_at) VALUES (1, $1, $2, $3, $4, $5, now()) ON CONFLICT (id) DO UPDATE SET "
        "enabled = $1, mode = $2, grace_s = $3, publishable_key = $4, js_url = $5, "
        "updated_at = now()", enabled, mode, grace_s, publishable_key, js_url)
    return {"ok": True}

