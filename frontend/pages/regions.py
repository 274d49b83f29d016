"""/regions: compute providers and their regions — each exchange's matching engine (with the
source that says where it is), and per region the distance to it, the estimated round trip
and the latency bots measured there (live: `regions:list` follows the roll-up), with the
guidance by timeframe."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import live, regions_view
from frontend.components import layout, tables
from frontend.state.auth import AuthState
from frontend.state.live_page import LivePage, LiveTask

REGION_COLUMNS = [("provider", "Provider"), ("code", "Region"), ("city", "City"),
                  ("distance", "Distance"), ("estimate", "Estimated round trip"),
                  ("measured", "Measured (p50)")]
ENGINE_COLUMNS = [("exchange", "Exchange"), ("location", "Matching engine"),
                  ("source", "Source")]


class RegionsState(LiveTask, LivePage):
    exchange: str = "bybit"
    exchanges: list[str] = []
    region_rows: list[dict[str, str]] = []
    engine_rows: list[dict[str, str]] = []
    guidance_rows: list[dict[str, str]] = []
    note: str = ""
    _listing: dict[str, Any] = {}

    def _feed(self) -> live.Feed:
        return live.Feed({"regions": ("regions:list", {})})

    def _take(self, values: dict[str, Any]) -> bool:
        self._listing = values["regions"]
        self._render()
        return False

    def _render(self) -> None:
        listing = self._listing
        self.exchanges = [e["exchange"] for e in listing["exchanges"]]
        self.engine_rows = [{"row_id": f"engine-{r['exchange']}", **r}
                            for r in regions_view.engine_rows(listing)]
        self.region_rows = [{"row_id": f"region-{r['provider']}-{r['code']}", **r}
                            for r in regions_view.region_rows(listing, self.exchange)]
        self.guidance_rows = [{"row_id": f"guide-{tf}", "timeframe": tf, "advice": text}
                              for tf, text in listing["guidance"].items()]
        self.note = listing["estimate_note"]

    @rx.event
    def pick(self, exchange: str):
        self.exchange = exchange
        self._render()


def page() -> rx.Component:
    s = RegionsState
    return layout.page(
        "Compute providers & regions",
        layout.section("Matching engines",
                       tables.table(ENGINE_COLUMNS, s.engine_rows, "engines-table")),
        layout.section(
            "Regions",
            rx.hstack(rx.text("Distance and latency to", size="2"),
                      rx.select(s.exchanges, value=s.exchange, on_change=s.pick, size="1",
                                id="regions-exchange"), align="center"),
            rx.text(s.note, size="1", color_scheme="gray"),
            tables.table(REGION_COLUMNS, s.region_rows, "regions-table"),
        ),
        layout.section("Which region? (by the strategy's timeframe)",
                       tables.table([("timeframe", "Timeframe"), ("advice", "Advice")],
                                    s.guidance_rows, "guidance-table")),
        loading=s.loading, error=s.error,
    )


ROUTE = "/regions"
TITLE = "Providers & regions"
ON_LOAD = [RegionsState.watch, AuthState.check_session]  # the live task starts first
