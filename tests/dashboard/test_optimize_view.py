"""What the optimize page writes (frontend/optimize_view.py): the searched values after their
parameter's name, in- and out-of-sample KPIs side by side, the progress and end of a run, and
the template's searchable parameters with a starting range."""

from __future__ import annotations

from typing import Any

from frontend import optimize_view as view

KPIS = {"net_pnl": "12.5", "return_pct": "0.126", "sharpe": None, "max_drawdown_pct": 0.5,
        "trade_count": 7}
RUN: dict[str, Any] = {
    "id": 4, "params": ["signals.0.fast=2:20:2", "exits.1.pct=0.5,1"], "status": "done",
    "kpi": "net_pnl", "candles": 500, "done": 20, "total": 20, "trials": 20, "efficiency": 0.25,
    "walk_forward": {"train": 350, "test": 150, "step": 150, "anchored": False, "folds": 1},
    "ranked": [{"values": [4, 0.5], "in_sample": KPIS,
                "out_of_sample": {**KPIS, "net_pnl": "-3", "return_pct": "-0.03"}}],
    "folds": [{"train": [0, 350], "test": [350, 500], "values": None, "in_sample": None,
               "out_of_sample": None, "trials": 20}],
}


def test_ranked_rows_put_in_and_out_of_sample_side_by_side() -> None:
    [row] = view.ranked_rows(RUN, "USDT")
    assert row["values"] == "fast=4, pct=0.5"
    assert (row["is_net_pnl"], row["oos_net_pnl"]) == ("+12.50 USDT", "−3.00 USDT")
    assert (row["is_net_pnl_tone"], row["oos_net_pnl_tone"]) == ("green", "red")
    assert (row["is_return_pct"], row["oos_sharpe"], row["oos_trade_count"]) == (
        "+0.13%", "—", "7")
    assert {key for key, _ in view.columns((("rank", "#"),))} <= set(row) | {"rank"}


def test_a_fold_without_a_valid_point_says_so() -> None:
    [fold] = view.fold_rows(RUN, "USDT")
    assert fold["values"] == "no valid point" and fold["windows"] == "0–350 → 350–500"
    assert fold["is_net_pnl"] == "—"


def test_status_lines_follow_the_run() -> None:
    assert view.status_line(RUN).startswith("Done: 20 trials ranked by net_pnl · 500 candles, "
                                            "1 fold (train 350 → test 150)")
    assert "efficiency 0.25" in view.status_line(RUN)
    running = {**RUN, "status": "running", "done": 5, "trials": None}
    assert view.status_line(running).startswith("Running: 5 of 20 trials (25 %)")
    assert view.progress_pct(running) == 25
    assert view.status_line({**running, "status": "cancelled"}).startswith(
        "Cancelled after 5 of 20 trials")


def test_hints_list_numeric_component_parameters_and_suggest_a_range() -> None:
    template = {"signals": [{"type": "ma_cross", "params": {"fast": 10, "slow": 40,
                                                           "mode": "trend"}}],
                "exits": [{"type": "stop_loss", "params": {"pct": 1.5}}]}
    assert view.param_hints(template) == ["signals.0.fast = 10 (ma_cross)",
                                          "signals.0.slow = 40 (ma_cross)",
                                          "exits.0.pct = 1.5 (stop_loss)"]
    assert view.suggested_params(template) == "signals.0.fast=5:20:1\nsignals.0.slow=20:80:6"
