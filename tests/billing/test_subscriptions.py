"""Subscriptions against a real localstripe over HTTP: an upgrade made on Stripe's side is
applied by its webhook within seconds; the billing page's flow (SetupIntent → card →
changePlan) upgrades, downgrades (pausing the bots over the new plan, never stopping them)
and upgrades again (resuming them); a declined card leaves the plan as it was."""

from __future__ import annotations

import time

from tests.billing.support import (
    CARD_DECLINES_CHARGES,
    CARD_OK,
    CARD_REFUSED,
    Billing,
    Trader,
    subscribe_directly,
    wait,
)
from tests.domain.conftest import sql


def test_plans_and_a_new_traders_status(billing: Billing) -> None:
    trader = Trader(billing)
    plans = trader.ok("query", "billing:plans")
    assert [(p["key"], p["max_bots"], p["live_keys"]) for p in plans] == [
        ("free", 1, False), ("pro", 5, True), ("team", 25, True)]
    assert plans[0]["regions"] == ["local"] and plans[1]["regions"] is None
    assert plans[1]["stripe_price"] == "plutarc-pro-monthly" and plans[1]["monthly_cents"] > 0
    status = trader.status()
    assert status["enabled"] and status["mode"] == "local"
    assert status["plan"]["key"] == status["effective_plan"]["key"] == "free"
    assert status["usage"] == {"running_bots": 0, "max_bots": 1, "live_keys": 0,
                               "live_keys_allowed": False, "regions": [],
                               "regions_allowed": ["local"]}
    assert status["js_url"] == f"{billing.stripe_url}/js.stripe.com/v3/"
    assert status["publishable_key"].startswith("pk_") and status["next_invoice"] is None


def test_an_upgrade_on_stripes_side_is_pro_within_seconds_of_the_webhook(billing: Billing
                                                                         ) -> None:
    trader = Trader(billing)
    pm = trader.card_id(CARD_OK)
    customer = trader.customer_id()
    started = time.monotonic()
    subscription = subscribe_directly(billing, customer, pm, "pro")
    assert subscription.status == "active"
    wait(lambda: trader.status()["plan"]["key"] == "pro", 10, "the webhook to make it Pro")
    took = time.monotonic() - started
    status = trader.status()
    assert status["status"] == "active" and status["effective_plan"]["key"] == "pro"
    assert status["period_end"] and status["payment_method"] == "visa •••• 4242"
    assert status["next_invoice"]["amount_cents"] == 2900
    assert took < 10, f"Pro {took:.1f}s after subscribing (localstripe waits 1 s to send)"
    wanted = {"customer.subscription.created", "invoice.payment_succeeded"}
    wait(lambda: wanted <= {r["type"] for r in sql(
        billing.dsn, "SELECT type FROM stripe_events WHERE customer_id = $1", customer)},
        10, "both webhooks recorded")
    messages = [e["message"] for e in trader.ok("query", "billing:events")]
    assert "plan Free → Pro" in messages and "subscription none → active" in messages


