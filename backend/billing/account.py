"""A user's billing account: applying what Stripe says to it, the grace period, and which
plan's limits apply (`effective_plan`, whose invariant is stated on the model).

Every change is written as a billing event the user sees, and ends with the user's bots
reconciled with the plan now in force (backend/billing/enforce.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from backend.billing.enforce import billing_event, reconcile
from backend.billing.plans import FREE, plan
from backend.billing.stripe_api import SubscriptionState
from backend.runtime.executor import Executor

PAYING = ("active", "trialing")
IN_ARREARS = ("past_due", "unpaid")  # a payment failed: the plan holds until grace ends
ACCOUNT = ("user_id, customer_id, subscription_id, plan, status, effective_plan, period_start, "
           "period_end, cancel_at_period_end, grace_until, payment_method, next_invoice_cents, "
           "next_invoice_currency, next_invoice_at, stripe_read_at")


def effective_plan(plan_key: str, status: str, grace_until: datetime | None,
                   now: datetime) -> str:
    """The plan whose limits apply (pure; the model's invariant)."""
    if status in PAYING:
        return plan_key
    if status in IN_ARREARS and grace_until is not None and now < grace_until:
        return plan_key
    return FREE.key


async def ensure_account(db: Executor, user_id: int) -> dict[str, Any]:
    await db.execute(
        "INSERT INTO billing_accounts (user_id, plan, status, effective_plan, "
        "cancel_at_period_end, updated_at) VALUES ($1, 'free', 'none', 'free', false, now()) "
        "ON CONFLICT (user_id) DO NOTHING", user_id,
    )
    row = await db.fetchrow(f"SELECT {ACCOUNT} FROM billing_accounts WHERE user_id = $1", user_id)
    assert row is not None
    return row


async def grace_seconds(db: Executor) -> int:
    return int(await db.fetchval("SELECT grace_s FROM billing_settings WHERE id = 1") or 0)


async def apply_state(db: Executor, user_id: int, state: SubscriptionState,
                      read_at: datetime) -> dict[str, Any] | None:
    """Make the account say what Stripe said at `read_at`; start or end the grace period;
    pause or resume bots. None (nothing done) when a later read was applied already.
    Applying the same state twice changes nothing the second time."""
    old = await ensure_account(db, user_id)
    if old["stripe_read_at"] is not None and old["stripe_read_at"] >= read_at:
        return None
    now: datetime = await db.fetchval("SELECT now()")
    grace = old["grace_until"]
    if state.status in IN_ARREARS:
        grace = grace or now + timedelta(seconds=await grace_seconds(db))
    else:
        grace = None
    effective = effective_plan(state.plan, state.status, grace, now)
    new = await db.fetchrow(
        "UPDATE billing_accounts SET subscription_id = $2, plan = $3, status = $4, "
        "effective_plan = $5, period_start = $6, period_end = $7, cancel_at_period_end = $8, "
        "grace_until = $9, payment_method = $10, stripe_read_at = $11, next_invoice_cents = $12, "
        "next_invoice_currency = $13, next_invoice_at = $14, updated_at = now() "
        f"WHERE user_id = $1 RETURNING {ACCOUNT}",
        user_id, state.subscription_id, state.plan, state.status, effective, state.period_start,
        state.period_end, state.cancel_at_period_end, grace, state.payment_method, read_at,
        state.next_invoice_cents, state.next_invoice_currency, state.next_invoice_at,
    )
    assert new is not None
    await _describe(db, old, new)
    await reconcile(db, user_id, plan(effective))
    return new


async def _describe(db: Executor, old: dict[str, Any], new: dict[str, Any]) -> None:
    """The billing events for the change old → new."""
    user_id = new["user_id"]
    if old["status"] != new["status"]:
        await billing_event(db, user_id, "subscription",
                            f"subscription {old['status']} → {new['status']}",
                            "warning" if new["status"] in IN_ARREARS else "info",
                            {"from": old["status"], "to": new["status"]})
    if old["plan"] != new["plan"]:
        await billing_event(db, user_id, "plan", f"plan {plan(old['plan']).name} → "
                            f"{plan(new['plan']).name}", data={"from": old["plan"],
                                                              "to": new["plan"]})
    if new["grace_until"] and not old["grace_until"]:
        await billing_event(
            db, user_id, "grace", f"payment failed: {plan(new['plan']).name} stays in force "
            f"until {new['grace_until']:%Y-%m-%d %H:%M} UTC; then bots over the Free plan's "
            "limits are paused (they keep managing their exits). Update your card to keep it.",
            "warning", {"grace_until": new["grace_until"].isoformat()})
    if old["grace_until"] and not new["grace_until"] and new["status"] in PAYING:
        await billing_event(db, user_id, "payment", "payment succeeded: the grace period ended")
    if old["effective_plan"] != new["effective_plan"]:
        await _limits_event(db, user_id, new["effective_plan"])


async def _limits_event(db: Executor, user_id: int, key: str) -> None:
    p = plan(key)
    await billing_event(db, user_id, "limits", f"limits of the {p.name} plan now apply: "
                        f"{p.max_bots} running bot(s)", data={"plan": key})


async def expire_grace(db: Executor) -> list[int]:
    """End the grace periods that are over: Free's limits apply, bots over them are paused.
    Returns the users concerned (idempotent: an expired account is not picked again)."""
    rows = await db.fetch(
        "UPDATE billing_accounts SET effective_plan = 'free', updated_at = now() "
        "WHERE grace_until <= now() AND effective_plan <> 'free' "
        "AND status IN ('past_due', 'unpaid') RETURNING user_id, plan",
    )
    for row in rows:
        await billing_event(db, row["user_id"], "grace", "the grace period ended without "
                            f"payment: {plan(row['plan']).name} is suspended", "warning")
        await _limits_event(db, row["user_id"], FREE.key)
        await reconcile(db, row["user_id"], FREE)
    return [row["user_id"] for row in rows]
