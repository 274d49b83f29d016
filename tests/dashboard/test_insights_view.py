"""The insight panels' formatting (frontend/insights_view.py), without a browser."""

from __future__ import annotations

from frontend import insights_view as iv


def test_decision_rows_are_newest_first_with_why() -> None:
    rec = {"a": "hold", "r": "no_entry", "d": 1, "c": 0.66, "s": [1.0, 0.0],
           "f": [["volatility_band", False]], "ses": True, "g": [["max_trades", True]],
           "o": "filter:volatility_band"}
    rows = iv.decision_rows([
        {"candle_at": "2026-02-05T00:00:00+00:00", "outcome": "filter:volatility_band",
         "record": rec},
        {"candle_at": "2026-02-05T00:01:00+00:00", "outcome": "entered_long",
         "record": {**rec, "a": "enter_long", "r": None, "o": "entered_long"}},
    ])
    assert [r["outcome"] for r in rows] == ["entered_long", "filter:volatility_band"]
    assert rows[0]["action_tone"] == "green" and rows[1]["side"] == "long"
    assert rows[1]["score"] == "+0.66"
    detail = rows[1]["detail"]
    assert "volatility_band block" in detail and "max_trades allow" in detail
    assert "reason: no_entry" in detail


def test_analytics_tables_and_reconciling_line() -> None:
    bucket = {"trades": 2, "wins": 1, "pnl": "2.25"}
    t = iv.analytics_tables({
        "trades": 2, "mean_efficiency": 0.5,
        "by_exit_reason": [{"key": "take_profit", **bucket}],
        "by_hour": [{"key": "13", **bucket}, {"key": "14", "trades": 0, "wins": 0, "pnl": "0"}],
        "by_weekday": [{"key": "sat", "trades": 0, "wins": 0, "pnl": "0"},
                       {"key": "sun", **bucket}],
        "attribution": [{"index": 0, "type": "ma_cross", "median_score": 1.0,
                         "above": {"key": "above", "trades": 0, "wins": 0, "pnl": "0"},
                         "at_or_below": {"key": "below", **bucket}}],
    })
    assert t["efficiency"] == "50.00%"
    assert [r["key"] for r in t["by_hour"]] == ["13:00"]
    assert [r["key"] for r in t["by_weekday"]] == ["sun"]  # a day without trades is left out
    assert t["by_exit_reason"][0]["win_rate"] == "50.00%"
    assert t["by_exit_reason"][0]["pnl"] == "+2.25 USDT"
    assert t["attribution"][0]["below"] == "2 trades · +2.25 USDT"
    assert iv.reconciling_line({"reconciling": False}) == ""
    assert "1 difference" in iv.reconciling_line({
        "reconciling": True, "since": "2026-02-05T00:00:00+00:00", "differences": [{}]})


def test_drift_and_headroom_views() -> None:
    v = iv.drift_view({"candles": 10, "template_version": 2, "matched": [], "extra": [],
                       "missed": [{"side": "long", "entry_at": "2026-02-05T00:00:00+00:00",
                                   "explanation": "no decision"}]})
    assert v["summary"] == "10 candles · template v2 · matched 0 · missed 1 · extra 0"
    assert v["rows"][0]["detail"] == "no decision"
    rows = iv.headroom_rows([
        {"api_key_id": 1, "label": "k", "bots_sharing": 2, "endpoints": [
            {"path": "/v5/order/create", "remaining": 9, "window_limit": 10,
             "at": "2026-02-05T00:00:00+00:00"}]},
        {"api_key_id": 2, "label": "j", "bots_sharing": 0, "endpoints": []}])
    assert rows[0]["remaining"] == "9 / 10" and rows[0]["share"] == "90.00%"
    assert rows[1]["path"] == "not seen yet"
