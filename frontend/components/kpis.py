"""KPI cards: a grid of label / value cards (values already formatted by frontend/fmt.py,
with a colour for signed amounts)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import fmt

# (key in the KPI dict, label, how to write it)
KPI_CARDS: tuple[tuple[str, str, str], ...] = (
    ("net_pnl", "Net PnL (closed trades)", "money"),  # open positions: their unrealised PnL
    ("return_pct", "Return", "percent_value"),
    ("win_rate", "Win rate", "fraction"),
    ("profit_factor", "Profit factor", "ratio"),
    ("expectancy", "Expectancy", "money"),
    ("sharpe", "Sharpe", "ratio"),
    ("sortino", "Sortino", "ratio"),
    ("max_drawdown", "Max drawdown", "money"),
    ("exposure", "Exposure", "fraction"),
    ("fees_paid", "Fees", "money"),
)


def format_kpi(kind: str, value: Any, currency: str) -> str:
    if kind == "money":
        return fmt.money(value, currency)
    if kind == "percent_value":
        return fmt.percent(value, already_percent=True, signed=True)
    if kind == "fraction":
        return fmt.percent(value)
    return fmt.ratio(value)


def kpi_rows(kpis: dict[str, Any], currency: str = "USDT") -> list[dict[str, str]]:
    """The cards' contents: `{key, label, value, tone}` for each KPI, with max drawdown also
    in % of its peak."""
    rows = []
    for key, label, kind in KPI_CARDS:
        value = format_kpi(kind, kpis.get(key), currency)
        if key == "max_drawdown" and kpis.get("max_drawdown_pct") is not None:
            value += f" ({fmt.percent(kpis['max_drawdown_pct'], already_percent=True)})"
        signed = key in ("net_pnl", "return_pct", "expectancy")
        rows.append({"key": key, "label": label, "value": value,
                     "tone": fmt.tone(kpis.get(key)) if signed else "gray"})
    return rows


def _card(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(row["label"], size="1", color_scheme="gray", weight="medium"),
            rx.text(row["value"], size="5", weight="bold", color_scheme=row["tone"],
                    high_contrast=row["tone"] == "gray", class_name="kpi-value"),
            spacing="1",
        ),
        id="kpi-" + row["key"].to(str), class_name="kpi-card",
    )


def cards(rows: rx.Var) -> rx.Component:
    return rx.grid(rx.foreach(rows, _card), columns=rx.breakpoints(initial="2", sm="3", md="5"),
                   spacing="3", width="100%", id="kpi-cards")
