"""/alerts: the trader's notifications (errors, reconciliation differences, lost
connections, entries blocked by a guard), newest first, live (alerts:list); mark one or all
read (alerts:markRead). The header's bell shows the unread count on every live page."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import api, fmt, live, rows
from frontend.components import layout
from frontend.state.auth import AuthState
from frontend.state.live_page import LivePage, LiveTask

LEVEL_TONE = {"error": "red", "warning": "amber", "info": "gray"}


def alert_rows(items: list[dict[str, Any]], names: dict[int, str]) -> list[dict[str, str]]:
    return [{
        "row_id": f"alert-{a['id']}", "id": str(a["id"]), "at": fmt.utc(a["created_at"]),
        "bot": names.get(a["bot_id"], f"bot {a['bot_id']}") if a["bot_id"] else fmt.MISSING,
        "kind": a["kind"], "level": a["level"], "level_tone": LEVEL_TONE.get(a["level"], "gray"),
        "message": a["message"], "unread": "" if a["read_at"] else "unread",
    } for a in items]


class AlertsState(LiveTask, LivePage):
    alert_rows: list[dict[str, str]] = []
    notice: str = ""
    _raw: dict[str, Any] = {}

    def _feed(self) -> live.Feed:
        return live.Feed({"alerts": ("alerts:list", {"limit": 100}), "bots": ("bots:list", {})})

    def _take(self, values: dict[str, Any]) -> bool:
        self._raw = {**self._raw, **values}
        if "alerts" in self._raw:
            self.alert_rows = alert_rows(self._raw["alerts"],
                                         rows.bot_names(self._raw.get("bots", [])))
        return False

    @rx.event
    async def mark_read(self, alert_id: str):
        await self._mark([int(alert_id)])

    @rx.event
    async def mark_all(self):
        await self._mark(None)

    async def _mark(self, ids: list[int] | None) -> None:
        try:
            done = await self._run("mutation", "alerts:markRead",
                                   {"ids": ids} if ids is not None else {})
            self.notice = f"{done['updated']} marked read"
        except api.DashboardError as exc:
            self.notice = exc.message


def _row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r["at"], white_space="nowrap"),
        rx.table.cell(r["bot"]),
        rx.table.cell(rx.hstack(rx.badge(r["level"], color_scheme=r["level_tone"]),
                                rx.text(r["kind"]), spacing="2")),
        rx.table.cell(r["message"]),
        rx.table.cell(rx.cond(r["unread"] != "", rx.button(
            "Mark read", size="1", variant="soft", on_click=AlertsState.mark_read(r["id"]),
            id="read-" + r["row_id"].to(str)), rx.text("read", size="1", color_scheme="gray"))),
        id=r["row_id"], class_name="alert-row " + r["unread"].to(str),
        font_weight=rx.cond(r["unread"] != "", "bold", "normal"),
    )


def page() -> rx.Component:
    s = AlertsState
    return layout.page(
        "Alerts",
        rx.hstack(rx.button("Mark all read", on_click=AlertsState.mark_all, size="2",
                            variant="soft", id="alerts-mark-all",
                            disabled=LivePage.unread_alerts == 0),
                  rx.text(s.notice, size="1", color_scheme="gray", id="alerts-notice"),
                  align="center", spacing="3"),
        layout.listing("Notifications (newest first)", s.alert_rows, rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Time", "Bot", "Kind", "Message", "")])),
            rx.table.body(rx.foreach(s.alert_rows, _row)),
            size="1", variant="surface", width="100%", id="alerts-table"),
            "No alert: errors, reconciliation differences, lost connections and blocked "
            "entries appear here."),
        loading=s.loading, error=s.error,
    )


ROUTE = "/alerts"
TITLE = "Alerts"
ON_LOAD = [AlertsState.watch, AuthState.check_session]  # the live task starts first
