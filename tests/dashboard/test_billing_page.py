"""The billing page in a real browser (Debian's Chromium through Playwright) against the real
stack with `plutarc up --stripe local` (a real localstripe process): a new trader sees Free and
its usage against the limits; a declining card typed into the card form (localstripe's
Stripe.js stand-in) shows its error and changes nothing; a good card upgrades to Pro, and the
page shows Pro, the card on file, the next invoice and the paid one; a declined renewal then
shows the grace-period banner live, and paying with another card from it ends the grace."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.billing.support import CARD_DECLINES_CHARGES, Billing, renew
from tests.dashboard.stack import Stack, running_stack
from tests.dashboard.test_dashboard import WAIT_MS, _eventually, _page, _shot

DECLINED = "4000000000000002"  # localstripe: declined at once
GOOD = "4242424242424242"


@pytest.fixture(scope="module")
def stack(db_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's stack: billing on (localstripe), no demo bots."""
    with running_stack(db_dsn, tmp_path_factory.mktemp("billing-page-data"), demo=False,
                       stripe=True) as s:
        yield s


# Stripe.js posts the declined card to Stripe (here localstripe), which answers 402; Chromium
# logs that response as a failed resource load. It is the one console error allowed, once.
DECLINE_LOAD = "Failed to load resource: the server responded with a status of 402 (Payment Required)"


@pytest.fixture
def console_errors() -> Iterator[list[str]]:
    errors: list[str] = []
    yield errors
    assert errors.count(DECLINE_LOAD) <= 1, errors
    others = [e for e in errors if e != DECLINE_LOAD]
    assert not others, f"browser console errors: {others}"


def _fill_card(page: Any, number: str) -> None:
    form = page.locator("#card-element")
    form.locator("input[placeholder=number]").fill(number)
    form.locator("input[placeholder=exp_month]").fill("12")
    form.locator("input[placeholder=exp_year]").fill("31")
    form.locator("input[placeholder=cvc]").fill("123")
    form.locator("input[placeholder=postal_code]").fill("75001")


def test_free_with_usage_a_declined_card_pro_then_grace_and_paid_again(
        stack: Stack, browser: Any, artifacts: Path, console_errors: list[str]) -> None:
    email, password = f"billing-{uuid.uuid4().hex[:6]}@example.com", "billing-page-pass"
    stack.call("action", "auth:signup", {"email": email, "password": password})
    context, page = _page(browser, console_errors)
    page.goto(f"{stack.dashboard}/login")
    page.fill("#email-input", email)
    page.fill("#password-input", password)
    page.click("#login-submit")
    page.wait_for_url(f"{stack.dashboard}/", timeout=WAIT_MS)
    page.click("#nav-billing")
    page.wait_for_selector("#plan-name", timeout=WAIT_MS)
    _eventually(lambda: page.inner_text("#plan-name") == "Free")
    usage = page.inner_text("#usage-table")
    assert "Running bots" in usage and "Live API keys" in usage, usage
    assert page.locator("#plan-pro-card").is_visible()
    _shot(page, artifacts, "billing-free")

    page.click("#upgrade-pro")
    page.wait_for_selector("#card-element input[placeholder=number]", timeout=WAIT_MS)
    _fill_card(page, DECLINED)
    page.click("#pay")
    page.wait_for_selector("#card-error", timeout=WAIT_MS)
    assert "declined" in page.inner_text("#card-error").lower()
    assert page.inner_text("#plan-name") == "Free"
    _shot(page, artifacts, "billing-declined")

    page.click("#cancel-card")
    page.click("#upgrade-pro")
    page.wait_for_selector("#card-element input[placeholder=number]", timeout=WAIT_MS)
    _fill_card(page, GOOD)
    page.click("#pay")
    _eventually(lambda: page.inner_text("#plan-name") == "Pro")
    page.wait_for_selector("#billing-notice", timeout=WAIT_MS)
    _eventually(lambda: "4242" in page.inner_text("#card-on-file"))
    _eventually(lambda: "29.00 USD" in page.inner_text("#next-invoice"))
    assert page.locator("#card-form").count() == 0
    _eventually(lambda: "paid" in page.inner_text("#invoices-table"))
    assert "29.00 USD" in page.inner_text("#invoices-table")
    token = stack.call("action", "auth:login", {"email": email, "password": password})["token"]
    assert stack.call("query", "billing:status", token=token)["plan"]["key"] == "pro"
    _shot(page, artifacts, "billing-pro")

    # A renewal charged to a card that declines every charge (what Stripe does at a period's
    # end): the webhook moves the subscription to past_due and the page shows the grace banner.
    status = stack.call("query", "billing:status", token=token)
    customer = stack.call("query", "billing:account", token=token)["customer_id"]
    billing = Billing(stack.api, stack.up.facts["dsn"], stack.up.facts["billing"])
    client = billing.stripe()
    pm = client.v1.payment_methods.create({"type": "card", "card": {
        "number": CARD_DECLINES_CHARGES, "exp_month": 12, "exp_year": 2031, "cvc": "123"}})
    client.v1.payment_methods.attach(pm.id, {"customer": customer})
    client.v1.customers.update(customer, {"invoice_settings": {"default_payment_method": pm.id}})
    assert renew(billing, customer, status["subscription_id"], 2900) == "open"
    page.wait_for_selector("#grace-banner", timeout=WAIT_MS)
    assert "payment failed" in page.inner_text("#grace-banner").lower()
    assert page.inner_text("#plan-name") == "Pro"  # the plan stays in force during the grace
    _eventually(lambda: "past_due" in page.inner_text("#billing-events"))
    _shot(page, artifacts, "billing-grace")

    page.click("#grace-pay")  # pay the open invoice with a good card: the grace ends
    page.wait_for_selector("#card-element input[placeholder=number]", timeout=WAIT_MS)
    _fill_card(page, GOOD)
    page.click("#pay")
    _eventually(lambda: page.locator("#grace-banner").count() == 0)
    _eventually(lambda: "4242" in page.inner_text("#card-on-file"))
    assert page.inner_text("#plan-status") == "active"
    _shot(page, artifacts, "billing-paid-again")
    context.close()
