"""KPIs of a bot or of a user's bots, kept as running aggregates so that reading them costs
one row (plus ~one row per bot per day for Sharpe/Sortino) however long the history.

Definitions (money in the account currency; a trade's `pnl` is net of its fees):

- trade_count; net_pnl = Σ pnl; fees_paid = Σ fees; gross_profit = Σ pnl > 0;
  gross_loss = −Σ pnl < 0; win_rate = wins / trades (a win has pnl > 0; 0..1);
  profit_factor = gross_profit / gross_loss (null without losses);
  expectancy = net_pnl / trades; avg_hold_seconds = mean of exit − entry.
- initial_equity = each bot's earliest equity snapshot (summed over a user's bots);
  return_pct = 100 · net_pnl / initial_equity (null without equity snapshots).
- max_drawdown: the realised equity curve is initial_equity + cumulative net pnl with trades
  in exit order; max_drawdown is the largest fall from a running peak (money),
  max_drawdown_pct that fall in % of the peak (null without initial equity).
- sharpe / sortino: from daily returns of equity (each bot's last snapshot of each UTC day,
  table equity_daily; a day's return is Σ change / Σ previous close over the bots that have
  both days), annualised with √365: sharpe = mean / sample stdev · √365, sortino = mean /
  √(mean(min(r, 0)²)) · √365; null with fewer than two returns or no dispersion/downside.
- exposure: time with at least one position open (union of trade intervals) / time from the
  first entry to the last exit (0..1). Both are measured on one grid of whole seconds (each
  time floored to its second), so the ratio never exceeds 1: rounding each trade's part to
  the nearest second while the span stayed exact once summed to 1.000029.

Ratios are rounded to 6 decimal places.

How it stays fast: `kpi_totals` holds one row per bot and per user, updated in the same
transaction as each reported trade (`record_trade`) and each equity report (`record_equity`).
A trade that exits in order extends the drawdown incrementally; one that exits before an
already-recorded trade, or a new initial equity, recomputes the drawdown in SQL
(`_DRAWDOWN`, one pass over that owner's trades — rare). Exposure adds, for each trade, the
part of its interval not covered by the trades overlapping it (an index range, not history).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, TypedDict

from backend.runtime.executor import Executor

Scope = Literal["bot_id", "user_id"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)

_ENSURE = (
    "INSERT INTO kpi_totals (owner_key, user_id, bot_id, trade_count, wins, net_pnl, fees, "
    "gross_profit, gross_loss, hold_seconds, max_cum_pnl, max_drawdown, exposure_seconds) "
    "VALUES ($1, $2, $3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) ON CONFLICT (owner_key) DO NOTHING"
)
_TOTALS = "SELECT * FROM kpi_totals WHERE owner_key = $1"
_OVERLAPS = (
    "SELECT entry_at, exit_at FROM trades WHERE {col} = $1 AND id <> $2 "
    "AND exit_at > $3 AND entry_at < $4"
)
_DRAWDOWN = """
WITH curve AS (
    SELECT exit_at, id, sum(pnl) OVER (ORDER BY exit_at, id ROWS UNBOUNDED PRECEDING) AS cum
    FROM trades WHERE {col} = $1
), marked AS (
    SELECT cum, greatest(0, max(cum) OVER (ORDER BY exit_at, id ROWS UNBOUNDED PRECEDING))
        AS max_cum
    FROM curve
)
SELECT coalesce(greatest(0, max(cum)), 0) AS max_cum, coalesce(max(max_cum - cum), 0) AS dd,
       max((max_cum - cum) / nullif($2::numeric + max_cum, 0)) FILTER (WHERE $2::numeric > 0)
           AS frac
FROM marked
"""
_RISK_ADJUSTED = """
WITH changes AS (
    SELECT day, equity - lag(equity) OVER w AS delta, lag(equity) OVER w AS prev
    FROM equity_daily WHERE {col} = $1 WINDOW w AS (PARTITION BY bot_id ORDER BY day)
), returns AS (
    SELECT sum(delta) / nullif(sum(prev), 0) AS r FROM changes
    WHERE prev IS NOT NULL GROUP BY day
)
SELECT round(avg(r) / nullif(stddev_samp(r), 0) * sqrt(365::numeric), 6) AS sharpe,
       round(avg(r) / nullif(sqrt(avg(least(r, 0) ^ 2)), 0) * sqrt(365::numeric), 6)
           AS sortino
