"""The trade analytics panel's state, shared by the pages that show it (the overview and a
bot's page): the `an_*` vars the panel reads (frontend/components/insights.py) and how an
`insights:analytics` answer fills them. A Reflex state mixin: each page state that mixes it
in gets its own copy of the vars."""

from __future__ import annotations

from typing import Any

import reflex as rx

from frontend import insights_view


class AnalyticsVars(rx.State, mixin=True):
    an_trades: str = "0"
    an_efficiency: str = ""
    an_by_exit_reason: list[dict[str, str]] = []
    an_by_hour: list[dict[str, str]] = []
    an_by_weekday: list[dict[str, str]] = []
    an_attribution: list[dict[str, str]] = []

    def _show_analytics(self, answer: dict[str, Any], currency: str = "USDT") -> None:
        """Fill the vars from an `insights:analytics` answer, money in `currency`."""
        for key, value in insights_view.analytics_tables(answer, currency).items():
            setattr(self, f"an_{key}", value)
