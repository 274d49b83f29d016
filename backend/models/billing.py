"""Billing: the deployment's billing switch, each user's plan and Stripe subscription, the
billing events a user sees, the Stripe events already applied, and the bots paused for a plan.

Stripe stays the source of truth for subscriptions; these rows are what the backend last
learnt from it (webhooks and the billing actions), so limits are checked inside mutations.
"""

from tortoise import fields
from tortoise.models import Model


class BillingSettings(Model):
    """One row (id 1), written by the API process at start: whether billing is on (Stripe keys
    or localstripe configured) and the grace period. No row, or `enabled` false: no limits."""

    id = fields.IntField(primary_key=True)
    enabled = fields.BooleanField(default=False)
    mode = fields.CharField(max_length=8, default="off")  # off | stripe | local
    grace_s = fields.BigIntField(default=7 * 24 * 3600)
    publishable_key = fields.CharField(max_length=200, null=True)
    js_url = fields.CharField(max_length=500, null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "billing_settings"


class BillingAccount(Model):
    """A user's billing state. Invariant: `effective_plan` is the plan whose limits apply now:
    `plan` while `status` is active/trialing, or past_due/unpaid before `grace_until`; else
    free. It is written (never derived by queries, which cannot read the clock)."""

    id = fields.BigIntField(primary_key=True)
    user = fields.OneToOneField("plutarc.User", related_name="billing", on_delete=fields.CASCADE)
    customer_id = fields.CharField(max_length=100, null=True, unique=True)
    subscription_id = fields.CharField(max_length=100, null=True)
    plan = fields.CharField(max_length=16, default="free")
    status = fields.CharField(max_length=24, default="none")
    effective_plan = fields.CharField(max_length=16, default="free")
    period_start = fields.DatetimeField(null=True)
    period_end = fields.DatetimeField(null=True)
    cancel_at_period_end = fields.BooleanField(default=False)
    grace_until = fields.DatetimeField(null=True)
    payment_method = fields.CharField(max_length=64, null=True)
    next_invoice_cents = fields.BigIntField(null=True)  # Stripe's preview of the next invoice
    next_invoice_currency = fields.CharField(max_length=8, null=True)
    next_invoice_at = fields.DatetimeField(null=True)
    # When the state applied last was read from Stripe (database clock, taken before the
    # read). Invariant: only a later read is applied, so an older read that arrives last
    # (two webhooks racing, in one process or several) never overwrites a newer one.
    stripe_read_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "billing_accounts"


class BillingEvent(Model):
    """A change of a user's billing the user sees (plan, payment, grace, bots paused)."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("plutarc.User", related_name="billing_events",
                                  on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=32)
    level = fields.CharField(max_length=8, default="info")
    message = fields.TextField()
    data = fields.JSONField(null=True)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "billing_events"
        indexes = (("user_id", "id"),)


class StripeEvent(Model):
    """A Stripe webhook event already applied: a replay finds its id here and changes nothing."""

    id = fields.CharField(max_length=100, primary_key=True)
    type = fields.CharField(max_length=64)
    customer_id = fields.CharField(max_length=100, null=True)
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stripe_events"


class BillingPausedBot(Model):
    """A bot paused because its owner's plan no longer covers it; resumed (and removed from
    here) when the plan covers it again, unless its owner has changed its desired state."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.OneToOneField("plutarc.Bot", related_name="billing_pause",
                               on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("plutarc.User", related_name="billing_paused_bots",
                                  on_delete=fields.CASCADE)
    reason = fields.TextField()
    paused_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "billing_paused_bots"