FROM returns WHERE r IS NOT NULL
"""


def owner_key(scope: Scope, owner_id: int) -> str:
    return f"{'bot' if scope == 'bot_id' else 'user'}:{owner_id}"


def _trim(value: Decimal | None) -> Decimal | None:
    """Drop trailing zeros of a NUMERIC(36,12) without switching to exponent notation."""
    if value is None:
        return None
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def _ratio(numerator: Any, denominator: Any) -> Decimal | None:
    if not denominator:
        return None
    return round(Decimal(numerator) / Decimal(denominator), 6)


def whole_s(at: datetime) -> int:
    """`at` on exposure's grid: whole seconds since the epoch, floored (exact, no float)."""
    return (at - EPOCH) // SECOND


def covered_seconds(start: datetime, end: datetime,
                    others: list[tuple[datetime, datetime]]) -> int:
    """How much of [start, end] the union of the `others` intervals covers, in seconds on
    exposure's grid (`whole_s`)."""
    lo, hi = whole_s(start), whole_s(end)
    clipped = sorted((max(whole_s(s), lo), min(whole_s(e), hi)) for s, e in others)
    total, reach = 0, lo
    for s, e in clipped:
        if e > reach and e > s:
            total += e - max(s, reach)
            reach = e
    return total


async def ensure_totals(db: Executor, user_id: int, bot_id: int) -> None:
    """Create the aggregate rows of a new bot and (if needed) of its user."""
    await db.execute(_ENSURE, owner_key("bot_id", bot_id), user_id, bot_id)
    await db.execute(_ENSURE, owner_key("user_id", user_id), user_id, None)


async def _rebuild_drawdown(db: Executor, scope: Scope, owner_id: int,
                            initial: Decimal | None) -> dict[str, Any]:
    row = await db.fetchrow(_DRAWDOWN.format(col=scope), owner_id, initial or 0)
    return {"max_cum": row["max_cum"], "dd": row["dd"], "frac": row["frac"]} if row else {}


async def _add_trade(db: Executor, scope: Scope, owner_id: int, trade: dict[str, Any]) -> None:
    key = owner_key(scope, owner_id)
    t = await db.fetchrow(_TOTALS, key)
    assert t is not None, f"kpi_totals row {key} is missing"
    entry, exit_, pnl = trade["entry_at"], trade["exit_at"], trade["pnl"]
    overlaps = await db.fetch(_OVERLAPS.format(col=scope), owner_id, trade["id"], entry, exit_)
    others = [(o["entry_at"], o["exit_at"]) for o in overlaps]
    exposure = whole_s(exit_) - whole_s(entry) - covered_seconds(entry, exit_, others)
    net = t["net_pnl"] + pnl
    if t["last_exit_at"] is None or exit_ >= t["last_exit_at"]:
        max_cum = max(t["max_cum_pnl"], net)
        dd = max_cum - net
        frac = t["max_drawdown_frac"]
        if t["initial_equity"] and t["initial_equity"] + max_cum > 0:
            frac = max(frac or Decimal(0), dd / (t["initial_equity"] + max_cum))
        curve = {"max_cum": max_cum, "dd": max(t["max_drawdown"], dd), "frac": frac}
    else:  # exits before a recorded trade: the curve's order changed
        curve = await _rebuild_drawdown(db, scope, owner_id, t["initial_equity"])
    await db.execute(
        "UPDATE kpi_totals SET trade_count = trade_count + 1, wins = wins + $2, net_pnl = $3, "
        "fees = fees + $4, gross_profit = gross_profit + $5, gross_loss = gross_loss + $6, "
        "hold_seconds = hold_seconds + $7, max_cum_pnl = $8, max_drawdown = $9, "
        "max_drawdown_frac = $10, first_entry_at = least(first_entry_at, $11), "
        "last_exit_at = greatest(last_exit_at, $12), exposure_seconds = exposure_seconds + $13 "
        "WHERE owner_key = $1",
        key, int(pnl > 0), net, trade["fees"], max(pnl, Decimal(0)), max(-pnl, Decimal(0)),
        trade["hold_seconds"], curve["max_cum"], curve["dd"],
        round(curve["frac"], 12) if curve["frac"] is not None else None, entry, exit_,
        exposure,
    )


async def record_trade(db: Executor, bot: dict[str, Any], trade: dict[str, Any]) -> None:
    """Fold a newly inserted trade (id, entry_at, exit_at, pnl, fees, hold_seconds) into the
    bot's and the user's aggregates."""
    await _add_trade(db, "bot_id", bot["id"], trade)
    await _add_trade(db, "user_id", bot["user_id"], trade)


