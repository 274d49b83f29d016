"""The strategies page's backtest panel: backtest the template in the editor over the local
exchange's candle history (`market:history`) or an uploaded CSV (bounded in size), as a job
with live progress and cancel (frontend/backtest_job.py: a child process, followed by this
tab's background event); the result shows the bot page's components — KPI cards, equity with
drawdown, candles with entry/exit markers, the trades table."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import reflex as rx

from frontend import api, backtest_job, rows
from frontend.components import chart, kpis, layout, tables
from frontend.pages.bot_detail import TRADE_COLUMNS
from frontend.state.auth import AuthState
from strategy.indicators import Candles
from strategy.template import TIMEFRAMES

log = logging.getLogger(__name__)
SHOWN_CANDLES = 500  # the chart shows the last candles of the run, with their trades
SHOWN_TRADES = 50
# tab -> (file name, Candles), never in the state (it would travel to the browser).
# Invariant: at most MAX_UPLOADS entries, the oldest dropped first (a closed tab's upload is
# not announced, so this bound is what frees it).
_uploads: dict[str, tuple[str, Candles]] = {}
MAX_UPLOADS = 16


class BacktestState(AuthState):
    source: str = "exchange"  # "exchange" (the local exchange's history) or "csv"
    upload_name: str = ""
    upload_error: str = ""
    running: bool = False
    progress: int = 0
    bt_error: str = ""
    summary: str = ""
    kpi_rows: list[dict[str, str]] = []
    equity: list[dict[str, float]] = []
    drawdown: list[dict[str, float]] = []
    candles: list[dict[str, float]] = []
    markers: list[dict[str, Any]] = []
    trade_rows: list[dict[str, str]] = []

    @rx.event
    def pick_source(self, source: str):
        self.source = source

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        self.upload_error, self.upload_name = "", ""
        if not files:
            self.upload_error = "Choose a CSV file first."
            return
        name = files[0].name or "upload.csv"
        data = await files[0].read(backtest_job.MAX_CSV_BYTES + 1)
        try:
            candles = backtest_job.csv_candles(data, name)
        except backtest_job.BacktestError as exc:
            self.upload_error = str(exc)
            return
        _uploads.pop(self._tab(), None)
        _uploads[self._tab()] = (name, candles)
        while len(_uploads) > MAX_UPLOADS:
            del _uploads[next(iter(_uploads))]
        self.upload_name = f"{name}: {len(candles.close):,} candles"
        self.source = "csv"

    @rx.event
    def cancel(self):
        backtest_job.cancel(self._tab())

    @rx.event(background=True)
    async def run(self):
        from frontend.pages.strategies import StrategiesState  # the page that holds the editor

        async with self:
            editor = await self.get_state(StrategiesState)
            template, tab, source = dict(editor._template), self._tab(), self.source
            token, ip = self.token, self._client_ip()
            self.running, self.progress, self.bt_error, self.summary = True, 0, "", ""
        job: backtest_job.Job | None = None
        try:
            candles = await _candles(source, template, tab, token, ip)
            job = backtest_job.start(tab)
            task = asyncio.create_task(job.run(template, candles))
            while not task.done():
                await asyncio.wait({task}, timeout=0.2)
                async with self:
                    self.progress = int(job.progress * 100)
            result = task.result()
        except backtest_job.Cancelled:
            async with self:
                self.running, self.bt_error = False, "Backtest cancelled."
            return
        except (backtest_job.BacktestError, api.DashboardError) as exc:
            async with self:
                self.running, self.bt_error = False, str(getattr(exc, "message", exc))
            return
        except Exception:
            log.exception("backtest failed")
            async with self:
                self.running = False
                self.bt_error = "The backtest failed; the details are in the dashboard's log."
            return
        finally:
            if job is not None:
                backtest_job.finish(tab, job)
        async with self:
            self._show(result, template, candles)

    def _show(self, result: dict[str, Any], template: dict[str, Any], candles: Any) -> None:
        shown = backtest_job.view(result, template["symbol"])
        self.running, self.progress = False, 100
        self.summary = (f"{result['candles']:,} candles, {len(shown['trades']):,} trades "
                        f"({template['symbol']} {template['timeframe']})")
        self.kpi_rows = kpis.kpi_rows(shown["kpis"])
        self.equity, self.drawdown = rows.equity_series(shown["equity"])
        last = [{"time": int(t) // 1000, "open": o, "high": h, "low": lo, "close": c}
                for t, o, h, lo, c in zip(*(col[-SHOWN_CANDLES:] for col in (
                    candles.open_time_ms, candles.open, candles.high, candles.low,
                    candles.close)), strict=True)]
        self.candles = rows.candles(last)
        step_s = TIMEFRAMES[template["timeframe"]] // 1000
        self.markers = rows.trade_markers(shown["trades"], last[0]["time"] if last else None,
                                          step_s)
        self.trade_rows = rows.trades(shown["trades"][-SHOWN_TRADES:][::-1])


async def _candles(source: str, template: dict[str, Any], tab: str, token: str, ip: str
                   ) -> Candles:
    if source == "csv":
        if tab not in _uploads:
            raise backtest_job.BacktestError("Upload a CSV first, or backtest on the exchange's "
                                             "history.")
        return _uploads[tab][1]
    got = await api.call("action", "market:history",
                         {"exchange": "local", "symbol": template.get("symbol", ""),
                          "timeframe": template.get("timeframe", ""), "limit": 1000}, token, ip)
    closed = got["candles"][:-1]  # the newest candle is still forming
    if len(closed) < 2:
        raise backtest_job.BacktestError("The local exchange has no history for "
                                         f"{template.get('symbol')} yet.")
    return backtest_job.history_candles(closed)


def panel() -> rx.Component:
    s = BacktestState
    return layout.section(
        "Backtest",
        rx.hstack(
            rx.radio(["exchange", "csv"], value=s.source, on_change=s.pick_source,
                     direction="row", id="bt-source"),
            rx.text("exchange = the local exchange's history (up to 1,000 candles); csv = "
                    "open_time_ms,open,high,low,close,volume, at most "
                    f"{backtest_job.MAX_CSV_BYTES // 2**20} MB", size="1", color_scheme="gray"),
            align="center", spacing="3"),
        rx.hstack(
            rx.upload(rx.text("Drop a CSV here or click to choose", size="1"), id="bt-csv",
                      max_files=1, border="1px dashed var(--gray-a7)", padding="0.5em"),
            rx.button("Use this CSV", size="1", variant="soft", id="bt-upload",
                      on_click=s.upload(rx.upload_files(upload_id="bt-csv"))),
            rx.text(s.upload_name, size="1", id="bt-upload-name"),
            align="center", spacing="3"),
        rx.cond(s.upload_error != "", rx.text(s.upload_error, color_scheme="red", size="1",
                                              id="bt-upload-error")),
        rx.hstack(
            rx.button("Run backtest", on_click=s.run, loading=s.running, id="bt-run"),
            rx.cond(s.running, rx.button("Cancel", on_click=s.cancel, color_scheme="red",
                                         variant="soft", id="bt-cancel")),
            rx.cond(s.running, rx.progress(value=s.progress, max=100, width="12em",
                                           id="bt-progress")),
            rx.cond(s.running, rx.text(s.progress.to(str) + " %", size="1")),
            align="center", spacing="3"),
        rx.cond(s.bt_error != "", rx.text(s.bt_error, color_scheme="red", size="2",
                                          id="bt-error")),
        rx.cond(s.summary != "", rx.vstack(
            rx.text(s.summary, weight="bold", id="bt-summary"),
            kpis.cards(s.kpi_rows),
            chart.equity(s.equity, s.drawdown, "bt-equity"),
            chart.candles(s.candles, s.markers, "bt-candles"),
            tables.table(TRADE_COLUMNS, s.trade_rows, "bt-trades", toned=("pnl",)),
            spacing="3", width="100%")),
        id="backtest",
    )
