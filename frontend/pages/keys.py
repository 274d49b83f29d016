"""/keys: the trader's exchange API keys — add one (the secret goes to the backend once and is
never shown again: it is not kept in the page's state, so it is never sent back to the
browser), the list (label, exchange, testnet, last 4 characters of the key), "test
connection" (a signed read on the exchange, with warnings for withdraw permission or no IP
restriction) and remove (refused while a bot uses the key, naming the bot). Live."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import api, fmt, insights_view, live
from frontend.components import layout, tables
from frontend.state.auth import AuthState
from frontend.state.live_page import LivePage, LiveTask

EXCHANGES = ("local", "bybit")


class KeysState(LiveTask, LivePage):
    key_rows: list[dict[str, str]] = []
    form_error: str = ""
    added: str = ""
    # key id -> {ok, message, warnings (one line)}: the last "test connection" answer
    tests: dict[str, dict[str, str]] = {}
    remove_error: str = ""
    headroom_rows: list[dict[str, str]] = []

    def _feed(self) -> live.Feed:
        return live.Feed({"keys": ("apiKeys:list", {}),
                          "headroom": ("rateBudget:headroom", {})})

    def _take(self, values: dict[str, Any]) -> bool:
        if "headroom" in values:
            self.headroom_rows = insights_view.headroom_rows(values["headroom"])
        if "keys" not in values:
            return False
        self.key_rows = [{
            "row_id": f"key-{k['id']}", "id": str(k["id"]), "label": k["label"],
            "exchange": k["exchange"], "testnet": "testnet" if k["testnet"] else "mainnet",
            "last4": "…" + k["key_last4"], "created": fmt.utc(k["created_at"]),
        } for k in values["keys"]]
        return False

    @rx.event
    async def add(self, form: dict[str, Any]):
        """The form's values go to apiKeys:add and are dropped: none is kept in state."""
        self.form_error, self.added = "", ""
        args = {"exchange": form.get("exchange") or "local", "label": form.get("label", ""),
                "api_key": form.get("api_key", ""), "api_secret": form.get("api_secret", ""),
                "testnet": bool(form.get("testnet"))}
        try:
            key = await self._run("mutation", "apiKeys:add", args)
        except api.DashboardError as exc:
            if exc.expired:
                return self._end_session(exc.message)
            self.form_error = _field_message(exc.message)
            return None
        self.added = f"Key {key['label']!r} added (…{key['key_last4']}); its secret is stored " \
                     "encrypted and will not be shown again."
        return None

    @rx.event
    async def test(self, key_id: str):
        self.tests = {**self.tests, key_id: {"ok": "", "message": "Testing…", "warnings": ""}}
        yield
        try:
            answer = await self._run("action", "apiKeys:test", {"api_key_id": int(key_id)})
        except api.DashboardError as exc:
            if exc.expired:
                yield self._end_session(exc.message)
                return
            answer = {"ok": False, "message": exc.message, "warnings": []}
        self.tests = {**self.tests, key_id: {
            "ok": "yes" if answer["ok"] else "", "message": answer["message"],
            "warnings": " ".join(answer["warnings"])}}

    @rx.event
    async def remove(self, key_id: str):
        self.remove_error = ""
        try:
            await self._run("mutation", "apiKeys:remove", {"api_key_id": int(key_id)})
        except api.DashboardError as exc:
            if exc.expired:
                return self._end_session(exc.message)
            self.remove_error = exc.message
        return None


def _field_message(message: str) -> str:
    """The backend names the field (`api_key: ...`); say it with the form's words."""
    for field, words in (("api_secret", "Secret"), ("api_key", "API key"), ("label", "Label")):
        if message.startswith(field):
            return f"{words}: {message[len(field):].lstrip(': ')}"
    return message


def _add_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.select(list(EXCHANGES), name="exchange", default_value="local",
                      id="key-exchange"),
            rx.input(name="label", placeholder="Label", id="key-label", required=True),
            rx.input(name="api_key", placeholder="API key", id="key-id", required=True),
            rx.input(name="api_secret", placeholder="Secret", type="password",
                     id="key-secret", required=True, auto_complete="off"),
            rx.checkbox("testnet", name="testnet", id="key-testnet"),
            rx.button("Add key", type="submit", id="key-add"),
            spacing="3", align="center", wrap="wrap",
        ),
        on_submit=KeysState.add, reset_on_submit=True, id="key-form",
    )


def _test_result(row: rx.Var) -> rx.Component:
    result = KeysState.tests[row["id"]]
    return rx.cond(
        KeysState.tests.contains(row["id"]),
        rx.vstack(
            rx.text(result["message"], size="1",
                    color_scheme=rx.cond(result["ok"] != "", "green", "red"),
                    id="key-test-" + row["id"].to(str)),
            rx.cond(result["warnings"] != "",
                    rx.text(result["warnings"], size="1", color_scheme="amber",
                            id="key-warn-" + row["id"].to(str))),
            spacing="1",
        ),
    )


def _key_row(row: rx.Var) -> rx.Component:
    cell = rx.table.cell
    return rx.table.row(
        cell(rx.text(row["label"], weight="bold")), cell(row["exchange"]), cell(row["testnet"]),
        cell(rx.code(row["last4"]), white_space="nowrap"), cell(row["created"]),
        cell(rx.hstack(
            rx.button("Test connection", size="1", variant="soft",
                      id="key-testbtn-" + row["id"].to(str),
                      on_click=KeysState.test(row["id"])),
            rx.button("Remove", size="1", variant="soft", color_scheme="red",
                      id="key-remove-" + row["id"].to(str),
                      on_click=KeysState.remove(row["id"])),
            spacing="2"), _test_result(row)),
        id=row["row_id"], class_name="key-row",
    )


def page() -> rx.Component:
    s = KeysState
    return layout.page(
        "API keys",
        layout.section(
            "Add a key", _add_form(),
            rx.cond(s.form_error != "", rx.callout(s.form_error, icon="triangle_alert",
                                                   color_scheme="red", id="key-form-error")),
            rx.cond(s.added != "", rx.callout(s.added, icon="check", color_scheme="green",
                                              id="key-added")),
        ),
        rx.cond(s.remove_error != "", rx.callout(s.remove_error, icon="triangle_alert",
                                                 color_scheme="red", role="alert",
                                                 id="key-remove-error", width="100%")),
        layout.section("Your keys", rx.cond(
            s.key_rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Label", "Exchange", "Network", "Key", "Added", "")])),
                rx.table.body(rx.foreach(s.key_rows, _key_row)),
                variant="surface", size="2", width="100%", id="keys-table"),
            rx.cond(~s.loading, layout.empty(
                "No key yet: add your exchange API key above (the local exchange's demo "
                "key works for trying things out)."))),
        ),
        layout.listing(
            "Rate headroom per key (the account's limits, shared by its bots)",
            s.headroom_rows,
            tables.table(HEADROOM_COLUMNS, s.headroom_rows, "headroom-table",
                         row_class="headroom-row"),
            "No key yet."),
        loading=s.loading, error=s.error,
    )


HEADROOM_COLUMNS = [("key", "Key"), ("sharing", "Bots sharing"), ("path", "Endpoint"),
                    ("remaining", "Remaining / limit"), ("share", "Left"),
                    ("at", "Last seen")]
ROUTE = "/keys"
TITLE = "API keys"
ON_LOAD = [KeysState.watch, AuthState.check_session]  # the live task starts first
