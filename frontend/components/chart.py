"""Charts: TradingView's lightweight-charts wrapped as a Reflex component (`lw_chart.js`
beside this module): candles with entry/exit markers, or equity with drawdown below it.
Chart times are seconds since the epoch, shown in UTC."""

from __future__ import annotations

from typing import Any

import reflex as rx

LIGHTWEIGHT_CHARTS = "lightweight-charts@5.0.9"


class LwChart(rx.Component):
    """`<LwChart kind=… data=… markers=… drawdown=…>` from lw_chart.js."""

    library = "$/public/" + rx.asset("lw_chart.js", shared=True)
    lib_dependencies: list[str] = [LIGHTWEIGHT_CHARTS]
    tag = "LwChart"

    kind: rx.Var[str]
    data: rx.Var[list[dict[str, Any]]]
    markers: rx.Var[list[dict[str, Any]]]
    drawdown: rx.Var[list[dict[str, Any]]]
    height: rx.Var[int]


def candles(data: rx.Var, markers: rx.Var, chart_id: str, height: int = 360) -> rx.Component:
    return LwChart.create(kind="candles", data=data, markers=markers, drawdown=[],
                          height=height, id=chart_id)


def equity(data: rx.Var, drawdown: rx.Var, chart_id: str, height: int = 300) -> rx.Component:
    return LwChart.create(kind="equity", data=data, markers=[], drawdown=drawdown,
                          height=height, id=chart_id)