def test_the_billing_page_flow_upgrades_downgrades_and_upgrades_again(billing: Billing) -> None:
    trader = Trader(billing)
    status = trader.ok("action", "billing:changePlan",
                       {"plan": "pro", "payment_method_id": trader.card_id()})
    assert status["plan"]["key"] == "pro" and status["status"] == "active"
    strategy_id = trader.strategy()
    bots = [trader.bot(strategy_id).json()["value"]["id"] for _ in range(3)]
    assert trader.status()["usage"]["running_bots"] == 3

    team = trader.ok("action", "billing:changePlan", {"plan": "team"})
    assert team["plan"]["key"] == "team"
    assert team["next_invoice"]["amount_cents"] == 9900 - 2900, "Stripe's proration credit"
    down = trader.ok("action", "billing:changePlan", {"plan": "free"})
    assert down["plan"]["key"] == "free" and down["status"] == "canceled"
    assert down["next_invoice"] is None
    rows = {r["id"]: r for r in sql(billing.dsn, "SELECT id, desired_state, lifecycle FROM bots "
                                    "WHERE user_id = $1", trader.user_id)}
    assert rows[bots[0]]["desired_state"] == "run", "the oldest bot keeps running"
    assert [rows[b]["desired_state"] for b in bots[1:]] == ["pause", "pause"]
    assert all(r["lifecycle"] != "stopped" for r in rows.values()), "paused, never stopped"
    assert [p["bot_id"] for p in down["paused_for_plan"]] == bots[1:]
    events = sql(billing.dsn, "SELECT bot_id, kind, message FROM bot_events WHERE kind = "
                 "'billing' AND user_id = $1", trader.user_id)
    assert {e["bot_id"] for e in events} == set(bots[1:])
    assert "still managed" in events[0]["message"]

    up = trader.ok("action", "billing:changePlan", {"plan": "pro"})  # the card on file
    assert up["plan"]["key"] == "pro" and up["paused_for_plan"] == []
    rows = sql(billing.dsn, "SELECT desired_state FROM bots WHERE user_id = $1", trader.user_id)
    assert [r["desired_state"] for r in rows] == ["run"] * 3
    kinds = [e["kind"] for e in trader.ok("query", "billing:events")]
    assert kinds.count("bot_paused") == 2 and kinds.count("bot_resumed") == 2


def test_a_bot_its_owner_stopped_is_not_resumed_by_the_plan(billing: Billing) -> None:
    trader = Trader(billing)
    trader.ok("action", "billing:changePlan", {"plan": "pro", "payment_method_id": trader.card_id()})
    strategy_id = trader.strategy()
    first, second = (trader.bot(strategy_id).json()["value"]["id"] for _ in range(2))
    trader.ok("action", "billing:changePlan", {"plan": "free"})
    trader.ok("mutation", "bots:setDesiredState", {"bot_id": second, "state": "stop"})
    trader.ok("action", "billing:changePlan", {"plan": "pro"})
    rows = {r["id"]: r["desired_state"] for r in sql(
        billing.dsn, "SELECT id, desired_state FROM bots WHERE user_id = $1", trader.user_id)}
    assert rows == {first: "run", second: "stop"}


def test_a_declined_card_leaves_the_plan_as_it_was_with_a_clear_error(billing: Billing) -> None:
    trader = Trader(billing)
    refused = trader.card(CARD_REFUSED)  # Stripe.js shows this error on the page
    assert refused.status_code == 402 and "declined" in refused.text
    pm = trader.card_id(CARD_DECLINES_CHARGES)
    answer = trader.call("action", "billing:changePlan", {"plan": "pro", "payment_method_id": pm})
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["field"] == "payment_method_id" and "stay on Free" in error["message"]
    status = trader.status()
    assert status["plan"]["key"] == status["effective_plan"]["key"] == "free"
    assert status["status"] == "incomplete"
    unknown = trader.call("action", "billing:changePlan",
                          {"plan": "pro", "payment_method_id": "pm_doesnotexist"})
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "payment_method_id"
    no_card = Trader(billing)
    answer = no_card.call("action", "billing:changePlan", {"plan": "pro"})
    assert answer.status_code == 400 and "needs a card" in answer.json()["error"]["message"]


async def test_billing_status_is_live_over_the_websocket(billing: Billing) -> None:
    import asyncio

    from backend.client import Client

    trader = Trader(billing)
    pm = await asyncio.to_thread(trader.card_id)
    async with Client(billing.url, trader.token) as client:
        values = client.subscribe("billing:status", {})
        first = await asyncio.wait_for(anext(values), 10)
        assert first["plan"]["key"] == "free"
        await asyncio.to_thread(subscribe_directly, billing, trader.customer_id(), pm, "team")

        async def pushed() -> dict:
            async for value in values:
                if value["plan"]["key"] == "team":
                    return value
            raise AssertionError("the subscription ended")

        value = await asyncio.wait_for(pushed(), 10)  # pushed by the webhook's commit
        assert value["usage"]["max_bots"] == 25 and value["status"] == "active"
    text = str(value) + str(first)
    assert billing.config.secret_key not in text and billing.config.webhook_secret not in text
