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
    on_candle: rx.EventHandler[rx.event.passthrough_event_spec(int)]


def candles(data: rx.Var, markers: rx.Var, chart_id: str, height: int = 360,
            on_candle=None) -> rx.Component:
    """`on_candle(time_s)`: the candle hovered or clicked."""
    extra = {"on_candle": on_candle} if on_candle is not None else {}
    return LwChart.create(kind="candles", data=data, markers=markers, drawdown=[],
                          height=height, id=chart_id, **extra)


def equity(data: rx.Var, drawdown: rx.Var, chart_id: str, height: int = 300) -> rx.Component:
    return LwChart.create(kind="equity", data=data, markers=[], drawdown=drawdown,
                          height=height, id=chart_id)
