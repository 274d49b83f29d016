"""Billing: how long the Stripe paths take against localstripe on loopback.

Baseline measured in the same run: the `billing:status` query over HTTP. Then:
- `billing:changePlan` free → pro (customer, card, subscription, read-back, apply);
- a replayed webhook (signature check + the applied-once lookup, nothing applied);
- an upgrade made on Stripe's side until `billing:status` says Pro (webhook delivery
  included: localstripe waits 1 s before it sends an event);
- a fresh webhook applied (signature, Stripe read-back, the transaction, reconcile), posted
  by the bench itself while localstripe's own deliveries are held.

Run: .venv/bin/python bench/billing.py [--users 10] [--dsn postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import httpx

from backend.app import create_app
from backend.billing.local import LocalStripe, new_webhook_secret
from backend.billing.service import billing_service
from backend.billing.stripe_api import ensure_catalog
from backend.testing.databases import (
    create_database,
    create_migrated_template,
    drop_database,
)
from tests.billing.support import Billing, Trader, signature, subscribe_directly
from tests.support.servers import ServerThread, free_port


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def report(name: str, samples: list[float], base: float | None) -> float:
    p50 = statistics.median(samples)
    ratio = f"  ({p50 / base:6.1f}x)" if base else ""
    print(f"{name:<52} p50 {p50:8.1f} ms  max {max(samples):8.1f} ms{ratio}")
    return p50


def _event_body(billing: Billing, event_type: str, customer: str) -> bytes:
    auth = {"Authorization": f"Bearer {billing.config.secret_key}"}
    events = httpx.get(f"{billing.stripe_url}/v1/events",
                       params={"limit": 100, "type": event_type}, headers=auth).json()["data"]
    found = next(e for e in events
                 if e["type"] == event_type and (e["data"]["object"] or {}).get("customer") == customer)
    return httpx.get(f"{billing.stripe_url}/v1/events/{found['id']}", headers=auth).content


def run(billing: Billing, stripe: LocalStripe, users: int) -> None:
    trader = Trader(billing)
    base = report("billing:status query (baseline)",
                  [timed(trader.status) for _ in range(50)], None)
    traders = [Trader(billing) for _ in range(users)]
    cards = [t.card_id() for t in traders]
    report("billing:changePlan free -> pro", [
        timed(lambda t=t, pm=pm: t.ok("action", "billing:changePlan",
                                      {"plan": "pro", "payment_method_id": pm}))
        for t, pm in zip(traders, cards, strict=True)], base)
    events = httpx.get(f"{billing.stripe_url}/v1/events", params={"limit": 100}, headers={
        "Authorization": f"Bearer {billing.config.secret_key}"}).json()["data"]
    hook = f"{billing.url}/api/stripe/webhook"
    secret = billing.config.webhook_secret
    bodies = [httpx.get(f"{billing.stripe_url}/v1/events/{e['id']}", headers={
        "Authorization": f"Bearer {billing.config.secret_key}"}).content
        for e in events if e["type"] == "invoice.payment_succeeded"]
    time.sleep(2)  # let localstripe's own deliveries land first: these are replays
    with httpx.Client(timeout=30) as http:  # keep-alive, as the baseline's client
        report("webhook, replayed (verified, found applied)", [
            timed(lambda b=b: http.post(hook, content=b, headers={
                "Stripe-Signature": signature(b, secret)})) for b in bodies], base)
    fresh = [Trader(billing) for _ in range(users)]
    done: list[float] = []
    for t in fresh:
        pm = t.card_id()
        started = time.perf_counter()
        subscribe_directly(billing, t.customer_id(), pm, "pro")
        while t.status()["plan"]["key"] != "pro":
            time.sleep(0.02)
        done.append((time.perf_counter() - started) * 1000)
    report("upgrade on Stripe's side -> status Pro (webhook)", done, base)
    stripe.register_webhook(hook, secret, events=["none.held"])  # we deliver them ourselves
    held = [Trader(billing) for _ in range(users)]
    for t in held:
        pm = t.card_id()  # creates the customer
        subscribe_directly(billing, t.customer_id(), pm, "pro")
    time.sleep(1.5)
    bodies = [_event_body(billing, "customer.subscription.created", t.customer_id())
              for t in held]
    with httpx.Client(timeout=30) as http:
        report("webhook, fresh (verified, Stripe read, applied)", [
            timed(lambda b=b: http.post(hook, content=b, headers={
                "Stripe-Signature": signature(b, secret)})) for b in bodies], base)
    assert all(t.status()["plan"]["key"] == "pro" for t in held)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--dsn", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    template = asyncio.run(create_migrated_template(args.dsn))
    name = f"plutarc_bench_billing_{os.getpid()}"
    dsn = asyncio.run(create_database(args.dsn, name, template=template))
    stripe = LocalStripe(free_port()).start()
    try:
        secret = new_webhook_secret()
        config = stripe.config(secret, grace_s=3600)
        asyncio.run(ensure_catalog(config))
        with ServerThread(create_app(dsn, services=[billing_service(config)])) as url:
            stripe.register_webhook(f"{url}/api/stripe/webhook", secret)
            run(Billing(url, dsn, config), stripe, args.users)
    finally:
        stripe.stop()
        asyncio.run(drop_database(args.dsn, name))
        asyncio.run(drop_database(args.dsn, template))


if __name__ == "__main__":
    main()
