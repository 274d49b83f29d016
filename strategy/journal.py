"""The decision journal: one compact record per closed candle saying why it did or did not trade.

A record holds each signal's score, the combined score (the threshold is the template's),
each filter's pass/fail, the session, the guards' verdicts when an entry was considered, the
desired side (+1 long signal, -1 short, 0 none), the action and an ``outcome`` that names
what happened or the **first** reason no entry was made, in the order the rules apply them:
``no_signal`` → ``filter:<type>`` → ``out_of_session`` → ``side_disabled`` →
``position_closed_this_candle`` → ``paused`` → ``guard:<type>`` → ``size_zero``.

Two producers, one record (a test holds them equal over the same candles):

* live: :func:`from_state` reads the signal state the bot reports for each candle
  (``Decision.signal_state`` plus ``action`` and ``reason``);
* backtest: :func:`backtest_journal` rebuilds every candle's decision from the backtester's
  market frame, its trades and its closed-trade account.

Warming-up candles have no record (the live bot reports none either).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from strategy.backtest.account import Account
from strategy.backtest.engine import first_decision, market
from strategy.backtest.level_fills import LEVEL_REASONS
from strategy.backtest.result import BacktestConfig, BacktestResult
from strategy.decision import ENTER_LONG, ENTER_SHORT, EXIT, HOLD, Rules
from strategy.indicators import Candles
from strategy.template.model import Template

ENTERED = {ENTER_LONG: "entered_long", ENTER_SHORT: "entered_short"}


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """Why candle ``candle_ms`` (open time, UTC ms) did what it did; see the module docstring.

    Invariant: ``guards`` is empty unless an entry was considered (flat, a signal passing
    filters and session); ``outcome`` is derived from the other fields by :func:`_outcome`.
    """

    candle_ms: int
    action: str
    reason: str | None
    desired: int
    score: float | None
    signals: tuple[float | None, ...]
    filters: tuple[tuple[str, bool], ...]
    session: bool
    guards: tuple[tuple[str, bool], ...]
    outcome: str

    def to_json(self) -> dict[str, Any]:
        """The stored form: short keys, no indicator values (a 1m bot keeps 10k of these)."""
        return {
            "a": self.action,
            "r": self.reason,
            "d": self.desired,
            "c": self.score,
            "s": list(self.signals),
            "f": [[name, ok] for name, ok in self.filters],
            "ses": self.session,
            "g": [[name, ok] for name, ok in self.guards],
            "o": self.outcome,
        }


def _outcome(action: str, reason: str | None, desired: int, filters, session: bool) -> str:
    if action in ENTERED:
        return ENTERED[action]
    if action == EXIT:
        return f"exit:{reason}"
    if reason is None:
        return "in_position"
    if reason != "no_entry":
        return reason
    if desired == 0:
        return "no_signal"
    failed = [name for name, ok in filters if not ok]
    if failed:
        return f"filter:{failed[0]}"
    # a signal that passed filters and session enters unless its side is disabled
    return "out_of_session" if not session else "side_disabled"


def _record(candle_ms: int, action: str, reason: str | None, desired: int, score, signals,
            filters, session: bool, guards) -> JournalRecord:
    return JournalRecord(
        candle_ms, action, reason, desired, score, tuple(signals), tuple(filters), session,
        tuple(guards), _outcome(action, reason, desired, filters, session),
    )


def from_state(candle_ms: int, state: Mapping[str, Any]) -> JournalRecord:
    """The record of a live candle from the signal state the bot reported for it."""
    desired = 1 if state.get("long_signal") else -1 if state.get("short_signal") else 0
    return _record(
        candle_ms,
        state["action"],
        state.get("reason"),
        desired,
        state.get("score"),
        [s["score"] for s in state.get("signals", ())],
        [(f["type"], bool(f["pass"])) for f in state.get("filters", ())],
        bool(state.get("session", False)),
        list(state.get("guards", {}).items()),
    )


def backtest_journal(
    template: Template, candles: Candles, result: BacktestResult,
    config: BacktestConfig | None = None,
) -> list[JournalRecord]:
    """Every post-warm-up candle's record for a backtest ``result`` of ``template`` over
    ``candles`` (run with the same ``config``), as the live evaluator would have decided it."""
    config = config or result.config
    rules = Rules(template, config.qty_step)
    series, decision_ms, frame = market(rules, candles, config)
    n = len(candles.close)
    # what each candle was inside a trade: (action, reason) of the decision taken at its close
    held: dict[int, tuple[str, str | None]] = {}
    entries = {t.entry_index - 1: t for t in result.trades}
    exits: dict[int, object] = {}
    for t in result.trades:
        at_level = t.exit_reason in LEVEL_REASONS
        last = t.exit_index if at_level or t.exit_reason == "end_of_data" else t.exit_index - 1
        for i in range(t.entry_index, last + 1):
            held[i] = (HOLD, None)
        if t.exit_reason != "end_of_data":
            held[last] = (EXIT, t.exit_reason)
            if not at_level:
                exits[t.exit_index] = t  # closed at this candle's open: no entry on it
    names = [b.spec.type for b in rules.plan.filters]
    account = Account(config.initial_equity)
    closing = sorted(result.trades, key=lambda t: t.exit_index)
    c = 0
    out = []
    for i in range(first_decision(rules, candles, config), n):
        while c < len(closing) and closing[c].exit_index < i:
            account.close(closing[c])
            c += 1
        long_sig, short_sig = bool(frame.long_signal[i]), bool(frame.short_signal[i])
        desired = 1 if long_sig else -1 if short_sig else 0
        filters = [(names[k], bool(frame.filter_pass[k, i])) for k in range(len(names))]
        guards: list[tuple[str, bool]] = []
        if i in held:
            action, reason = held[i]
        elif i in exits:
            action, reason = HOLD, "position_closed_this_candle"
        elif frame.long_entry[i] or frame.short_entry[i]:
            side = ENTER_LONG if frame.long_entry[i] else ENTER_SHORT
            if i in entries:
                action, reason = side, None
                guards = list(entries[i].signal_state.get("guards", {}).items())
            else:
                now = int(decision_ms[i])
                d = rules.entry(side, account.state(now), now, float(candles.close[i]),
                                _atr(series, rules, i))
                action, reason = d.action, d.reason
                guards = list(d.signal_state.get("guards", {}).items())
        else:
            action, reason = HOLD, "no_entry"
        score = float(frame.combined[i])
        out.append(_record(
            int(candles.open_time_ms[i]), action, reason, desired,
            None if np.isnan(score) else score,
            [None if np.isnan(s) else float(s) for s in frame.scores[:, i]],
            filters, bool(frame.session[i]), guards,
        ))
    return out


def _atr(series: dict[str, np.ndarray], rules: Rules, i: int) -> float:
    return float(series[rules.atr_series][i]) if rules.atr_series else float("nan")
