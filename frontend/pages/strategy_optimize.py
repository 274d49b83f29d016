"""/strategies/[strategy_id]/optimize: search a strategy's parameters (`optimize:start`) over
the local exchange's history — parameter ranges, KPI, grid or random, walk-forward windows —
then watch the search live (`optimize:run`: a progress bar, cancel) and read its results: the
best points with their in-sample and out-of-sample KPIs side by side, each walk-forward fold's
winner, the number of trials and the overfitting warning. Earlier runs are listed
(`optimize:runs`) and can be shown again."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import api, fmt, live
from frontend import optimize_view as view
from frontend.components import layout, tables
from frontend.state.auth import AuthState
from frontend.state.live_page import LivePage
from strategy.optimize import RANK_KPIS

RANKED_COLUMNS = view.columns((("rank", "#"), ("values", "Parameters")))
FOLD_COLUMNS = view.columns((("fold", "Fold"), ("windows", "Train → test candles"),
                             ("values", "Winner")))
RUN_COLUMNS = [("id", "Run"), ("started", "Started"), ("status", "Status"), ("kpi", "KPI"),
               ("trials", "Trials"), ("params", "Parameters")]


class OptimizeState(LivePage):
    strategy_name: str = ""
    hints: list[str] = []
    params_text: str = ""
    kpi: str = "net_pnl"
    kind: str = "grid"
    samples: str = "200"
    candles: str = "1000"
    train: str = ""
    test: str = ""
    step: str = ""
    anchored: bool = False
    top: str = "10"
    form_error: str = ""
    starting: bool = False
    run_rows: list[dict[str, str]] = []
    shown: str = ""  # the run shown: its id
    status: str = ""
    active: bool = False  # the run shown is queued or running
    status_text: str = ""
    progress: int = 0
    trials: str = ""
    warning: str = ""
    ranked_by: str = ""
    run_error: str = ""
    ranked_rows: list[dict[str, str]] = []
    fold_rows: list[dict[str, str]] = []
    _shown: int = 0
    _pinned: bool = False  # a past run chosen by the trader: new runs do not replace it
    _currency: str = "USDT"
    _strategy: int = 0  # the strategy the state was filled for

    @rx.event(background=True)
    async def watch(self):
        async for event in self._follow():
            yield event

    @rx.event
    def enter(self):
        """Opening the page: another strategy than last time starts from a clean form."""
        if self._strategy_id() != self._strategy:
            self.reset()
            self._strategy, self._shown, self._pinned = self._strategy_id(), 0, False

    def _strategy_id(self) -> int:
        parts = self.router.url.path.strip("/").split("/")  # strategies/<id>/optimize
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    def _feed(self) -> live.Feed:
        strategy = {"strategy_id": self._strategy_id()}
        queries = {"strategy": ("strategies:get", strategy),
                   "runs": ("optimize:runs", strategy)}
        if self._shown:
            queries["run"] = ("optimize:run", {"run_id": self._shown})
        return live.Feed(queries)

    def _take(self, values: dict[str, Any]) -> bool:
        if "strategy" in values:
            strategy = values["strategy"]
            self.strategy_name = (f"{strategy['name']} · {strategy['symbol']} "
                                  f"{strategy['timeframe']} · v{strategy['version']}")
            self._currency = fmt.quote_currency(strategy["symbol"])
            self.hints = view.param_hints(strategy["template"])
            if not self.params_text:
                self.params_text = view.suggested_params(strategy["template"])
        if "run" in values:
            self._show(values["run"])
        if "runs" in values:
            runs = values["runs"]
            self.run_rows = view.run_rows(runs)
            if runs and not self._pinned and runs[0]["id"] != self._shown:
                self._shown = runs[0]["id"]
                return True
        return False

    def _show(self, run: dict[str, Any]) -> None:
        self.shown, self.status = str(run["id"]), run["status"]
        self.active = run["status"] in ("queued", "running")
        self.status_text = view.status_line(run)
        self.progress = view.progress_pct(run)
        self.trials = "" if run["trials"] is None else (
            f"{run['trials']:,} trials: the more points are tried, the likelier the best one "
            "is luck — judge it by its out-of-sample columns.")
        self.warning = run["warning"] or ""
        self.ranked_by = run["kpi"]
        self.run_error = run["error"] or ""
        self.ranked_rows = view.ranked_rows(run, self._currency)
        self.fold_rows = view.fold_rows(run, self._currency)

    @rx.event
    def set_field(self, name: str, value: str):
        if name in ("params_text", "kpi", "kind", "samples", "candles", "train", "test",
                    "step", "top"):
            setattr(self, name, value)

    @rx.event
    def set_anchored(self, value: bool):
        self.anchored = value

    def _args(self) -> dict[str, Any]:
        """The form as `optimize:start` arguments; numbers left blank are left out."""
        args: dict[str, Any] = {
            "strategy_id": self._strategy_id(), "kpi": self.kpi, "kind": self.kind,
            "anchored": self.anchored,
            "params": [line.strip() for line in self.params_text.splitlines() if line.strip()],
        }
        numbers = {"candles": self.candles, "top": self.top, "train": self.train,
                   "test": self.test, "step": self.step}
        if self.kind == "random":
            numbers["samples"] = self.samples
        for name, text in numbers.items():
            if text.strip():
                if not text.strip().isdigit():
                    raise ValueError(f"{name}: {text.strip()!r} is not a whole number")
                args[name] = int(text.strip())
        return args

    @rx.event
    async def start(self):
        self.form_error = ""
        try:
            args = self._args()
        except ValueError as exc:
            self.form_error = str(exc)
            return
        self.starting, self._pinned = True, False  # the page follows the newest run again
        yield
        try:
            await self._run("action", "optimize:start", args)
        except api.DashboardError as exc:
            self.starting = False
            if exc.expired:
                yield self._end_session(exc.message)
                return
            self.form_error = exc.message
            return
        self.starting = False  # the new run arrives through optimize:runs

    @rx.event
    async def cancel(self):
        try:
            await self._run("mutation", "optimize:cancel", {"run_id": self._shown})
        except api.DashboardError as exc:
            self.form_error = exc.message

    @rx.event
    def show_run(self, run_id: str):
        self._shown, self._pinned = int(run_id), True
        return OptimizeState.watch


def _field(label: str, control: rx.Component, width: str = "8em") -> rx.Component:
    return rx.vstack(rx.text(label, size="1", weight="medium"), control, spacing="1",
                     width=width)


def _number(name: str, value: rx.Var, label: str, placeholder: str = "") -> rx.Component:
    return _field(label, rx.input(value=value, placeholder=placeholder, id=f"opt-{name}",
                                  on_change=lambda v: OptimizeState.set_field(name, v)))


def _form() -> rx.Component:
    s = OptimizeState
    return layout.section(
        "Search",
        rx.text("One parameter per line: PATH=START:STOP:STEP or PATH=a,b,c (as "
                "`plutarc optimize --param`).", size="1", color_scheme="gray"),
        rx.hstack(
            rx.text_area(value=s.params_text, id="opt-params", rows="4", width="28em",
                         font_family="monospace",
                         on_change=lambda v: s.set_field("params_text", v)),
            rx.vstack(rx.text("Parameters of this template:", size="1", weight="medium"),
                      rx.foreach(s.hints, lambda h: rx.code(h, size="1")), spacing="1",
                      id="opt-hints"),
            spacing="5", align="start"),
        rx.flex(
            _field("Rank by", rx.select(list(RANK_KPIS), value=s.kpi, id="opt-kpi",
                                        on_change=lambda v: s.set_field("kpi", v))),
            _field("Search", rx.select(["grid", "random"], value=s.kind, id="opt-kind",
                                       on_change=lambda v: s.set_field("kind", v))),
            rx.cond(s.kind == "random", _number("samples", s.samples, "Random points")),
            _number("candles", s.candles, "Candles (≤ 1,000)"),
            _number("top", s.top, "Best points shown"),
            _number("train", s.train, "Train candles", "70 %"),
            _number("test", s.test, "Test candles", "30 %"),
            _number("step", s.step, "Step", "= test"),
            _field("Anchored", rx.checkbox(checked=s.anchored, on_change=s.set_anchored,
                                           id="opt-anchored")),
            wrap="wrap", spacing="4", align="end"),
        rx.text("Without train/test: the first 70 % of the candles in-sample, the rest out of "
                "sample. With them: walk-forward folds, each winner tested on the candles after "
                "its window.", size="1", color_scheme="gray"),
        rx.hstack(
            rx.button("Start search", on_click=s.start, loading=s.starting, id="opt-start",
                      disabled=s.active),
            rx.cond(s.active, rx.button("Cancel", on_click=s.cancel,
                                                     color_scheme="red", variant="soft",
                                                     id="opt-cancel")),
            align="center", spacing="3"),
        rx.cond(s.form_error != "", rx.callout(s.form_error, icon="triangle_alert",
                                               color_scheme="red", id="opt-error")),
        id="optimize-form",
    )


def _results() -> rx.Component:
    s = OptimizeState
    return layout.section(
        "Run " + s.shown,
        rx.text(s.status_text, size="2", weight="medium", id="opt-status"),
        rx.cond(s.active, rx.progress(value=s.progress, max=100, width="100%",
                                                   size="3", id="opt-progress")),
        rx.cond(s.run_error != "", rx.callout(s.run_error, icon="triangle_alert",
                                              color_scheme="red", id="opt-run-error")),
        rx.cond(s.warning != "", rx.callout(s.warning, icon="triangle_alert",
                                            color_scheme="amber", id="opt-warning")),
        rx.cond(s.trials != "", rx.text(s.trials, size="1", color_scheme="gray",
                                        id="opt-trials")),
        rx.cond(s.ranked_rows.length() > 0, rx.vstack(
            rx.text("Best points of the last training window by " + s.ranked_by
                    + ": in-sample (IS) and on the candles after it (OOS)", size="2",
                    weight="medium"),
            rx.box(tables.table(RANKED_COLUMNS, s.ranked_rows, "opt-ranked",
                                toned=("is_net_pnl", "oos_net_pnl", "is_return_pct",
                                       "oos_return_pct")), overflow_x="auto", width="100%"),
            rx.text("Each fold's winner", size="2", weight="medium"),
            rx.box(tables.table(FOLD_COLUMNS, s.fold_rows, "opt-folds",
                                toned=("is_net_pnl", "oos_net_pnl", "is_return_pct",
                                       "oos_return_pct")), overflow_x="auto", width="100%"),
            spacing="2", width="100%")),
        id="optimize-run",
    )


def _runs() -> rx.Component:
    s = OptimizeState
    cell = rx.table.cell
    return layout.section("Runs", rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(label)
                                       for _, label in RUN_COLUMNS])),
        rx.table.body(rx.foreach(s.run_rows, lambda r: rx.table.row(
            cell(rx.link("#" + r["id"], on_click=s.show_run(r["id"]), cursor="pointer")),
            *[cell(r[key]) for key, _ in RUN_COLUMNS[1:]], id=r["row_id"]))),
        size="1", variant="surface", width="100%", id="opt-runs"))


def page() -> rx.Component:
    s = OptimizeState
    return layout.page(
        "Optimize parameters",
        rx.hstack(rx.link("← Strategies", href="/strategies"),
                  rx.text(s.strategy_name, size="2", id="opt-strategy"), spacing="4"),
        _form(),
        rx.cond(s.shown != "", _results()),
        rx.cond(s.run_rows.length() > 0, _runs()),
        loading=s.loading, error=s.error,
    )


ROUTE = "/strategies/[strategy_id]/optimize"
TITLE = "Optimize"
# the form is reset for another strategy first; the live task starts before the session check
ON_LOAD = [OptimizeState.enter, OptimizeState.watch, AuthState.check_session]
