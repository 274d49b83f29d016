"""Insight panels shared by the bot page and the overview (values from
frontend/insights_view.py): the decision timeline (select a candle → why it did or did not
trade), the trade analytics tables, and the reconciling badge."""

from __future__ import annotations

import reflex as rx

from frontend.components import layout, tables

BUCKET_COLUMNS = [("key", "Group"), ("trades", "Trades"), ("wins", "Wins"),
                  ("win_rate", "Win rate"), ("pnl", "Net PnL")]
ATTRIBUTION_COLUMNS = [("component", "Signal component"), ("median", "Median score at entry"),
                       ("above", "Above median"), ("below", "At or below")]


def reconciling_badge(line: rx.Var) -> rx.Component:
    return rx.cond(line != "", rx.tooltip(
        rx.badge("reconciling", color_scheme="amber", variant="solid", size="2",
                 id="reconciling-badge"), content=line))


def decision_timeline(rows: rx.Var, selected: rx.Var, detail: rx.Var, select) -> rx.Component:
    """The newest decisions, one per candle; hovering or clicking one shows its details."""

    def row(r: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(r["candle"], white_space="nowrap"),
            rx.table.cell(rx.badge(r["action"], color_scheme=r["action_tone"])),
            rx.table.cell(r["outcome"]),
            rx.table.cell(r["score"]),
            rx.table.cell(r["side"]),
            on_click=select(r["key"]), on_mouse_enter=select(r["key"]), cursor="pointer",
            id=r["row_id"], class_name="decision-row",
            background=rx.cond(selected == r["key"], "var(--accent-a4)", "transparent"),
        )

    return layout.section(
        "Decisions (hover or click a candle: why it did or did not trade)",
        rx.cond(
            rows.length() > 0,
            rx.grid(
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Candle", "Action", "Outcome", "Score", "Desired")])),
                    rx.table.body(rx.foreach(rows, row)),
                    size="1", variant="surface", width="100%", id="decision-timeline",
                ), max_height="320px", overflow_y="auto"),
                rx.cond(detail != "",
                        rx.box(rx.text(detail, white_space="pre-wrap", size="2",
                                       font_family="monospace"), id="decision-detail",
                               padding="0.75em", background="var(--gray-a3)",
                               border_radius="var(--radius-3)"),
                        layout.empty("Select a candle.")),
                columns=rx.breakpoints(initial="1", lg="2"), spacing="3", width="100%",
            ),
            layout.empty("No decision journaled yet: one appears per closed candle after "
                         "the warm-up."),
        ),
    )


def analytics(t: dict[str, rx.Var], panel_id: str) -> rx.Component:
    """Trade analytics: PnL by exit reason, hour and weekday; exit efficiency; attribution.
    `t` maps the keys of `insights_view.analytics_tables` to the state's vars."""

    def bucket(title: str, key: str) -> rx.Component:
        return rx.vstack(rx.text(title, weight="bold", size="2"),
                         tables.table(BUCKET_COLUMNS, t[key], f"{panel_id}-{key}",
                                      toned=("pnl",), row_class=f"{key}-row"),
                         width="100%")

    return layout.section(
        "Trade analytics",
        rx.cond(
            t["trades"] != "0",
            rx.vstack(
                rx.hstack(rx.text("Trades: ", rx.text.strong(t["trades"], id=f"{panel_id}-trades")),
                          rx.text("Mean exit efficiency (gross PnL / MFE): ",
                                  rx.text.strong(t["efficiency"], id=f"{panel_id}-efficiency")),
                          spacing="5"),
                rx.grid(bucket("PnL by exit reason", "by_exit_reason"),
                        bucket("PnL by weekday (UTC, entry; days with trades)", "by_weekday"),
                        bucket("PnL by hour (UTC, entry; hours with trades)", "by_hour"),
                        columns=rx.breakpoints(initial="1", lg="3"), spacing="3",
                        width="100%"),
                rx.text("Per-component attribution", weight="bold", size="2"),
                tables.table(ATTRIBUTION_COLUMNS, t["attribution"], f"{panel_id}-attribution",
                             row_class="attribution-row"),
                width="100%", spacing="3",
            ),
            layout.empty("No closed trade yet: analytics appear with the first one."),
        ),
        id=panel_id,
    )


def analytics_vars(state) -> dict[str, rx.Var]:
    return {"trades": state.an_trades, "efficiency": state.an_efficiency,
            "by_exit_reason": state.an_by_exit_reason, "by_hour": state.an_by_hour,
            "by_weekday": state.an_by_weekday, "attribution": state.an_attribution}


DRIFT_COLUMNS = [("kind", "Trade"), ("side", "Side"), ("entry_at", "Entry"),
                 ("detail", "Details")]


def drift(summary: rx.Var, rows: rx.Var, running: rx.Var, error: rx.Var, window: rx.Var,
          run) -> rx.Component:
    """Live vs backtest over the candles shown: a button runs drift:report."""
    return layout.section(
        "Drift: live vs backtest (the candles shown)",
        rx.hstack(rx.button("Run drift report", on_click=run, loading=running, size="2",
                            variant="soft", id="drift-run"),
                  rx.text(summary, size="2", id="drift-summary",
                          custom_attrs={"data-start": window[0], "data-end": window[1]}), align="center",
                  spacing="3"),
        rx.cond(error != "", rx.callout(error, icon="triangle_alert", color_scheme="amber",
                                        id="drift-error")),
        rx.cond(rows.length() > 0,
                tables.table(DRIFT_COLUMNS, rows, "drift-table", row_class="drift-row")),
        id="drift-panel",
    )
