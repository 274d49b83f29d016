"""/ (overview): KPI cards across all bots, the combined equity curve, open positions and the
activity feed — all live (dashboard:overview, bots:equity, bots:positions, bots:events)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import live, rows
from frontend.components import chart, insights, kpis, layout, tables
from frontend.state.analytics import AnalyticsVars
from frontend.state.auth import AuthState
from frontend.state.live_page import LivePage, LiveTask

POSITION_COLUMNS = [("bot", "Bot"), ("symbol", "Symbol"), ("side", "Side"), ("size", "Size"),
                    ("entry_price", "Entry price"), ("unrealised_pnl", "Unrealised PnL"),
                    ("leverage", "Leverage")]
EVENT_COLUMNS = [("at", "Time"), ("bot", "Bot"), ("kind", "Event"), ("message", "Details")]
FEED_SIZE = 30


class OverviewState(LiveTask, AnalyticsVars, LivePage):
    kpi_rows: list[dict[str, str]] = []
    bot_count: int = 0
    equity: list[dict[str, float]] = []
    drawdown: list[dict[str, float]] = []
    position_rows: list[dict[str, str]] = []
    event_rows: list[dict[str, str]] = []
    _names: dict[int, str] = {}  # backend-only (underscore) vars
    _raw: dict[str, Any] = {}

    def _feed(self) -> live.Feed:
        return live.Feed({
            "overview": ("dashboard:overview", {}), "bots": ("bots:list", {}),
            "equity": ("bots:equity", {}), "positions": ("bots:positions", {}),
            "events": ("bots:events", {"limit": FEED_SIZE}),
            "analytics": ("insights:analytics", {}),
        })

    def _take(self, values: dict[str, Any]) -> bool:
        self._raw = {**self._raw, **values}
        raw = self._raw
        if "bots" in raw:
            self._names = rows.bot_names(raw["bots"])
        if "overview" in values:
            self.kpi_rows = kpis.kpi_rows(values["overview"]["kpis"])
            self.bot_count = values["overview"]["bots"]["total"]
        if "equity" in values:
            self.equity, self.drawdown = rows.equity_series(values["equity"])
        if "positions" in raw:
            self.position_rows = rows.positions(raw["positions"], self._names)
        if "events" in raw:
            self.event_rows = rows.events(raw["events"]["items"], self._names)
        if "analytics" in values:
            self._show_analytics(values["analytics"])
        return False


def page() -> rx.Component:
    s = OverviewState
    return layout.page(
        "Overview",
        rx.cond(
            (s.bot_count == 0) & ~s.loading,
            layout.section("No bot yet", layout.empty(
                "No bot yet — create one from a strategy and an API key (bots:create), "
                "and its trades will show here live.",
                rx.link(rx.button("Go to bots"), href="/bots")), id="no-bots"),
        ),
        kpis.cards(s.kpi_rows),
        layout.listing("Equity, all bots (drawdown below)", s.equity,
                       chart.equity(s.equity, s.drawdown, "overview-equity"),
                       "No equity reported yet."),
        insights.analytics(insights.analytics_vars(s), "overview-analytics"),
        layout.listing("Open positions", s.position_rows,
                       tables.table(POSITION_COLUMNS, s.position_rows, "positions-table",
                                    toned=("unrealised_pnl",), row_class="position-row"),
                       "No open position."),
        layout.listing("Activity", s.event_rows,
                       tables.table(EVENT_COLUMNS, s.event_rows, "activity-feed",
                                    toned=("message",), row_class="event-row"),
                       "Nothing happened yet."),
        loading=s.loading, error=s.error,
    )


ROUTE = "/"
TITLE = "Overview"
ON_LOAD = [OverviewState.watch, AuthState.check_session]  # the live task starts first
