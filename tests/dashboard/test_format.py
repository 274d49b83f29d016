"""What a trader reads: money with its currency and sensible decimals, percentages, UTC
times, durations; and the rows and series the pages build from backend values."""

from __future__ import annotations

from frontend import fmt, rows
from frontend.components.kpis import kpi_rows


def test_money_has_its_currency_cents_and_a_real_minus_sign() -> None:
    assert fmt.money("1234.5") == "1,234.50 USDT"
    assert fmt.money("-1.08927216") == "−1.09 USDT"
    assert fmt.money("0.0034") == "0.0034 USDT"  # a tiny fee is not shown as 0.00
    assert fmt.money("3.5", signed=True) == "+3.50 USDT"
    assert fmt.money("-0.001") == "−0.0010 USDT"
    assert fmt.money(None) == "—"
    assert fmt.money("0") == "0.00 USDT"


def test_percentages_prices_and_quantities() -> None:
    assert fmt.percent("0.25") == "25.00%"
    assert fmt.percent("-0.010893", already_percent=True, signed=True) == "−0.01%"
    assert fmt.percent(None) == "—"
    assert fmt.price("62254.3") == "62,254.3"
    assert fmt.price("60000") == "60,000"
    assert fmt.quantity("0.0150") == "0.015"
    assert fmt.ratio(None) == "—"


def test_times_are_utc_and_durations_are_words() -> None:
    assert fmt.utc("2026-12-06T12:46:00.341+01:00") == "2026-12-06 11:46:00 UTC"
    assert fmt.utc(0) == "1970-01-01 00:00:00 UTC"
    assert [fmt.duration(s) for s in (45, 1559, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == \
        ["45s", "25m 59s", "3h 05m", "2d 4h"]


def test_kpi_cards_cover_the_ten_kpis_with_drawdown_in_money_and_percent() -> None:
    cards = kpi_rows({"net_pnl": "-1.5", "return_pct": "-0.015", "win_rate": "0.5",
                      "profit_factor": None, "expectancy": "-0.75", "sharpe": "1.234",
                      "sortino": None, "max_drawdown": "2", "max_drawdown_pct": "0.02",
                      "exposure": "0.4", "fees_paid": "1.1"})
    by_key = {c["key"]: c for c in cards}
    assert [c["label"] for c in cards] == ["Net PnL (closed trades)", "Return", "Win rate", "Profit factor",
                                           "Expectancy", "Sharpe", "Sortino", "Max drawdown",
                                           "Exposure", "Fees"]
    assert by_key["net_pnl"] == {"key": "net_pnl", "label": "Net PnL (closed trades)", "value": "−1.50 USDT",
                                 "tone": "red"}
    assert by_key["win_rate"]["value"] == "50.00%"
    assert by_key["max_drawdown"]["value"] == "2.00 USDT (0.02%)"
    assert by_key["sharpe"]["value"] == "1.23"
    assert by_key["profit_factor"]["value"] == "—"


def test_equity_series_has_rising_times_and_drawdown_from_the_running_peak() -> None:
    line, drawdown = rows.equity_series([
        {"at": "2026-01-01T00:00:00+00:00", "equity": "100"},
        {"at": "2026-01-01T00:01:00+00:00", "equity": "110"},
        {"at": "2026-01-01T00:01:00.500+00:00", "equity": "108"},  # same second: the later wins
        {"at": "2026-01-01T00:02:00+00:00", "equity": "104"},
    ])
    assert [p["value"] for p in line] == [100, 108, 104]
    assert [p["value"] for p in drawdown] == [0, 0, -4]
    assert [p["time"] for p in line] == sorted({p["time"] for p in line})


def test_trade_markers_sit_on_their_candles_in_time_order() -> None:
    trade = {"id": 7, "side": "short", "entry_at": "1970-01-01T00:02:30+00:00",
             "exit_at": "1970-01-01T00:01:10+00:00"}
    marks = rows.trade_markers([trade], first=60, step_s=60)
    assert [(m["time"], m["text"]) for m in marks] == [(60, "exit #7"), (120, "short #7")]
    assert rows.trade_markers([trade], first=180, step_s=60) == []  # before the first candle
