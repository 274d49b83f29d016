"""Trade analytics of one bot or of all a user's bots (`insights:analytics`): where the PnL comes
from and how well exits keep what the market offered.

- PnL by exit reason, by UTC hour and weekday of the entry, and by named session of the
  entry (`strategy.sessions.NAMED_SESSIONS`, Monday to Friday; sessions overlap, so a trade
  can count in two; `off_session` when in none).
- Excursions: each trade's MFE and MAE (quote currency, >= 0) with its exit efficiency =
  gross PnL (before fees) / MFE — the share of the favourable excursion the exit kept
  (None when the trade never moved in its favour).
- Attribution per signal component: the median of its score at entry over the trades that
  carry a signal state, then the trades scoring above it vs at or below it, and their PnL.

Pure functions over trade rows; money stays Decimal.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from backend.runtime.executor import Executor
from strategy.sessions import DAYS, NAMED_SESSIONS, WEEKDAYS, parse_hhmm


class Bucket(TypedDict):
    """Trades of one group: count, winners (pnl > 0) and net PnL."""

    key: str
    trades: int
    wins: int
    pnl: Decimal


class Excursion(TypedDict):
    """One trade's point on the MFE/MAE scatter."""

    trade_id: int
    mfe: Decimal
    mae: Decimal
    pnl: Decimal
    efficiency: float | None


class Attribution(TypedDict):
    """One signal component: its median score at entry and the trades on each side of it."""

    index: int
    type: str
    median_score: float
    above: Bucket
    at_or_below: Bucket


class Analytics(TypedDict):
    """Trade analytics over a period (module docstring); hours and weekdays are UTC."""

    trades: int
    by_exit_reason: list[Bucket]
    by_hour: list[Bucket]
    by_weekday: list[Bucket]
    by_session: list[Bucket]
    excursions: list[Excursion]
    mean_efficiency: float | None
    attribution: list[Attribution]


COLUMNS = "id, quantity, entry_at, exit_at, fees, pnl, exit_reason, signal_state, mfe, mae"


def _buckets(keyed: Iterable[tuple[str, dict[str, Any]]], order: Sequence[str] | None = None
             ) -> list[Bucket]:
    out: dict[str, Bucket] = {k: {"key": k, "trades": 0, "wins": 0, "pnl": Decimal(0)}
                              for k in order or ()}
    for key, t in keyed:
        b = out.setdefault(key, {"key": key, "trades": 0, "wins": 0, "pnl": Decimal(0)})
        b["trades"] += 1
        b["wins"] += t["pnl"] > 0
        b["pnl"] += t["pnl"]
    return list(out.values()) if order else sorted(out.values(), key=lambda b: b["key"])


def sessions_of(at: datetime) -> list[str]:
    """The named sessions `at` (UTC) falls in; ["off_session"] when none."""
    minute = at.hour * 60 + at.minute
    names = [
        name for name, (start, end) in NAMED_SESSIONS.items()
        if DAYS[at.weekday()] in WEEKDAYS and parse_hhmm(start) <= minute < parse_hhmm(end)
    ]
    return names or ["off_session"]


def _efficiency(t: dict[str, Any]) -> float | None:
    mfe = abs(t["mfe"]) if t["mfe"] is not None else Decimal(0)
    return float((t["pnl"] + t["fees"]) / mfe) if mfe > 0 else None


def _attribution(trades: list[dict[str, Any]]) -> list[Attribution]:
    scored = [t for t in trades if (t["signal_state"] or {}).get("signals")]
    if not scored:
        return []
    out: list[Attribution] = []
    for k, sig in enumerate(scored[0]["signal_state"]["signals"]):
        pairs = [(t["signal_state"]["signals"][k].get("score"), t) for t in scored
                 if len(t["signal_state"]["signals"]) > k]
        pairs = [(s, t) for s, t in pairs if s is not None]
        if not pairs:
            continue
        median = statistics.median(s for s, _ in pairs)
        above = _buckets((("above", t) for s, t in pairs if s > median), ["above"])[0]
        below = _buckets((("at_or_below", t) for s, t in pairs if s <= median),
                         ["at_or_below"])[0]
        out.append({"index": k, "type": sig.get("type", f"signal_{k}"),
                    "median_score": float(median), "above": above, "at_or_below": below})
    return out


def analyze(trades: list[dict[str, Any]]) -> Analytics:
    """Analytics of closed trades (rows with `COLUMNS`); see the module docstring."""
    excursions: list[Excursion] = [
        {"trade_id": t["id"], "mfe": abs(t["mfe"] or 0), "mae": abs(t["mae"] or 0),
         "pnl": t["pnl"], "efficiency": _efficiency(t)}
        for t in trades
    ]
    kept = [e["efficiency"] for e in excursions if e["efficiency"] is not None]
    return {
        "trades": len(trades),
        "by_exit_reason": _buckets((t["exit_reason"] or "unknown", t) for t in trades),
        "by_hour": _buckets(((f"{t['entry_at'].hour:02d}", t) for t in trades),
                            [f"{h:02d}" for h in range(24)]),
        "by_weekday": _buckets(((DAYS[t["entry_at"].weekday()], t) for t in trades), DAYS),
        "by_session": _buckets(((s, t) for t in trades for s in sessions_of(t["entry_at"])),
                               [*NAMED_SESSIONS, "off_session"]),
        "excursions": excursions,
        "mean_efficiency": statistics.fmean(kept) if kept else None,
        "attribution": _attribution(trades),
    }


async def trade_analytics(db: Executor, column: str, owner_id: int,
                          start: datetime | None, end: datetime | None) -> Analytics:
    """Analytics of the trades of `column` (bot_id or user_id) = `owner_id` that exited in
    [start, end)."""
    assert column in ("bot_id", "user_id")
    rows = await db.fetch(
        f"SELECT {COLUMNS} FROM trades WHERE {column} = $1 "
        "AND ($2::timestamptz IS NULL OR exit_at >= $2) "
        "AND ($3::timestamptz IS NULL OR exit_at < $3) ORDER BY exit_at, id",
        owner_id, start, end,
    )
    return analyze(rows)

