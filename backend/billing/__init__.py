"""Billing with Stripe: plans and their limits, subscriptions, signed webhooks, grace periods.

    plans.py      the plans (one table of configuration) and what each allows
    config.py     Stripe keys from the environment (or localstripe's); the process's config
    stripe_api.py every call to Stripe, returning plain data
    account.py    applying a subscription's state to a user's billing account
    limits.py     the checks bots:create, bots:setDesiredState, apiKeys:add call
    enforce.py    pausing the bots a plan no longer covers, resuming them when it does
    webhook.py    POST /api/stripe/webhook: verified, applied once, in any order
    service.py    the API process's part: the billing switch row and the grace-period clock
    local.py      localstripe on loopback, for `plutarc up --stripe local` and the tests

Without Stripe keys (and without `--stripe local`) billing is off and no plan limit applies.
"""