async def record_equity(db: Executor, bot: dict[str, Any], at: datetime, equity: Decimal
                        ) -> None:
    """Keep the day's closing equity, and the initial equity when this is the earliest."""
    await db.execute(
        "INSERT INTO equity_daily (bot_id, user_id, day, at, equity) "
        "VALUES ($1, $2, ($3::timestamptz AT TIME ZONE 'UTC')::date, $3, $4) "
        "ON CONFLICT (bot_id, day) DO UPDATE SET at = EXCLUDED.at, equity = EXCLUDED.equity "
        "WHERE equity_daily.at <= EXCLUDED.at",
        bot["id"], bot["user_id"], at, equity,
    )
    key = owner_key("bot_id", bot["id"])
    t = await db.fetchrow(_TOTALS, key)
    if t is None or (t["initial_at"] is not None and at >= t["initial_at"]):
        return
    await db.execute("UPDATE kpi_totals SET initial_equity = $2, initial_at = $3 "
                     "WHERE owner_key = $1", key, equity, at)
    user_key = owner_key("user_id", bot["user_id"])
    await db.execute(
        "UPDATE kpi_totals SET initial_equity = (SELECT sum(initial_equity) FROM kpi_totals "
        "WHERE user_id = $2 AND bot_id IS NOT NULL) WHERE owner_key = $1",
        user_key, bot["user_id"],
    )
    for scope, owner, k in (("bot_id", bot["id"], key), ("user_id", bot["user_id"], user_key)):
        initial = await db.fetchval("SELECT initial_equity FROM kpi_totals WHERE owner_key = $1",
                                    k)
        curve = await _rebuild_drawdown(db, scope, owner, initial)
        await db.execute("UPDATE kpi_totals SET max_cum_pnl = $2, max_drawdown = $3, "
                         "max_drawdown_frac = $4 WHERE owner_key = $1",
                         k, curve["max_cum"], curve["dd"],
                         round(curve["frac"], 12) if curve["frac"] is not None else None)


class Kpis(TypedDict):
    """The KPIs of a bot or a user (definitions in the module docstring); exact decimals,
    None where undefined (e.g. no trades yet)."""

    trade_count: int
    net_pnl: Decimal | None
    fees_paid: Decimal | None
    gross_profit: Decimal | None
    gross_loss: Decimal | None
    win_rate: Decimal | None
    profit_factor: Decimal | None
    expectancy: Decimal | None
    avg_hold_seconds: Decimal | None
    initial_equity: Decimal | None
    return_pct: Decimal | None
    max_drawdown: Decimal | None
    max_drawdown_pct: Decimal | None
    exposure: Decimal | None
    sharpe: Decimal | None
    sortino: Decimal | None


async def compute_kpis(db: Executor, scope: Scope, owner_id: int) -> Kpis:
    """Every KPI of the module docstring for the bot (`bot_id`) or user (`user_id`)."""
    if scope not in ("bot_id", "user_id"):
        raise ValueError(f"unknown KPI scope {scope!r}")
    t = await db.fetchrow(_TOTALS, owner_key(scope, owner_id)) or {}
    n = t.get("trade_count", 0)
    net = t.get("net_pnl", Decimal(0))
    initial = t.get("initial_equity")
    first, last = t.get("first_entry_at"), t.get("last_exit_at")
    span = whole_s(last) - whole_s(first) if first and last else 0
    frac = t.get("max_drawdown_frac")
    out: dict[str, Any] = {
        "trade_count": n,
        "net_pnl": _trim(net),
        "fees_paid": _trim(t.get("fees", Decimal(0))),
        "gross_profit": _trim(t.get("gross_profit", Decimal(0))),
        "gross_loss": _trim(t.get("gross_loss", Decimal(0))),
        "win_rate": _ratio(t.get("wins", 0), n),
        "profit_factor": _ratio(t.get("gross_profit"), t.get("gross_loss")),
        "expectancy": _ratio(net, n),
        "avg_hold_seconds": _ratio(t.get("hold_seconds", 0), n),
        "initial_equity": _trim(initial),
        "return_pct": _ratio(100 * net, initial),
        "max_drawdown": _trim(t.get("max_drawdown", Decimal(0))),
        "max_drawdown_pct": round(100 * frac, 6) if frac is not None and initial else None,
        "exposure": _ratio(t.get("exposure_seconds", 0), span),
    }
    out.update(await db.fetchrow(_RISK_ADJUSTED.format(col=scope), owner_id)
               or {"sharpe": None, "sortino": None})
    return out  # type: ignore[return-value]
