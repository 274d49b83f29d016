"""/strategies: the trader's strategies with their versions, and the template editor —
generated from the engine's component catalogue (frontend/template_form.py): signals (with
weights), filters, entry guards and exits with their parameters as typed fields, combination,
sessions, sizing and risk, symbol and timeframe. Every edit is checked by the engine at once
and a problem shows next to the field it names; saving creates a version (the backend's
refusal lands next to its field too). The version history shows what changed between two
versions; the template can be viewed, exported and imported as JSON. The backtest panel and
the deploy dialog (strategy_backtest.py, strategy_deploy.py) work on the template shown."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from frontend import api, fmt, live
from frontend import template_form as tf
from frontend.components import layout
from frontend.pages import strategy_backtest, strategy_deploy
from frontend.state.auth import AuthState
from frontend.state.live_page import LivePage, LiveTask

DIFF_COLUMNS = (("path", "Field"), ("old", "Before"), ("new", "After"))


class StrategiesState(LiveTask, LivePage):
    strategy_rows: list[dict[str, str]] = []
    selected: str = ""  # strategy id shown in the editor; "" = a new, unsaved strategy
    editing: bool = False
    version_rows: list[dict[str, str]] = []
    general: list[dict[str, str]] = []
    comps: dict[str, list[dict[str, str]]] = {}
    fields: dict[str, list[dict[str, str]]] = {}
    choices: dict[str, list[str]] = {}  # section -> component types to add
    sessions_on: list[str] = []
    problems: list[str] = []  # problems not tied to a shown field
    problem_count: int = 0
    saved: str = ""
    save_error: str = ""
    json_text: str = ""
    import_error: str = ""
    diff_from: str = ""
    diff_to: str = ""
    diff_rows: list[dict[str, str]] = []
    latest: str = ""  # the newest version of the strategy shown
    user_bots: list[dict[str, str]] = []  # bots running the strategy shown, and their version
    _template: dict[str, Any] = {}
    _catalogue: dict[str, Any] = {}
    _schema: dict[str, Any] = {}
    _errors: dict[str, str] = {}

    def _feed(self) -> live.Feed:
        return live.Feed({"strategies": ("strategies:list", {})})

    async def _load_catalogue(self) -> None:
        """The engine's catalogue and schema, once per tab (they change only with a release).
        Read in the editor's own events: what a background task writes to a backend var is
        not seen by later events here."""
        if not self._catalogue:
            got = await self._run("query", "strategies:catalogue")
            self._catalogue, self._schema = got["components"], got["schema"]
            self.choices = {s: sorted(self._catalogue[s]) for s in tf.SECTIONS}

    def _take(self, values: dict[str, Any]) -> bool:
        if "strategies" in values:
            self.strategy_rows = [{
                "row_id": f"strategy-{s['id']}", "id": str(s["id"]), "name": s["name"],
                "symbol": s["symbol"], "timeframe": s["timeframe"], "version": str(s["version"]),
                "updated": fmt.utc(s["updated_at"]),
            } for s in values["strategies"]]
        return False

    def _show(self, template: dict[str, Any], backend_error: tuple[str, str] | None = None
              ) -> None:
        """Render `template` into rows, with the engine's problems (and the backend's)."""
        self._template = template
        errors = tf.errors_of(template)
        if backend_error is not None:
            errors.setdefault(*backend_error)
        self._errors = errors
        self.general = tf.general_rows(template, self._schema, errors)
        self.comps, self.fields = tf.component_rows(template, self._catalogue, errors)
        self.sessions_on = [s["name"] for s in template.get("sessions") or [] if "name" in s]
        shown = {r["path"] for r in self.general} | {c["key"] for cs in self.comps.values()
                                                     for c in cs}
        shown |= {r["path"] for rs in self.fields.values() for r in rs}
        self.problems = [f"{p or 'template'}: {m}" for p, m in errors.items() if p not in shown]
        self.problem_count = len(errors)
        self.json_text = json.dumps(template, indent=2)

    @rx.event
    async def new(self):
        try:
            await self._load_catalogue()
        except api.DashboardError as exc:
            self.save_error = exc.message
            return
        self.selected, self.editing, self.saved, self.save_error = "", True, "", ""
        self.version_rows, self.diff_rows = [], []
        self._show(tf.starter(self._catalogue))

    @rx.event
    async def open(self, strategy_id: str):
        self.saved, self.save_error, self.diff_rows = "", "", []
        return await self._after(strategy_id, "")

    async def _load(self, strategy_id: str) -> None:
        """Show a saved strategy: its newest template, versions and the bots running it."""
        await self._load_catalogue()
        got = await self._run("query", "strategies:get", {"strategy_id": int(strategy_id)})
        bots = await self._run("query", "bots:list")
        self.selected, self.editing = strategy_id, True
        self.version_rows = [{"version": str(v["version"]), "created": fmt.utc(v["created_at"])}
                             for v in got["versions"]]
        versions = [r["version"] for r in self.version_rows]
        self.latest = versions[-1]
        self.user_bots = [{"id": str(b["id"]), "name": b["name"], "lifecycle": b["lifecycle"],
                           "version": str(b["strategy_version"])}
                          for b in bots if b.get("strategy_id") == int(strategy_id)]
        self.diff_from = versions[-2] if len(versions) > 1 else versions[-1]
        self.diff_to = versions[-1]
        self._show(got["template"])

    @rx.event
    def set_field(self, path: str, kind: str, text: str):
        self.saved = ""
        self._show(tf.set_value(self._template, path, kind, text))

    @rx.event
    def set_flag(self, path: str, on: bool):
        self._show(tf.set_value(self._template, path, "boolean", "true" if on else "false"))

    @rx.event
    def pick_diff(self, which: str, version: str):
        if which == "from":
            self.diff_from = version
        else:
            self.diff_to = version

    @rx.event
    def add_component(self, section: str, kind: str):
        self._show(tf.add_component(self._template, self._catalogue, section, kind))

    @rx.event
    def remove_component(self, section: str, index: str):
        self._show(tf.remove_component(self._template, section, int(index)))

    @rx.event
    def toggle_session(self, name: str):
        self._show(tf.toggle_session(self._template, name))

    @rx.event
    async def import_json(self, form: dict[str, Any]):
        self.import_error = ""
        await self._load_catalogue()
        try:
            data = json.loads(form.get("template_json") or "")
        except json.JSONDecodeError as exc:
            self.import_error = f"Not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            return
        if not isinstance(data, dict):
            self.import_error = "A template is a JSON object ({...})."
            return
        self.editing = True
        self._show(data)

    @rx.event
    async def save(self):
        self.saved, self.save_error = "", ""
        try:
            if not self.selected:
                row = await self._run("mutation", "strategies:create", {"template": self._template})
            else:
                row = await self._run("mutation", "strategies:update",
                                      {"strategy_id": int(self.selected),
                                       "template": self._template})
        except api.DashboardError as exc:
            if exc.expired:
                return self._end_session(exc.message)
            self.save_error = exc.message
            self._show(self._template, (tf.backend_error_path(exc.field), exc.message))
            return None
        return await self._after(str(row["id"]),
                                 f"Saved {row['name']!r} as version {row['version']}.")

    async def _after(self, strategy_id: str, message: str):
        """(Re)load the strategy and say what happened (`message`), or why it failed."""
        try:
            await self._load(strategy_id)
        except api.DashboardError as exc:
            if exc.expired:
                return self._end_session(exc.message)
            self.save_error = exc.message
            return None
        self.saved = message
        return None

    @rx.event
    async def move_bot(self, bot_id: str):
        """Point a bot at the newest version: a running bot takes it at its next candle."""
        self.saved, self.save_error = "", ""
        try:
            await self._run("mutation", "bots:update",
                            {"bot_id": int(bot_id), "strategy_version": int(self.latest)})
        except api.DashboardError as exc:
            if exc.expired:
                return self._end_session(exc.message)
            self.save_error = exc.message
            return None
        return await self._after(self.selected, f"The bot now runs version {self.latest}; "
                                 "its events say when it takes it.")

    @rx.event
    async def compare(self, form: dict[str, Any]):
        self.diff_from = form.get("from") or self.diff_from
        self.diff_to = form.get("to") or self.diff_to
        try:
            old, new = [await self._run("query", "strategies:get",
                                        {"strategy_id": int(self.selected), "version": int(v)})
                        for v in (self.diff_from, self.diff_to)]
        except api.DashboardError as exc:
            self.save_error = exc.message
            return
        self.diff_rows = tf.diff(old["template"], new["template"]) or [
            {"path": "—", "old": "", "new": "no difference"}]


def _field(row: rx.Var) -> rx.Component:
    change = lambda value: StrategiesState.set_field(row["path"], row["kind"], value)
    control = rx.match(
        row["kind"],
        ("choice", rx.select(row["choices"].split(","), value=row["value"], on_change=change,
                             size="1", id=row["id"])),
        ("boolean", rx.switch(checked=row["value"] == "true", id=row["id"],
                              on_change=lambda on: StrategiesState.set_flag(row["path"], on))),
        rx.input(value=row["value"], on_change=change, size="1", id=row["id"],
                 width="9em", debounce_timeout=300),
    )
    return rx.vstack(
        rx.text(row["label"], " ", rx.text.span(row["bounds"], color_scheme="gray"),
                size="1", weight="medium", title=row["help"]),
        control,
        rx.cond(row["error"] != "", rx.text(row["error"], size="1", color_scheme="red",
                                            class_name="field-error",
                                            id=row["id"] + "-error")),
        spacing="1", class_name="field",
    )


def _component(comp: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.badge(comp["type"]), rx.text(comp["description"], size="1",
                                                  color_scheme="gray"),
                  rx.spacer(),
                  rx.button("Remove", size="1", variant="ghost", color_scheme="red",
                            id=comp["id"] + "-remove",
                            on_click=StrategiesState.remove_component(comp["section"],
                                                                      comp["index"])),
                  width="100%", align="center"),
        rx.cond(comp["error"] != "", rx.text(comp["error"], size="1", color_scheme="red")),
        rx.flex(rx.foreach(StrategiesState.fields[comp["key"]], _field), wrap="wrap",
                spacing="4"),
        spacing="2", width="100%"), id=comp["id"], width="100%")


def _section(section: str) -> rx.Component:
    return layout.section(
        section.capitalize(),
        rx.foreach(StrategiesState.comps[section], _component),
        rx.hstack(rx.foreach(StrategiesState.choices[section], lambda kind: rx.button(
            "+ " + kind, size="1", variant="soft", id=f"add-{section}-" + kind,
            on_click=StrategiesState.add_component(section, kind))), wrap="wrap", spacing="2"),
        id=f"section-{section}",
    )


def _sessions() -> rx.Component:
    return layout.section("Trading sessions (UTC; none = always)", rx.hstack(*[
        rx.checkbox(name, checked=StrategiesState.sessions_on.contains(name),
                    on_change=StrategiesState.toggle_session(name),
                    id=f"session-{name}")
        for name in tf.NAMED_SESSIONS], spacing="4"))


def _versions() -> rx.Component:
    s = StrategiesState
    options = s.version_rows.foreach(lambda v: v["version"])
    return layout.section(
        "Versions",
        rx.text(rx.foreach(s.version_rows, lambda v: rx.badge(
            "v" + v["version"] + " · " + v["created"], variant="outline", margin_right="0.5em"))),
        rx.form(rx.hstack(
            rx.text("Compare", size="2"), rx.select(options, name="from", value=s.diff_from,
                                                    on_change=lambda v: s.pick_diff("from", v), id="diff-from"),
            rx.text("with", size="2"), rx.select(options, name="to", value=s.diff_to,
                                                 on_change=lambda v: s.pick_diff("to", v), id="diff-to"),
            rx.button("Show changes", type="submit", size="1", id="diff-show"), align="center"),
            on_submit=s.compare),
        rx.cond(s.diff_rows.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h)
                                           for _, h in DIFF_COLUMNS])),
            rx.table.body(rx.foreach(s.diff_rows, lambda r: rx.table.row(
                *[rx.table.cell(rx.code(r[k])) for k, _ in DIFF_COLUMNS], class_name="diff-row"))),
            size="1", id="diff-table", width="100%")),
        id="versions",
    )


def _json() -> rx.Component:
    s = StrategiesState
    return layout.section(
        "Template JSON",
        rx.form(rx.vstack(
            rx.text_area(default_value=s.json_text, name="template_json", rows="14",
                         width="100%", font_family="monospace", id="template-json",
                         key=s.json_text),
            rx.hstack(rx.button("Import this JSON", type="submit", size="1", id="json-import"),
                      rx.button("Export (download)", size="1", variant="soft", id="json-export",
                                on_click=rx.download(data=s.json_text,
                                                     filename="template.json")),
                      spacing="2"),
            width="100%"), on_submit=s.import_json, width="100%"),
        rx.cond(s.import_error != "", rx.text(s.import_error, color_scheme="red", size="1",
                                              id="import-error")),
    )


def _editor() -> rx.Component:
    s = StrategiesState
    return rx.vstack(
        layout.section("Template", rx.flex(rx.foreach(s.general, _field), wrap="wrap",
                                           spacing="4"), id="section-general"),
        *[_section(name) for name in tf.SECTIONS],
        _sessions(),
        rx.hstack(
            rx.button(rx.cond(s.selected == "", "Save new strategy", "Save as new version"),
                      on_click=s.save, id="save-strategy"),
            rx.cond(s.problem_count > 0,
                    rx.text(s.problem_count.to(str) + " problem(s) to fix before it can run",
                            color_scheme="red", size="2", id="problem-count"),
                    rx.text("The engine accepts this template.", color_scheme="green",
                            size="2", id="template-ok")),
            align="center", spacing="3"),
        rx.foreach(s.problems, lambda p: rx.text(p, color_scheme="red", size="1")),
        rx.cond(s.saved != "", rx.callout(s.saved, icon="check", color_scheme="green",
                                          id="saved")),
        rx.cond(s.save_error != "", rx.callout(s.save_error, icon="triangle_alert",
                                               color_scheme="red", id="save-error")),
        strategy_backtest.panel(),
        rx.cond(s.selected != "", rx.hstack(
            strategy_deploy.dialog(s.selected),
            rx.link(rx.button("Optimize parameters…", variant="soft"), id="optimize-open",
                    href="/strategies/" + s.selected + "/optimize"),
            spacing="3")),
        rx.cond(s.user_bots.length() > 0, layout.section("Bots running this strategy", rx.foreach(
            s.user_bots, lambda b: rx.hstack(
                rx.link(b["name"], href="/bots/" + b["id"]),
                rx.text(b["lifecycle"] + " · runs v" + b["version"], size="2"),
                rx.cond(b["version"] != s.latest, rx.button(
                    "Move to v" + s.latest, size="1", id="move-bot-" + b["id"],
                    on_click=s.move_bot(b["id"]))), align="center", class_name="user-bot")))),
        rx.cond(s.selected != "", _versions()),
        _json(),
        spacing="4", width="100%",
    )


def _strategy_row(row: rx.Var) -> rx.Component:
    cell = rx.table.cell
    return rx.table.row(
        cell(rx.link(row["name"], on_click=StrategiesState.open(row["id"]), cursor="pointer",
                     weight="bold", id="open-" + row["id"].to(str))),
        cell(row["symbol"]), cell(row["timeframe"]), cell("v" + row["version"]),
        cell(row["updated"]), id=row["row_id"], class_name="strategy-row")


def page() -> rx.Component:
    s = StrategiesState
    return layout.page(
        "Strategies",
        layout.section(
            "Your strategies",
            rx.cond(s.strategy_rows.length() > 0, rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Name", "Symbol", "Timeframe", "Version", "Updated")])),
                rx.table.body(rx.foreach(s.strategy_rows, _strategy_row)),
                size="2", variant="surface", width="100%", id="strategies-table"),
                rx.cond(~s.loading, layout.empty("No strategy yet: start a new one."))),
            rx.button("New strategy", on_click=s.new, id="new-strategy", width="fit-content"),
        ),
        rx.cond(s.editing, _editor()),
        loading=s.loading, error=s.error,
    )


ROUTE = "/strategies"
TITLE = "Strategies"
ON_LOAD = [StrategiesState.watch, AuthState.check_session]  # the live task starts first
