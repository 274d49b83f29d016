"""/bots/[bot_id]: one bot — KPIs, equity with drawdown, candles of its symbol and timeframe
with its trades' entry/exit markers, open position, trades (paged, the signal state at entry
on expand), the latest signal state per component, events and deployment history. Live,
but for the candles, which are polled (market:candles)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import reflex as rx

from frontend import api, fmt, insights_view, live, rows
from frontend.components import chart, insights, kpis, layout, tables
from frontend.state.analytics import AnalyticsVars
from frontend.state.auth import AuthState
from frontend.state.live_page import LivePage, LiveTask
from strategy.template import TIMEFRAMES

PAGE_SIZE = 20
CANDLES_EVERY_S = 3.0
TRADE_COLUMNS = [("entry_at", "Entry"), ("exit_at", "Exit"), ("side", "Side"),
                 ("quantity", "Qty"), ("entry_price", "Entry price"),
                 ("exit_price", "Exit price"), ("fees", "Fees"), ("pnl", "PnL"),
                 ("hold", "Held"), ("exit_reason", "Exit reason"), ("mfe", "MFE"),
                 ("mae", "MAE")]
POSITION_COLUMNS = [("symbol", "Symbol"), ("side", "Side"), ("size", "Size"),
                    ("entry_price", "Entry price"), ("unrealised_pnl", "Unrealised PnL"),
                    ("leverage", "Leverage")]
EVENT_COLUMNS = [("at", "Time"), ("kind", "Event"), ("message", "Details")]
DEPLOYMENT_COLUMNS = [("region", "Region"), ("provider", "Provider"), ("started", "Started"),
                      ("ended", "Ended"), ("outcome", "Outcome")]
SIGNAL_COLUMNS = [("component", "Component"), ("score", "Score"), ("weight", "Weight"),
                  ("values", "Values")]


class BotState(LiveTask, AnalyticsVars, LivePage):
    name: str = ""
    subtitle: str = ""
    lifecycle: str = ""
    kpi_rows: list[dict[str, str]] = []
    equity: list[dict[str, float]] = []
    drawdown: list[dict[str, float]] = []
    candles: list[dict[str, float]] = []
    markers: list[dict[str, Any]] = []
    candles_error: str = ""
    position_rows: list[dict[str, str]] = []
    trade_rows: list[dict[str, str]] = []
    trade_total: int = 0
    trade_page: int = 1
    has_older: bool = False
    expanded: str = ""
    signal_rows: list[dict[str, str]] = []
    signal_at: str = ""
    event_rows: list[dict[str, str]] = []
    deployment_rows: list[dict[str, str]] = []
    decision_rows: list[dict[str, str]] = []
    decision_selected: str = ""
    reconciling: str = ""  # "" or the reconciling line (insights_view.reconciling_line)
    drift_summary: str = ""
    drift_rows: list[dict[str, str]] = []
    drift_running: bool = False
    drift_error: str = ""
    drift_window: list[str] = ["", ""]  # the report's [start, end)
    _window: tuple[str, str] | None = None  # the decision journal's [start, end)
    _trades: list[dict[str, Any]] = []  # backend-only (underscore) vars
    _candles: dict[str, Any] = {}
    _symbol: str = ""
    _journal_from: int = 0  # the first journaled candle shown, seconds (drift starts there)
    # where each page shown so far starts (None: the newest); the last is the page shown
    _page_starts: list[str | None] = [None]
    _next_start: str | None = None  # where the page after the one shown starts

    def _bot_id(self) -> int:
        last = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]  # /bots/<bot_id>
        return int(last) if last.isdigit() else 0

    def _feed(self) -> live.Feed:
        bot = {"bot_id": self._bot_id()}
        return live.Feed(
            queries={
                "bot": ("bots:get", bot), "kpis": ("bots:kpis", bot),
                "equity": ("bots:equity", bot), "positions": ("bots:positions", bot),
                "trades": ("bots:trades", {**bot, "limit": PAGE_SIZE,
                                           **({"cursor": c} if (c := self._page_starts[-1])
                                              else {})}),
                "events": ("bots:events", {**bot, "limit": 30}),
                "reconciliation": ("insights:reconciliation", bot),
                "analytics": ("insights:analytics", bot),
                **({"decisions": ("insights:decisions", {**bot, "start": self._window[0],
                                                         "end": self._window[1]})}
                   if self._window else {}),
            },
            polls={"candles": ("market:candles", {**bot, "limit": 200}, CANDLES_EVERY_S)},
        )

    def _failed(self, name: str, message: str) -> bool:
        if name == "candles":
            self.candles_error = message
            return True
        return False

    def _take(self, values: dict[str, Any]) -> bool:
        if "bot" in values:
            self._take_bot(values["bot"])
        if "kpis" in values:
            self.kpi_rows = kpis.kpi_rows(values["kpis"])
        if "equity" in values:
            self.equity, self.drawdown = rows.equity_series(values["equity"])
        if "positions" in values:
            self.position_rows = rows.positions(values["positions"], {})
        if "trades" in values:
            self._trades = values["trades"]["items"]
            self.trade_total = values["trades"]["total"]
            self._next_start = values["trades"]["continue_cursor"]
            self.has_older = not values["trades"]["is_done"]
            self.trade_rows = rows.trades(self._trades)
        if "events" in values:
            self.event_rows = rows.events(values["events"]["items"], {})
        if "candles" in values:
            self._candles, self.candles_error = values["candles"], ""
            self.candles = rows.candles(self._candles["candles"])
        if "candles" in values or "trades" in values:
            self._mark()
        if "reconciliation" in values:
            self.reconciling = insights_view.reconciling_line(values["reconciliation"])
        if "analytics" in values:
            self._show_analytics(values["analytics"], fmt.quote_currency(self._symbol))
        if "decisions" in values:
            self.decision_rows = insights_view.decision_rows(values["decisions"])
            self._journal_from = min((fmt.epoch_s(d["candle_at"]) for d in values["decisions"]),
                                     default=0)
        return self._follow_decisions()

    def _follow_decisions(self) -> bool:
        """The journal follows the market's clock (the candles'), not the wall's: once
        candles are known, follow the decisions from the first shown candle on (for up to
        6 days), and again when the candles have moved past the window's start by half."""
        candles = self._candles.get("candles") or []
        if not candles:
            return False
        first, last = candles[0]["time"], candles[-1]["time"]
        if self._window is not None and fmt.epoch_s(self._window[0]) >= first - (last - first):
            return False
        start = datetime.fromtimestamp(first, UTC)
        self._window = (start.isoformat(), (start + timedelta(days=6)).isoformat())
        return True

    @rx.var
    def decision_detail(self) -> str:
        if not self.decision_selected:
            return self.decision_rows[0]["detail"] if self.decision_rows else ""
        return next((r["detail"] for r in self.decision_rows
                     if r["key"] == self.decision_selected),
                    insights_view.no_decision(self.decision_selected))

    @rx.event(background=True)
    async def run_drift(self):
        """drift:report over the candles shown but the newest (still forming)."""
        async with self:
            candles = self._candles.get("candles") or []
            if len(candles) < 2 or self.drift_running:
                self.drift_error = "" if candles else "No candles yet."
                return
            self.drift_running, self.drift_error = True, ""
            first = max(candles[0]["time"], self._journal_from)  # the bot ran from there
            first -= first % (candles[1]["time"] - candles[0]["time"])
            args = {"bot_id": self._bot_id(),
                    "start": datetime.fromtimestamp(first, UTC).isoformat(),
                    "end": datetime.fromtimestamp(candles[-1]["time"], UTC).isoformat()}
            token, ip, currency = self.token, self._client_ip(), fmt.quote_currency(self._symbol)
        try:
            report = await api.call("action", "drift:report", args, token, ip)
            view, error = insights_view.drift_view(report, currency), ""
        except api.DashboardError as exc:
            view, error = None, exc.message
        async with self:
            self.drift_running, self.drift_error = False, error
            if view is not None:
                self.drift_summary, self.drift_rows = view["summary"], view["rows"]
                self.drift_window = [args["start"], args["end"]]

    @rx.event
    def select_decision(self, key: str):
        self.decision_selected = key

    @rx.event
    def pick_candle(self, time_s: int):
        """A candle hovered or clicked on the chart: its decision, if journaled."""
        self.decision_selected = str(time_s)

    def _take_bot(self, bot: dict[str, Any]) -> None:
        self.name, self.lifecycle, self._symbol = bot["name"], bot["lifecycle"], bot["symbol"]
        conn = bot["connection"]
        self.subtitle = (f"{bot['symbol']} · {bot['lifecycle']} · connection {conn['status']}"
                         f" · {bot['provider']}/{bot['region']}")
        self.deployment_rows = [{
            "row_id": f"deployment-{d['id']}", "region": d["region"], "provider": d["provider"],
            "started": fmt.utc(d["started_at"]), "ended": fmt.utc(d["ended_at"]),
            "outcome": d["outcome"] or ("running" if d["ended_at"] is None else fmt.MISSING),
        } for d in bot["deployments"]]
        latest = bot.get("latest_signal_state") or {}
        state = latest.get("state") or {}
        self.signal_at = fmt.utc(latest.get("candle_at")) if latest else ""
        self.signal_rows = [{
            "row_id": f"signal-{i}", "component": s.get("type", "?"),
            "score": fmt.number(s.get("score"), 2, signed=True),
            "weight": fmt.number(s.get("weight"), 2),
            "values": ", ".join(f"{k} {fmt.number(v, 2)}" for k, v in (s.get("values") or {}).items()),
        } for i, s in enumerate(state.get("signals", []))] + [{
            "row_id": f"filter-{i}", "component": f"filter {f.get('type', '?')}",
            "score": "pass" if f.get("passed", f.get("ok")) else "block", "weight": "",
            "values": json.dumps({k: v for k, v in f.items() if k != "type"}),
        } for i, f in enumerate(state.get("filters", []))]

    def _mark(self) -> None:
        candles = self._candles.get("candles") or []
        step = TIMEFRAMES.get(self._candles.get("timeframe", "1m"), 60_000) // 1000
        self.markers = rows.trade_markers(self._trades, candles[0]["time"] if candles else None,
                                          step)

    @rx.event
    def toggle(self, trade_id: str):
        self.expanded = "" if self.expanded == trade_id else trade_id

    @rx.event
    def open_bot(self):
        """on_load: nothing of the bot shown before stays, and trades start at the newest."""
        self._page_starts, self._next_start, self._trades, self._candles = [None], None, [], {}
        self.trade_page, self.has_older, self.expanded, self.candles_error = 1, False, "", ""
        self.name = self.subtitle = self.signal_at = ""
        self.kpi_rows, self.equity, self.drawdown, self.candles, self.markers = [], [], [], [], []
        self.position_rows, self.trade_rows, self.event_rows = [], [], []
        self.deployment_rows, self.signal_rows = [], []
        self.decision_rows, self.decision_selected, self.reconciling = [], "", ""
        self._window, self.an_trades, self._journal_from = None, "0", 0
        self.drift_summary, self.drift_rows, self.drift_error = "", [], ""

    @rx.event
    def older(self):
        if self.has_older and self._next_start:
            self._page_starts = [*self._page_starts, self._next_start]
            self.trade_page = len(self._page_starts)
            return BotState.watch
        return None

    @rx.event
    def newer(self):
        if len(self._page_starts) > 1:
            self._page_starts = self._page_starts[:-1]
            self.trade_page = len(self._page_starts)
            return BotState.watch
        return None


