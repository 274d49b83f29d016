"""/operator: the reactivity profiler for operators — per query path the subscriptions, the
invalidations (per second, recent) and the tables or keys that caused them most, the re-runs
and their total and average time, rows and result size, timeouts — sorted by total re-run
time, and a summary of the cycles; every `REFRESH_S` seconds, summed over the API
processes (frontend/stats_view.py).

Not a trader's page: it needs no trader session, and no trader sees it unless they are an
operator — a browser on the machine running plutarc, or one whose user typed the operator
token (frontend/api.operator_stats; the API decides, backend/http/operator.py). The token
stays in this tab's server-side state (a backend var: never sent back to the browser) and is
forgotten when the tab reloads.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from frontend import api, live, stats_view
from frontend.components import kpis, layout, tables

REFRESH_S = 2.0
COLUMNS = [("path", "Query path"), ("subscribers", "Subscriptions"),
           ("invalidations_per_s", "Invalidations/s"), ("invalidations", "Invalidations"),
           ("reruns", "Re-runs"), ("rerun_total", "Re-run time (total)"),
           ("rerun_avg", "Re-run (avg)"), ("rows_avg", "Rows (avg)"),
           ("bytes_avg", "Result (avg)"), ("timeouts", "Timeouts"),
           ("errors", "Errors"), ("sources", "Invalidated most by")]


class OperatorState(rx.State):
    loading: bool = True
    error: str = ""
    refused: str = ""  # why this browser may not see the profiler ("" = it may)
    path_rows: list[dict[str, str]] = []
    summary_rows: list[dict[str, str]] = []
    updated: str = ""
    _token: str = ""  # the operator token typed in this tab; never sent to the browser
    _samples: dict[str, Any] = {}

    @rx.event(background=True)
    async def watch(self):
        async with self:
            tab, ip, token = (self.router.session.client_token, self.router.session.client_ip,
                              self._token or None)
            self.loading, self.error = True, ""

        async def step() -> None:
            try:
                answer: dict[str, Any] | api.DashboardError = await api.operator_stats(ip, token)
            except api.DashboardError as exc:
                answer = exc
            async with self:
                self._take(answer)

        await live.repeat(tab, step, REFRESH_S)

    def _take(self, answer: dict[str, Any] | api.DashboardError) -> None:
        self.loading = False
        if isinstance(answer, api.DashboardError):
            if answer.forbidden:
                self.refused, self.error = answer.message, ""
                self.path_rows, self.summary_rows, self._samples = [], [], {}
            else:  # the API is unreachable: the last figures stay, with the reason
                self.error = answer.message
            return
        self._samples = stats_view.remember(self._samples, answer, time.monotonic())
        self.path_rows = stats_view.path_rows(self._samples)
        self.summary_rows = stats_view.summary_rows(self._samples)
        self.refused, self.error = "", ""
        self.updated = datetime.now(UTC).strftime("%H:%M:%S UTC")

    @rx.event
    def unlock(self, form: dict[str, Any]):
        """The operator typed the token: follow the profiler with it."""
        self._token = str(form.get("operator_token") or "").strip()
        self.refused, self.loading = "", True
        return OperatorState.watch


def _token_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="operator_token", type="password", placeholder="Operator token",
                     id="operator-token", auto_complete="off", width="22em"),
            rx.button("Open the profiler", type="submit", id="operator-unlock"),
            spacing="2",
        ),
        on_submit=OperatorState.unlock, reset_on_submit=True,
    )


def _profiler() -> rx.Component:
    s = OperatorState
    return rx.vstack(
        kpis.cards(s.summary_rows),
        layout.listing(
            "Query paths, by total re-run time",
            s.path_rows,
            tables.table(COLUMNS, s.path_rows, "paths-table", toned=("timeouts", "errors"),
                         row_class="path-row", wrap=("sources",)),
            "No live query yet: each query path appears here once a client subscribes to it "
            "(open the dashboard's overview in another tab).",
        ),
        rx.text("Invalidations: per second over the last refresh (the lifetime average for "
                "a process sampled once). Invalidated most by: the tables, or "
                "table.column=value keys, whose changes invalidated the path.",
                size="1", color_scheme="gray"),
        spacing="4", width="100%",
    )


def page() -> rx.Component:
    s = OperatorState
    return layout.page(
        "Reactivity profiler",
        rx.text(rx.cond(s.updated != "", "Summed over the API processes; refreshed every "
                        f"{REFRESH_S:g} s, last at " + s.updated.to(str), ""),
                size="2", color_scheme="gray", id="stats-updated"),
        rx.cond(
            s.refused != "",
            layout.section("Operators only",
                           rx.callout(s.refused, icon="lock", color_scheme="amber",
                                      id="operator-refused", width="100%"),
                           _token_form()),
            rx.cond(s.loading, rx.fragment(), _profiler()),
        ),
        loading=s.loading, error=s.error, trader=False,
    )


ROUTE = "/operator"
TITLE = "Reactivity profiler"
ON_LOAD = [OperatorState.watch]
