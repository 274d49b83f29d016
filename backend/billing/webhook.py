"""`POST /api/stripe/webhook`: Stripe's events, verified before anything is read, applied once.

1. The signature is checked by the library (`stripe.Webhook.construct_event`, tolerance
   5 min) on the raw body: a forged or stale signature is a 400 and nothing is read or written.
2. An event id already applied is a 200 that changes nothing (ids are stored with the change,
   in one transaction, so an event is applied exactly once even when Stripe retries).
3. For `customer.subscription.*` and `invoice.payment_succeeded|payment_failed` the
   customer's subscription is read back from Stripe and that current state is applied: the
   order in which events arrive does not matter. The database clock taken before the read
   goes with it, and only a later read is applied (billing_accounts.stripe_read_at), so two
   deliveries racing never leave the older read in place; no lock is held over the network.
"""

from __future__ import annotations

import logging

import stripe
from starlette.requests import Request
from starlette.responses import Response

from backend.billing import config, stripe_api
from backend.http.calls import json_response
from backend.runtime.context import ANONYMOUS
from backend.runtime.errors import ApiError
from backend.runtime.runner import Runtime

log = logging.getLogger("plutarc.billing")
TOLERANCE_S = 300
HANDLED = ("invoice.payment_succeeded", "invoice.payment_failed")


def _bad(message: str) -> Response:
    return json_response({"error": {"code": "bad_request", "message": message, "field": None}},
                         400)


async def stripe_webhook(request: Request) -> Response:
    cfg = config.current()
    if cfg is None:
        return json_response({"error": {"code": "not_found", "field": None,
                                        "message": "billing is off on this server"}}, 404)
    payload = await request.body()
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("stripe-signature"), cfg.webhook_secret, TOLERANCE_S)
    except stripe.SignatureVerificationError as exc:
        log.warning("stripe webhook refused: %s", exc.user_message or "bad signature")
        return _bad("the Stripe-Signature header does not verify (forged or older than 5 min)")
    except ValueError:
        return _bad("the body is not a Stripe event")
    runtime: Runtime = request.app.state.runtime
    data = event.to_dict()
    event_id, kind = data["id"], data.get("type", "")
    if await runtime.pool.fetchval("SELECT 1 FROM stripe_events WHERE id = $1", event_id):
        return json_response({"received": True, "duplicate": True})
    obj = (data.get("data") or {}).get("object") or {}
    customer_id = obj.get("customer") if isinstance(obj.get("customer"), str) else None
    if not customer_id or not (kind.startswith("customer.subscription.") or kind in HANDLED):
        return json_response({"received": True, "ignored": kind})
    try:
        read_at = await runtime.pool.fetchval("SELECT clock_timestamp()")
        state = await stripe_api.current_subscription(cfg, customer_id)
        outcome = await runtime.call(
            "mutation", "billing:applyStripe",
            {"customer_id": customer_id, "state": state.model_dump(mode="json"),
             "read_at": read_at.isoformat(), "event_id": event_id, "event_type": kind},
            ANONYMOUS, internal_ok=True)
    except ApiError as exc:  # Stripe unreachable: a non-2xx makes Stripe deliver it again
        log.warning("stripe webhook %s (%s) not applied: %s", event_id, kind, exc.message)
        return json_response({"error": exc.to_json()}, exc.status)
    return json_response({"received": True, **outcome.value})