def _trade_row(row: rx.Var) -> rx.Component:
    cells = [rx.table.cell(rx.text(row[k], color_scheme=row["pnl_tone"]) if k == "pnl"
                           else row[k], white_space="nowrap") for k, _ in TRADE_COLUMNS]
    return rx.fragment(
        rx.table.row(*cells, on_click=BotState.toggle(row["id"]), cursor="pointer",
                     id=row["row_id"], class_name="trade-row"),
        rx.cond(BotState.expanded == row["id"], rx.table.row(rx.table.cell(
            rx.text("Signal state at entry", size="1", color_scheme="gray"),
            rx.code_block(row["signal_state"], language="json"),
            col_span=len(TRADE_COLUMNS)), id="signal-" + row["row_id"].to(str))),
    )


def _trades() -> rx.Component:
    s = BotState
    return layout.section(
        "Trades (click a trade for its signal state at entry)",
        rx.cond(
            s.trade_rows.length() > 0,
            rx.vstack(
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(label)
                                                   for _, label in TRADE_COLUMNS])),
                    rx.table.body(rx.foreach(s.trade_rows, _trade_row)),
                    size="1", variant="surface", width="100%", id="trades-table",
                ),
                rx.hstack(
                    rx.button("Newer", size="1", variant="soft", id="trades-newer",
                              disabled=s.trade_page == 1, on_click=BotState.newer),
                    rx.text("Page ", s.trade_page, f" · {PAGE_SIZE} per page · ",
                            s.trade_total, " trades", size="1", id="trades-total"),
                    rx.button("Older", size="1", variant="soft", id="trades-older",
                              disabled=~s.has_older, on_click=BotState.older),
                    align="center", spacing="3",
                ),
                width="100%", overflow_x="auto",
            ),
            layout.empty("No closed trade yet: they appear here the moment the bot reports one."),
        ),
    )


