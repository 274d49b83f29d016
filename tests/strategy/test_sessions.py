"""Sessions: windows, named sessions, and that a signal just outside a session does not trade."""

from __future__ import annotations

import numpy as np
import pytest

from strategy.backtest import run_backtest
from strategy.sessions import DAYS, SessionWindow, in_session, parse_hhmm, week_mask
from tests.strategy.builders import FLAT, MINUTE, START_MS, candles, template

HOUR = 60 * MINUTE
DAY = 24 * HOUR


def test_window_is_start_inclusive_end_exclusive():
    mask = week_mask([SessionWindow(("mon",), "09:00", "10:00")])
    t = START_MS + np.array([9 * HOUR - 1, 9 * HOUR, 10 * HOUR - MINUTE, 10 * HOUR])
    assert in_session(mask, t).tolist() == [False, True, True, False]


def test_window_wrapping_midnight_belongs_to_its_start_day():
    mask = week_mask([SessionWindow(("fri",), "22:00", "02:00")])
    fri = START_MS + 4 * DAY
    t = np.array([fri + 22 * HOUR, fri + DAY + HOUR, fri + DAY + 2 * HOUR, START_MS + HOUR])
    assert in_session(mask, t).tolist() == [True, True, False, False]


def test_named_london_session_is_weekdays_only():
    tpl = template(sessions=[{"name": "london"}])
    assert tpl.sessions[0] == SessionWindow(DAYS[:5], "07:00", "16:00", "london")
    mask = week_mask(tpl.sessions)
    sat = START_MS + 5 * DAY
    assert in_session(mask, np.array([START_MS + 8 * HOUR, sat + 8 * HOUR])).tolist() == [
        True,
        False,
    ]


def test_no_sessions_means_always():
    assert in_session(None, np.array([0, 123456789])).all()


@pytest.mark.parametrize("text", ["7:00", "25:00", "12:60", "noon"])
def test_bad_times_are_rejected(text):
    with pytest.raises(ValueError):
        parse_hhmm(text)


def signal_at(index: int) -> list:
    """Flat candles with a long breakout signal on candle ``index``."""
    rows = [FLAT] * (index + 3)
    rows[index] = (100, 101, 100, 101)
    return rows


@pytest.mark.parametrize(
    ("signal_index", "trades"),
    [
        (3, 0),  # decided at 00:04 (the candle's close): before the 00:05 start
        (4, 1),  # decided at 00:05: inside
        (8, 1),  # decided at 00:09: inside
        (9, 0),  # decided at 00:10: the end is exclusive
    ],
)
def test_a_signal_just_outside_a_session_does_not_trade(signal_index, trades):
    tpl = template(sessions=[{"start": "00:05", "end": "00:10"}])
    result = run_backtest(tpl, candles(signal_at(signal_index)))
    assert len(result.trades) == trades
