"""POST /api/stripe/webhook with events localstripe made and signed: a forged signature, a
stale timestamp or a missing header is a 400 that changes nothing; a replayed event is a 200
that changes nothing; events delivered in reverse order end in Stripe's current state."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backend.billing.local import LocalStripe
from tests.billing.support import Billing, Trader, signature, subscribe_directly, wait
from tests.domain.conftest import sql


def _events(billing: Billing, customer: str) -> list[tuple[str, str, bytes]]:
    """(id, type, exact JSON body) of every event about `customer`, oldest first."""
    listed = httpx.get(f"{billing.stripe_url}/v1/events", params={"limit": 100},
                       headers={"Authorization": f"Bearer {billing.config.secret_key}"}).json()
    out = []
    for event in sorted(listed["data"], key=lambda e: e["created"]):
        obj = event["data"]["object"]
        if customer in (obj.get("customer"), obj.get("id")):
            body = httpx.get(f"{billing.stripe_url}/v1/events/{event['id']}", headers={
                "Authorization": f"Bearer {billing.config.secret_key}"}).content
            out.append((event["id"], event["type"], body))
    return out


def _post(billing: Billing, body: bytes, header: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return httpx.post(f"{billing.url}/api/stripe/webhook", content=body, headers=headers)


def _snapshot(billing: Billing, trader: Trader) -> dict[str, Any]:
    return {
        "events": sql(billing.dsn, "SELECT id FROM stripe_events ORDER BY id"),
        "billing_events": sql(billing.dsn, "SELECT id FROM billing_events WHERE user_id = $1",
                              trader.user_id),
        "account": sql(billing.dsn, "SELECT * FROM billing_accounts WHERE user_id = $1",
                       trader.user_id),
    }


@contextlib.contextmanager
def held(billing: Billing, localstripe: LocalStripe) -> Iterator[None]:
    """localstripe's own deliveries held back: the test delivers those events itself."""
    hook = f"{billing.url}/api/stripe/webhook"
    localstripe.register_webhook(hook, billing.config.webhook_secret, events=["none.held"])
    try:
        yield
        time.sleep(1.5)  # localstripe schedules each delivery 1 s after its event
    finally:
        localstripe.register_webhook(hook, billing.config.webhook_secret)


@pytest.fixture
def pro_trader(billing: Billing) -> Trader:
    """A trader who upgraded to Pro, with every webhook of it delivered."""
    trader = Trader(billing)
    trader.ok("action", "billing:changePlan", {"plan": "pro", "payment_method_id": trader.card_id()})
    customer = trader.customer_id()
    wait(lambda: sql(billing.dsn, "SELECT 1 FROM stripe_events WHERE customer_id = $1 AND "
                     "type = 'customer.subscription.created'", customer), 10, "the webhooks")
    return trader


def test_forged_stale_and_unsigned_events_are_refused_and_change_nothing(
        billing: Billing, localstripe: LocalStripe, pro_trader: Trader) -> None:
    customer = pro_trader.customer_id()
    with held(billing, localstripe):  # cancelled on Stripe's side: only its event tells us
        billing.stripe().v1.subscriptions.cancel(pro_trader.status()["subscription_id"])
    deleted = [e for e in _events(billing, customer) if e[1] == "customer.subscription.deleted"]
    body = deleted[0][2]
    before = _snapshot(billing, pro_trader)
    secret = billing.config.webhook_secret
    cases = {
        "forged": signature(body, "whsec_not_the_secret"),
        "stale": signature(body, secret, at=int(time.time()) - 301),
        "unsigned": None,
        "tampered": signature(body, secret).replace("v1=", "v1=0"),
    }
    for name, header in cases.items():
        answer = _post(billing, body, header)
        assert answer.status_code == 400, (name, answer.text)
        assert answer.json()["error"]["code"] == "bad_request"
    altered = body.replace(b"canceled", b"active")
    assert _post(billing, altered, signature(body, secret)).status_code == 400
    assert _post(billing, b"not json", signature(b"not json", secret)).status_code == 400
    assert _snapshot(billing, pro_trader) == before
    assert pro_trader.status()["plan"]["key"] == "pro"
    assert _post(billing, body, signature(body, secret)).json()["applied"]  # the real one
    assert pro_trader.status()["plan"]["key"] == "free"


def test_a_replayed_event_is_a_200_that_changes_nothing(billing: Billing,
                                                        pro_trader: Trader) -> None:
    customer = pro_trader.customer_id()
    delivered = [e for e in _events(billing, customer)
                 if e[1] == "customer.subscription.created"]
    event_id, _, body = delivered[0]
    before = _snapshot(billing, pro_trader)
    for _ in range(2):
        answer = _post(billing, body, signature(body, billing.config.webhook_secret))
        assert answer.status_code == 200 and answer.json()["duplicate"] is True
    assert _snapshot(billing, pro_trader) == before
    assert [r["id"] for r in before["events"]].count(event_id) == 1


def test_events_in_reverse_order_end_in_the_current_state(billing: Billing,
                                                          localstripe: LocalStripe) -> None:
    trader = Trader(billing)
    pm, customer = trader.card_id(), trader.customer_id()
    with held(billing, localstripe):
        subscription = subscribe_directly(billing, customer, pm, "pro")
        billing.stripe().v1.subscriptions.cancel(subscription.id)
    events = [e for e in _events(billing, customer)
              if e[1].startswith(("customer.subscription.", "invoice.payment_"))]
    kinds = [e[1] for e in events]
    assert "customer.subscription.created" in kinds and kinds[-1] == "customer.subscription.deleted"
    for event_id, _, body in reversed(events):  # deleted first, created last
        answer = _post(billing, body, signature(body, billing.config.webhook_secret))
        assert answer.status_code == 200 and answer.json()["applied"], answer.text
    status = trader.status()
    assert status["status"] == "canceled" and status["plan"]["key"] == "free", (
        "the last event to arrive (created, active) must not bring Pro back")
    assert status["effective_plan"]["key"] == "free"


def test_an_older_read_arriving_last_never_overwrites_a_newer_one(billing: Billing) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.domain.conftest import internal

    trader = Trader(billing)
    trader.card_id()  # links the Stripe customer
    customer = trader.customer_id()
    newer = datetime.now(UTC)
    canceled = {"subscription_id": "sub_x", "status": "canceled", "plan": "free"}
    active = {"subscription_id": "sub_x", "status": "active", "plan": "team"}
    first = internal(billing.dsn, "billing:applyStripe", {
        "customer_id": customer, "state": canceled, "read_at": newer.isoformat()})
    late = internal(billing.dsn, "billing:applyStripe", {
        "customer_id": customer, "state": active,
        "read_at": (newer - timedelta(milliseconds=5)).isoformat(), "event_id": "evt_late"})
    assert first["applied"] and late == {"applied": False, "duplicate": False}
    assert trader.status()["status"] == "canceled" and trader.status()["plan"]["key"] == "free"