def page() -> rx.Component:
    s = BotState
    return layout.page(
        s.name,
        rx.hstack(rx.text(s.subtitle, color_scheme="gray", id="bot-subtitle"),
                  insights.reconciling_badge(s.reconciling), align="center"),
        kpis.cards(s.kpi_rows),
        rx.grid(
            layout.listing("Equity (drawdown below)", s.equity,
                           chart.equity(s.equity, s.drawdown, "bot-equity"),
                           "No equity reported yet."),
            layout.section("Market with this bot's trades", rx.cond(
                s.candles_error != "",
                rx.callout(s.candles_error, icon="triangle_alert", color_scheme="amber"),
                rx.cond(s.candles.length() > 0,
                        chart.candles(s.candles, s.markers, "bot-candles",
                                      on_candle=BotState.pick_candle),
                        rx.hstack(rx.spinner(), rx.text("Loading candles…"))))),
            columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%",
        ),
        insights.decision_timeline(s.decision_rows, s.decision_selected, s.decision_detail,
                                   BotState.select_decision),
        insights.analytics(insights.analytics_vars(s), "bot-analytics"),
        insights.drift(s.drift_summary, s.drift_rows, s.drift_running, s.drift_error,
                       s.drift_window, BotState.run_drift),
        layout.listing("Open position", s.position_rows,
                       tables.table(POSITION_COLUMNS, s.position_rows, "bot-positions",
                                    toned=("unrealised_pnl",)),
                       "No open position."),
        _trades(),
        rx.grid(
            layout.section("Latest signal state", rx.text(s.signal_at, size="1"), rx.cond(
                s.signal_rows.length() > 0,
                tables.table(SIGNAL_COLUMNS, s.signal_rows, "signal-table"),
                layout.empty("No signal evaluated yet."))),
            layout.listing("Deployments", s.deployment_rows,
                           tables.table(DEPLOYMENT_COLUMNS, s.deployment_rows,
                                        "deployments-table"),
                           "Never deployed."),
            columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%",
        ),
        layout.listing("Events", s.event_rows,
                       tables.table(EVENT_COLUMNS, s.event_rows, "bot-events",
                                    toned=("message",)),
                       "No event yet."),
        loading=s.loading, error=s.error,
    )


ROUTE = "/bots/[bot_id]"
TITLE = "Bot"
ON_LOAD = [BotState.open_bot, BotState.watch, AuthState.check_session]  # the live task starts first
