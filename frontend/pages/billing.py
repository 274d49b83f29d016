"""/billing: the trader's plan, usage against its limits, the grace-period banner, bots paused
for the plan, invoices and billing events (live: billing:status; invoices polled), and the
plans with one flow to change plan: a card form (Stripe.js; localstripe's stand-in with
`plutarc up --stripe local`) confirms a SetupIntent, then billing:changePlan."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from frontend import api, fmt, live
from frontend.components import layout, tables
from frontend.state.auth import AuthState
from frontend.state.live_page import LivePage, LiveTask

USAGE_COLUMNS = [("limit", "Limit"), ("used", "In use"), ("allowed", "Your plan allows")]
PAUSED_COLUMNS = [("bot", "Bot"), ("reason", "Why"), ("since", "Paused since")]
INVOICE_COLUMNS = [("created", "Date"), ("amount", "Amount"), ("status", "Status")]
EVENT_COLUMNS = [("at", "Time"), ("message", "Event")]
INVOICES_EVERY_S = 30.0
RETRY = "retry"  # the card form's purpose when it pays the open invoices (grace period)

# Stripe.js is loaded from the deployment's `js_url` (Stripe's, or localstripe's stand-in)
# the first time a card form opens; `confirm` answers {payment_method} or {error}.
CARD_JS = """
window.plutarcBilling = window.plutarcBilling || {
  async mount(jsUrl, key) {
    if (!window.Stripe) {
      await new Promise((ok, ko) => {
        const s = document.createElement('script');
        s.src = jsUrl; s.onload = ok;
        s.onerror = () => ko(new Error('Stripe.js could not be loaded from ' + jsUrl));
        document.head.appendChild(s);
      });
    }
    if (this.card) { this.card.destroy(); }
    this.stripe = Stripe(key);
    this.card = this.stripe.elements().create('card');
    for (let i = 0; i < 100 && !document.getElementById('card-element'); i++) {
      await new Promise((ok) => setTimeout(ok, 50));  // the form renders after the state
    }
    this.card.mount('#card-element');
    return true;
  },
  async confirm(secret) {
    const r = await this.stripe.confirmCardSetup(secret, {payment_method: {card: this.card}});
    if (r.error) {
      return {error: (r.error && r.error.message) || String(r.error) || 'The card was declined.'};
    }
    return {payment_method: r.setupIntent.payment_method};
  },
};
"""


def _cents(cents: Any, currency: str = "usd") -> str:
    return f"{int(cents or 0) / 100:,.2f} {currency.upper()}"


def _allowed(value: Any) -> str:
    if value is None:
        return "every region"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return ", ".join(value) if isinstance(value, list) else str(value)


def usage_rows(usage: dict[str, Any] | None) -> list[dict[str, str]]:
    if not usage:
        return []
    return [
        {"row_id": "usage-bots", "limit": "Running bots", "used": str(usage["running_bots"]),
         "allowed": str(usage["max_bots"])},
        {"row_id": "usage-keys", "limit": "Live API keys", "used": str(usage["live_keys"]),
         "allowed": _allowed(usage["live_keys_allowed"])},
        {"row_id": "usage-regions", "limit": "Regions of running bots",
         "used": ", ".join(usage["regions"]) or "none",
         "allowed": _allowed(usage["regions_allowed"])},
    ]


def plan_cards(plans: list[dict[str, Any]], current: str) -> list[dict[str, str]]:
    return [{
        "key": p["key"], "name": p["name"],
        "price": "free" if not p["monthly_cents"] else f"{_cents(p['monthly_cents'])} / month",
        "limits": f"{p['max_bots']} running bot{'s' if p['max_bots'] != 1 else ''}, "
                  f"{'live and testnet' if p['live_keys'] else 'local and testnet'} keys, "
                  f"{'every region' if p['regions'] is None else ', '.join(p['regions'])}",
        "current": "yes" if p["key"] == current else "",
    } for p in plans]


class BillingState(LiveTask, LivePage):
    enabled: bool = True
    plan_name: str = ""
    plan_key: str = "free"
    status: str = ""
    period_end: str = ""
    next_invoice: str = ""
    card_on_file: str = ""
    in_grace: bool = False
    grace_until: str = ""
    usage: list[dict[str, str]] = []
    plans: list[dict[str, str]] = []
    paused: list[dict[str, str]] = []
    invoices: list[dict[str, str]] = []
    invoice_error: str = ""
    events: list[dict[str, str]] = []
    choosing: str = ""  # the plan the card form is open for
    card_error: str = ""
    done: str = ""  # what the last change did
    paying: bool = False
    _plans: list[dict[str, Any]] = []
    _client_secret: str = ""

    def _feed(self) -> live.Feed:
        return live.Feed({"status": ("billing:status", {}), "plans": ("billing:plans", {})},
                         polls={"invoices": ("billing:invoices", {}, INVOICES_EVERY_S)})

    def _take(self, values: dict[str, Any]) -> bool:
        if "plans" in values:
            self._plans = values["plans"]
        if "status" in values:
            s = values["status"]
            self.enabled = s["enabled"]
            self.status = "no subscription" if s["status"] == "none" else s["status"]
            self.plan_key, self.plan_name = s["plan"]["key"], s["plan"]["name"]
            self.period_end = fmt.utc(s["period_end"]) if s["period_end"] else ""
            nxt = s["next_invoice"]
            self.next_invoice = (f"{_cents(nxt['amount_cents'], nxt['currency'])} on "
                                 f"{fmt.utc(nxt['at'])}") if nxt else ""
            self.card_on_file = s["payment_method"] or ""
            self.in_grace = bool(s["in_grace"])
            self.grace_until = fmt.utc(s["grace_until"]) if s["grace_until"] else ""
            self.usage = usage_rows(s["usage"])
            self.paused = [{"row_id": f"paused-{p['bot_id']}", "bot": p["name"],
                            "reason": p["reason"], "since": fmt.utc(p["paused_at"])}
                           for p in s["paused_for_plan"]]
            self.events = [{"row_id": f"billing-event-{e['id']}", "at": fmt.utc(e["at"]),
                            "message": e["message"]} for e in s["events"]]
        self.plans = plan_cards(self._plans, self.plan_key)
        if "invoices" in values:
            self._set_invoices(values["invoices"])
        return False

    def _set_invoices(self, invoices: list[dict[str, Any]]) -> None:
        self.invoice_error = ""
        self.invoices = [{"row_id": f"invoice-{i['id']}",
                          "created": fmt.utc(i["created"]) if i["created"] else "",
                          "amount": _cents(i["amount_due"], i["currency"] or "usd"),
                          "status": i["status"] or ""} for i in invoices]

    def _failed(self, name: str, message: str) -> bool:
        if name == "invoices":
            self.invoice_error = message
            return True
        return False

    async def _change(self, plan: str, payment_method_id: str | None = None) -> None:
        args = {"plan": plan, **({"payment_method_id": payment_method_id}
                                 if payment_method_id else {})}
        try:
            answer = await self._run("action", "billing:changePlan", args)
        except api.DashboardError as exc:
            self.card_error = exc.message  # a declined payment: the plan stays as it was
            return
        self.choosing, self.card_error, self._client_secret = "", "", ""
        self.done = f"You are on the {answer['plan']['name']} plan."
        try:  # the change's invoice now, not at the next poll
            self._set_invoices(await self._run("action", "billing:invoices"))
        except api.DashboardError as exc:
            self.invoice_error = exc.message

    @rx.event
    async def choose(self, plan: str):
        """Open the card form for a paid plan (a SetupIntent for it)."""
        self.done, self.card_error = "", ""
        try:
            intent = await self._run("action", "billing:setupIntent")
        except api.DashboardError as exc:
            self.card_error = exc.message
            return None
        self.choosing, self._client_secret = plan, intent["client_secret"]
        return rx.call_script(f"{CARD_JS}; window.plutarcBilling.mount("
                              f"{json.dumps(intent['js_url'])}, "
                              f"{json.dumps(intent['publishable_key'])})")

    @rx.event
    def pay(self):
        """Confirm the card in the browser (Stripe.js), then change plan with it."""
        self.paying, self.card_error = True, ""
        return rx.call_script(
            f"window.plutarcBilling.confirm({json.dumps(self._client_secret)})",
            callback=BillingState.card_confirmed)

    @rx.event
    async def card_confirmed(self, result: dict[str, Any]):
        if result.get("error"):
            self.card_error, self.paying = str(result["error"]), False
            return
        if self.choosing == RETRY:
            await self._retry(result["payment_method"])
        else:
            await self._change(self.choosing, result["payment_method"])
        self.paying = False

    async def _retry(self, payment_method_id: str) -> None:
        """Pay the open invoices again with the card just confirmed (during a grace period)."""
        try:
            await self._run("action", "billing:retryPayment",
                            {"payment_method_id": payment_method_id})
        except api.DashboardError as exc:
            self.card_error = exc.message
            return
        self.choosing, self.card_error, self._client_secret = "", "", ""
        self.done = "Paid: your card is updated."
        try:
            self._set_invoices(await self._run("action", "billing:invoices"))
        except api.DashboardError as exc:
            self.invoice_error = exc.message

    @rx.event
    async def switch(self, plan: str):
        """A plan change with the card on file (or to Free: cancels the subscription)."""
        self.paying, self.done, self.card_error = True, "", ""
        yield
        await self._change(plan)
        self.paying = False

    @rx.event
    def cancel_form(self):
        self.choosing, self.card_error = "", ""


def _plan_card(plan: rx.Var) -> rx.Component:
    s = BillingState
    action = rx.cond(
        plan["current"] == "yes",
        rx.badge("Your plan", color_scheme="green"),
        rx.cond(
            plan["key"] == "free",
            rx.button("Downgrade to Free", on_click=s.switch("free"), variant="soft",
                      color_scheme="red", disabled=s.paying, id="plan-free"),
            rx.cond(
                s.card_on_file != "",
                rx.hstack(rx.button("Switch with " + s.card_on_file,
                                    on_click=s.switch(plan["key"]), disabled=s.paying,
                                    id="switch-" + plan["key"]),
                          rx.button("Use another card", variant="soft",
                                    on_click=s.choose(plan["key"]), id="card-" + plan["key"])),
                rx.button("Upgrade with a card", on_click=s.choose(plan["key"]),
                          id="upgrade-" + plan["key"]),
            ),
        ),
    )
    return rx.card(rx.vstack(rx.heading(plan["name"], size="4"), rx.text(plan["price"]),
                             rx.text(plan["limits"], size="2", color_scheme="gray"), action,
                             spacing="2"), id="plan-" + plan["key"] + "-card", width="100%")


def _card_form() -> rx.Component:
    s = BillingState
    return layout.section(
        "Card",
        rx.cond(s.choosing == RETRY,
                rx.text("Enter a card to pay the open invoice; it becomes your card on file."),
                rx.text("Enter a card for the ", rx.text.strong(s.choosing), " plan.")),
        rx.box(id="card-element", width="100%", padding="0.5em",
               border="1px solid var(--gray-a6)", border_radius="6px"),
        rx.cond(s.card_error != "", rx.callout(s.card_error, icon="triangle_alert",
                                               color_scheme="red", id="card-error")),
        rx.hstack(rx.button(rx.cond(s.choosing == RETRY, "Pay", "Pay and change plan"),
                            on_click=s.pay, loading=s.paying, id="pay"),
                  rx.button("Cancel", variant="soft", on_click=s.cancel_form, id="cancel-card")),
        id="card-form",
    )


def page() -> rx.Component:
    s = BillingState
    return layout.page(
        "Billing",
        rx.cond(
            ~s.enabled,
            layout.section("Billing is off", layout.empty(
                "This plutarc has no Stripe keys: no plan applies and nothing is limited."),
                id="billing-off"),
            rx.vstack(
                rx.cond(s.in_grace, rx.callout.root(
                    rx.callout.icon(rx.icon("triangle_alert")),
                    rx.callout.text(
                        "A payment failed. Your " + s.plan_name + " plan stays in force until "
                        + s.grace_until + "; then the bots over the Free plan's limits are "
                        "paused (they keep managing their exits)."),
                    rx.button("Pay with another card", on_click=s.choose(RETRY), size="1",
                              color_scheme="orange", id="grace-pay", width="fit-content"),
                    color_scheme="orange", role="alert", id="grace-banner", width="100%")),
                rx.cond(s.done != "", rx.callout(s.done, icon="check",
                                                  color_scheme="green", id="billing-notice")),
                rx.cond((s.card_error != "") & (s.choosing == ""),  # a switch without the form
                        rx.callout(s.card_error, icon="triangle_alert", color_scheme="red",
                                   role="alert", id="billing-error", width="100%")),
                layout.section(
                    "Your plan",
                    rx.hstack(rx.heading(s.plan_name, size="5", id="plan-name"),
                              rx.badge(s.status, id="plan-status"), align="center"),
                    rx.cond(s.period_end != "", rx.text("Current period ends " + s.period_end)),
                    rx.cond(s.next_invoice != "",
                            rx.text("Next invoice: " + s.next_invoice, id="next-invoice")),
                    rx.cond(s.card_on_file != "",
                            rx.text("Card on file: " + s.card_on_file, id="card-on-file")),
                    tables.table(USAGE_COLUMNS, s.usage, "usage-table", row_class="usage-row"),
                ),
                rx.cond(s.choosing != "", _card_form()),
                rx.grid(rx.foreach(s.plans, _plan_card), columns="3", spacing="3",
                        width="100%"),
                layout.listing("Bots paused for the plan", s.paused,
                               tables.table(PAUSED_COLUMNS, s.paused, "paused-table",
                                            row_class="paused-row"),
                               "No bot is paused for the plan."),
                layout.section("Invoices", rx.cond(
                    s.invoice_error != "",
                    rx.callout(s.invoice_error, icon="triangle_alert", color_scheme="red"),
                    rx.cond(s.invoices.length() > 0,
                            tables.table(INVOICE_COLUMNS, s.invoices, "invoices-table",
                                         row_class="invoice-row"),
                            layout.empty("No invoice yet.")))),
                layout.listing("Billing events", s.events,
                               tables.table(EVENT_COLUMNS, s.events, "billing-events",
                                            row_class="billing-event-row", wrap=("message",)),
                               "Nothing happened yet."),
                spacing="5", width="100%",
            ),
        ),
        loading=s.loading, error=s.error,
    )


ROUTE = "/billing"
TITLE = "Billing"
ON_LOAD = [BillingState.watch, AuthState.check_session]
