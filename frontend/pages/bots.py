"""/bots: every bot with lifecycle, connection, uptime, provider/region, strategy and net PnL,
live; pause / resume / stop (stop asks whether to close positions), with the result or the
lifecycle's refusal shown."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import api, live, rows
from frontend.components import layout
from frontend.state.auth import AuthState
from frontend.state.live_page import LivePage, LiveTask

ACTION_WORDS = {"run": "resumed", "pause": "paused", "stop": "asked to stop"}


class BotsState(LiveTask, LivePage):
    bot_rows: list[dict[str, str]] = []
    result: str = ""
    result_error: str = ""
    _bots: list[dict[str, Any]] = []  # backend-only (underscore) vars
    _pnl: dict[int, Any] = {}
    _strategies: dict[int, str] = {}
    _followed: tuple[int, ...] = ()

    def _feed(self) -> live.Feed:
        queries = {"bots": ("bots:list", {}), "strategies": ("strategies:list", {})}
        for bot_id in self._followed:
            queries[f"kpis:{bot_id}"] = ("bots:kpis", {"bot_id": bot_id})
        return live.Feed(queries)

    def _take(self, values: dict[str, Any]) -> bool:
        for name, value in values.items():
            if name.startswith("kpis:"):
                self._pnl[int(name[5:])] = value["net_pnl"]
        if "strategies" in values:
            self._strategies = {s["id"]: s["name"] for s in values["strategies"]}
        if "bots" in values:
            self._bots = values["bots"]
        self.bot_rows = [self._row(b) for b in self._bots]
        ids = tuple(b["id"] for b in self._bots)
        if ids != self._followed:
            self._followed = ids
            return True
        return False

    def _row(self, bot: dict[str, Any]) -> dict[str, str]:
        row = rows.bot_row(bot, self._pnl.get(bot["id"]))
        if bot.get("strategy_id") in self._strategies:
            row["strategy"] = (f"{self._strategies[bot['strategy_id']]} "
                               f"v{bot['strategy_version']}")
        return row

    @rx.event
    async def set_desired(self, bot_id: str, state: str, close_positions: bool = True):
        self.result, self.result_error = "", ""
        name = next((b["name"] for b in self._bots if str(b["id"]) == bot_id), f"bot {bot_id}")
        try:
            await self._run("mutation", "bots:setDesiredState",
                            {"bot_id": int(bot_id), "state": state,
                             "close_positions": close_positions})
        except api.DashboardError as exc:
            if exc.expired:
                return self._end_session(exc.message)
            self.result_error = exc.message
            return None
        extra = ""
        if state == "stop":
            extra = ", closing its positions" if close_positions else ", keeping its positions"
        self.result = f"{name} {ACTION_WORDS[state]}{extra}."
        return None


def _badge(text: rx.Var, colour: rx.Var, badge_id: rx.Var) -> rx.Component:
    return rx.badge(text, color_scheme=colour, variant="soft", id=badge_id)


def _stop_dialog(row: rx.Var) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Stop", size="1", color_scheme="red", variant="soft",
                                          id="stop-" + row["id"].to(str))),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Stop " + row["name"].to(str) + "?"),
            rx.alert_dialog.description(
                "Close its open positions at market, or leave them open on the exchange?"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(
                    "Stop, keep positions", variant="soft", id="stop-keep",
                    on_click=BotsState.set_desired(row["id"], "stop", False))),
                rx.alert_dialog.action(rx.button(
                    "Stop and close positions", color_scheme="red", id="stop-close",
                    on_click=BotsState.set_desired(row["id"], "stop", True))),
                spacing="3", justify="end", margin_top="1em",
            ),
        ),
    )


def _actions(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.cond(row["can_pause"] != "",
                rx.button("Pause", size="1", variant="soft", id="pause-" + row["id"].to(str),
                          on_click=BotsState.set_desired(row["id"], "pause", True))),
        rx.cond(row["can_resume"] != "",
                rx.button("Resume", size="1", variant="soft", color_scheme="green",
                          id="resume-" + row["id"].to(str),
                          on_click=BotsState.set_desired(row["id"], "run", True))),
        rx.cond(row["can_stop"] != "", _stop_dialog(row)),
        spacing="2",
    )


def _bot_row(row: rx.Var) -> rx.Component:
    cell = rx.table.cell
    return rx.table.row(
        cell(rx.link(row["name"], href="/bots/" + row["id"].to(str), weight="bold"),
             rx.cond(row["error"] != "", rx.text(row["error"], size="1", color_scheme="red"))),
        cell(row["symbol"]),
        cell(_badge(row["lifecycle"], row["lifecycle_colour"], "lifecycle-" + row["id"].to(str))),
        cell(_badge(row["connection"], row["connection_colour"],
                    "connection-" + row["id"].to(str))),
        cell(row["uptime"]), cell(row["where"]), cell(row["strategy"]),
        cell(rx.text(row["net_pnl"], color_scheme=row["net_pnl_tone"])),
        cell(_actions(row)),
        id=row["row_id"], class_name="bot-row",
    )


HEADERS = ("Bot", "Symbol", "Lifecycle", "Connection", "Uptime", "Provider/region", "Strategy",
           "Net PnL (closed trades)", "")


def page() -> rx.Component:
    s = BotsState
    return layout.page(
        "Bots",
        rx.cond(s.result != "", rx.callout(s.result, icon="check", color_scheme="green",
                                           id="action-result", width="100%")),
        rx.cond(s.result_error != "", rx.callout(s.result_error, icon="triangle_alert",
                                                 color_scheme="red", role="alert",
                                                 id="action-error", width="100%")),
        rx.cond(
            s.bot_rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in HEADERS])),
                rx.table.body(rx.foreach(s.bot_rows, _bot_row)),
                variant="surface", size="2", width="100%", id="bots-table",
            ),
            rx.cond(~s.loading, layout.section("No bot yet", layout.empty(
                "No bot yet — create one: save a strategy (strategies:create), add an exchange "
                "API key (apiKeys:add), then bots:create. It will appear here live."),
                id="no-bots")),
        ),
        loading=s.loading, error=s.error,
    )


ROUTE = "/bots"
TITLE = "Bots"
ON_LOAD = [BotsState.watch, AuthState.check_session]  # the live task starts first
