"""Parameter searches from the dashboard (`optimize:*`): `optimize:start` searches a strategy's
parameters over the exchange's candle history (what the dashboard backtests on), ranked by a
KPI and checked out of sample; `optimize:run` / `optimize:runs` follow it live.

The search is `strategy.optimize.walk_forward`, the engine of `plutarc optimize`, run in a
child process (backend/optimize/). The candles are split into folds: a training window
(in-sample: every point is backtested, the best ranked) and the test window after it
(out-of-sample: the best points backtested again on candles they were not chosen on). Without
walk-forward settings there is one fold: the first 70 % of the candles in-sample, the rest
out of sample. `ranked` holds the last fold's best points (the parameters to trade now),
`folds` each fold's winner; the warning follows the collapse rule of docs/strategy.md.

Invariants: a user has at most one run queued or running (`begin` refuses a second); a run is
`queued` until its process reports (`report`), then `running`; it leaves those exactly once,
for done, failed or cancelled, with `finished_at`; an active run's `beat_at` is at most
`BEAT_S` old while its API process follows it, so `reap` may fail any run older than
`STALE_S`.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Annotated, Any, Literal, TypedDict, get_type_hints

from pydantic import Field, StringConstraints

from backend.functions import market
from backend.optimize import child, follower
from backend.runtime import BadRequest, Conflict, Ctx, Id, NotFound, action, mutation, query
from strategy.kpis import Kpis
from strategy.optimize import RANK_KPIS, SpecError, folds

StrategyId = Id["strategies"]
RunId = Id["optimization_runs"]
Spec = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
MAX_TRIALS = 5_000  # backtests in one run (points x folds): a few minutes on 2 cores
MAX_CANDLES = 1_000  # the exchange's history, as `market:history` serves it
MIN_FOLD_CANDLES = 20
OUT_OF_SAMPLE_PCT = 30  # the test window without walk-forward settings
BEAT_S = 5.0
STALE_S = 60.0
ACTIVE = ("queued", "running")
SUMMARY = ("id, strategy_id, strategy_version, params, kind, samples, seed, kpi, top, "
           "candles, walk_forward, status, done, total, trials, efficiency, warning, error, "
           "created_at, finished_at")


# A backtest's KPIs as the result types declare them: the fields of the engine's `Kpis`
# (strategy/kpis.py), money as decimal strings.
KpiSet = TypedDict("KpiSet", get_type_hints(Kpis))  # type: ignore[misc]


class Ranked(TypedDict):
    """One of the best points: `values` in the order of the run's `params`."""

    values: list[int | float | str | bool]
    in_sample: KpiSet | None
    out_of_sample: KpiSet | None


class FoldRow(TypedDict):
    """One fold: candle index ranges [start, end), its winner (None: no valid point), and the
    winner's KPIs on the training and on the test window."""

    train: list[int]
    test: list[int]
    values: list[int | float | str | bool] | None
    in_sample: KpiSet | None
    out_of_sample: KpiSet | None
    trials: int


class WalkForwardSettings(TypedDict):
    train: int
    test: int
    step: int
    anchored: bool
    folds: int


class RunSummary(TypedDict):
    """A run as the list shows it; `done` of `total` trials is its progress."""

    id: int
    strategy_id: int
    strategy_version: int
    params: list[str]
    kind: str
    samples: int | None
    seed: int
    kpi: str
    top: int
    candles: int
    walk_forward: WalkForwardSettings
    status: str
    done: int
    total: int
    trials: int | None
    efficiency: float | None
    warning: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class RunDetail(RunSummary):
    """A run with its results (empty until it is done)."""

    ranked: list[Ranked]
    folds: list[FoldRow]


def _detail(row: dict[str, Any]) -> RunDetail:
    tables = {"ranked": row["ranked"] or [], "folds": row["folds"] or []}
    return {**row, **tables}  # type: ignore[typeddict-item]


@query
async def runs(ctx: Ctx, strategy_id: StrategyId,
               limit: Annotated[int, Field(ge=1, le=100)] = 20) -> list[RunSummary]:
    """The caller's runs of one strategy, newest first."""
    user_id = ctx.auth.require_user()
    return await ctx.db.fetch(
        f"SELECT {SUMMARY} FROM optimization_runs WHERE user_id = $1 AND strategy_id = $2 "
        "ORDER BY id DESC LIMIT $3", user_id, strategy_id, limit)


@query
async def run(ctx: Ctx, run_id: RunId) -> RunDetail:
    """One of the caller's runs with its ranked results and folds."""
    user_id = ctx.auth.require_user()
    row = await ctx.db.fetchrow(
        f"SELECT {SUMMARY}, ranked, folds FROM optimization_runs WHERE id = $1 AND user_id = $2",
        run_id, user_id)
    if row is None:
        raise NotFound(f"no optimization run {run_id}", field="run_id")
    return _detail(row)


def _windows(count: int, train: int | None, test: int | None, step: int | None,
             anchored: bool) -> WalkForwardSettings:
    if (train is None) != (test is None):
        raise BadRequest("walk-forward needs both train and test (candles per window)",
                         field="train" if train is None else "test")
    if train is None or test is None:
        test = count * OUT_OF_SAMPLE_PCT // 100
        train = count - test
    for name, value in (("train", train), ("test", test)):
        if value < MIN_FOLD_CANDLES:
            raise BadRequest(f"{name} is {value} candles; a window needs at least "
                             f"{MIN_FOLD_CANDLES}", field=name)
    try:
        found = folds(count, train, test, step, anchored)
    except ValueError as exc:
        raise BadRequest(f"walk-forward: {exc}",
                         field="step" if "step" in str(exc) else "train") from None
    return {"train": train, "test": test, "step": test if step is None else step,
            "anchored": anchored, "folds": len(found)}


@action
async def start(
    ctx: Ctx,
    strategy_id: StrategyId,
    params: Annotated[list[Spec], Field(min_length=1, max_length=8)],
    kpi: str = "net_pnl",
    kind: Literal["grid", "random"] = "grid",
    samples: Annotated[int, Field(ge=1, le=MAX_TRIALS)] | None = None,
    seed: int = 0,
    top: Annotated[int, Field(ge=1, le=50)] = 10,
    candles: Annotated[int, Field(ge=100, le=MAX_CANDLES)] = MAX_CANDLES,
    train: Annotated[int, Field(ge=1)] | None = None,
    test: Annotated[int, Field(ge=1)] | None = None,
    step: Annotated[int, Field(ge=1)] | None = None,
    anchored: bool = False,
    exchange: market.Exchange = "local",
    testnet: bool = False,
) -> RunSummary:
    """Start a search of the strategy's newest version over the latest `candles` closed
    candles of its symbol and timeframe on `exchange`; returns the run (follow it with
    `optimize:run`). `params` are `PATH=START:STOP:STEP` or `PATH=a,b,c` as for
    `plutarc optimize`; `kind` random tries `samples` points drawn with `seed`. Refused (409)
    while the caller has another search running."""
    assert ctx.query is not None and ctx.mutation is not None
    if kpi not in RANK_KPIS:
        raise BadRequest(f"cannot rank by {kpi!r}; choose one of {', '.join(RANK_KPIS)}",
                         field="kpi")
    if (kind == "random") != (samples is not None):
        raise BadRequest("a random search needs samples (points to draw); a grid takes none",
                         field="samples")
    strategy = await ctx.query("strategies:get", {"strategy_id": strategy_id})
    template = strategy["template"]
    spec = {"params": params, "kind": kind, "samples": samples, "seed": seed, "kpi": kpi,
            "top": top}
    try:
        _, points = child.points_of(template, spec)
    except SpecError as exc:
        raise BadRequest(f"params: {exc}", field="params") from None
    history = await market.history(ctx, exchange, template["symbol"], template["timeframe"],
                                   testnet, min(MAX_CANDLES, candles + 1))
    rows = history["candles"][:-1]  # the newest candle is still forming
    if len(rows) < 2 * MIN_FOLD_CANDLES:
        raise BadRequest(f"{exchange} has {len(rows)} closed candles of {template['symbol']} "
                         f"{template['timeframe']}; a search needs at least "
                         f"{2 * MIN_FOLD_CANDLES}", field="candles")
    windows = _windows(len(rows), train, test, step, anchored)
    total = len(points) * windows["folds"]
    if total > MAX_TRIALS:
        raise BadRequest(
            f"{len(points):,} points x {windows['folds']} folds = {total:,} backtests; at most "
            f"{MAX_TRIALS:,} per run (narrow a range, use a random search, or fewer folds)",
            field="samples" if kind == "random" else "params")
    spec["folds"] = [[*f.train, *f.test] for f in folds(
        len(rows), windows["train"], windows["test"], windows["step"], anchored)]
    run_row = await ctx.mutation("optimize:begin", {
        "strategy_id": strategy_id, "strategy_version": strategy["template_version"],
        "params": params, "kind": kind, "samples": None if samples is None else len(points),
        "seed": seed, "kpi": kpi, "top": top, "candles": len(rows), "walk_forward": windows,
        "total": total, "host": socket.gethostname(), "api_pid": os.getpid()})
    try:
        await follower.start(run_row["id"], template, spec, child.candles_of(rows),
                             ctx.mutation)
    except Exception as exc:  # no process: the run must not stay running
        await ctx.mutation("optimize:finish", {
            "run_id": run_row["id"], "status": "failed",
            "error": f"the search process could not start: {type(exc).__name__}"})
        raise
    return run_row


@mutation(internal=True)
async def begin(ctx: Ctx, strategy_id: StrategyId, strategy_version: int, params: list[str],
                kind: str, samples: int | None, seed: int, kpi: str, top: int, candles: int,
                walk_forward: dict[str, Any], total: int, host: str, api_pid: int
                ) -> RunSummary:
    """Record a run as queued, unless the caller already has one queued or running (409)."""
    user_id = ctx.auth.require_user()
    busy = await ctx.db.fetchval(
        "SELECT id FROM optimization_runs WHERE user_id = $1 AND status = ANY($2::text[]) "
        "LIMIT 1", user_id, list(ACTIVE))
    if busy is not None:
        raise Conflict(f"search {busy} is still running: cancel it or wait for it to end "
                       "(one search at a time)", field="strategy_id")
    return await ctx.db.fetchrow(
        "INSERT INTO optimization_runs (user_id, strategy_id, strategy_version, params, kind, "
        "samples, seed, kpi, top, candles, walk_forward, status, done, total, host, api_pid, "
        "created_at, beat_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
        f"'queued', 0, $12, $13, $14, now(), now()) RETURNING {SUMMARY}",
        user_id, strategy_id, strategy_version, params, kind, samples, seed, kpi, top, candles,
        walk_forward, total, host, api_pid)


@mutation(internal=True)
async def report(ctx: Ctx, run_id: RunId, done: int, worker_pid: int) -> str:
    """The follower's progress and heartbeat (the first moves the run from queued to running);
    the run's status (not `running`: stop)."""
    row = await ctx.db.fetchrow(
        "SELECT status, done, worker_pid, now() - beat_at > make_interval(secs => $2) AS due "
        "FROM optimization_runs WHERE id = $1", run_id, BEAT_S)
    if row is None:
        return "gone"
    if row["status"] in ACTIVE and (row["status"] == "queued" or row["done"] != done
                                    or row["worker_pid"] != worker_pid or row["due"]):
        await ctx.db.execute(
            "UPDATE optimization_runs SET status = 'running', done = $2, worker_pid = $3, "
            "beat_at = now() WHERE id = $1", run_id, done, worker_pid)
        return "running"
    return row["status"]


@mutation(internal=True)
async def finish(ctx: Ctx, run_id: RunId, status: Literal["done", "failed"],
                 result: dict[str, Any] | None = None, error: str | None = None) -> bool:
    """End an active run with its result or the reason it failed; False if it had already
    ended (cancelled meanwhile)."""
    result = result or {}
    tag = await ctx.db.execute(
        "UPDATE optimization_runs SET status = $2::text, error = $3, trials = $4, ranked = $5, "
        "folds = $6, efficiency = $7, warning = $8, finished_at = now(), "
        "done = CASE WHEN $2::text = 'done' THEN total ELSE done END "
        "WHERE id = $1 AND status = ANY($9::text[])",
        run_id, status, error, result.get("trials"), result.get("ranked"),
        result.get("folds"), result.get("efficiency"), result.get("warning"), list(ACTIVE))
    return tag.endswith(" 1")


@mutation
async def cancel(ctx: Ctx, run_id: RunId) -> RunSummary:
    """Cancel one of the caller's running searches; its processes end within a second."""
    user_id = ctx.auth.require_user()
    row = await ctx.db.fetchrow(
        "UPDATE optimization_runs SET status = 'cancelled', finished_at = now() "
        f"WHERE id = $1 AND user_id = $2 AND status = ANY($3::text[]) RETURNING {SUMMARY}",
        run_id, user_id, list(ACTIVE))
    if row is not None:
        return row
    status = await ctx.db.fetchval(
        "SELECT status FROM optimization_runs WHERE id = $1 AND user_id = $2", run_id, user_id)
    if status is None:
        raise NotFound(f"no optimization run {run_id}", field="run_id")
    raise Conflict(f"run {run_id} is {status}, not queued or running", field="run_id")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@mutation(internal=True)
async def reap(ctx: Ctx, host: str, api_pid: int, starting: bool = False) -> int:
    """Fail the runs nobody follows any more: those whose heartbeat is older than `STALE_S`,
    and (`starting`: an API process starting on `host`) those an earlier process on this host
    left running — its pid is gone, or is this very process's (a restart in a container)."""
    stale = await ctx.db.fetch(
        "SELECT id FROM optimization_runs WHERE status = ANY($1::text[]) "
        "AND beat_at < now() - make_interval(secs => $2)", list(ACTIVE), STALE_S)
    ended = [(r["id"], "the search stopped reporting: the API process following it ended")
             for r in stale]
    if starting:
        mine = await ctx.db.fetch(
            "SELECT id, api_pid FROM optimization_runs WHERE status = ANY($1::text[]) "
            "AND host = $2", list(ACTIVE), host)
        ended += [(r["id"], "the API restarted while the search ran") for r in mine
                  if r["api_pid"] == api_pid or not _alive(r["api_pid"])]
    for run_id, reason in dict(ended).items():
        await ctx.db.execute(
            "UPDATE optimization_runs SET status = 'failed', error = $2, finished_at = now() "
            "WHERE id = $1 AND status = ANY($3::text[])", run_id, reason, list(ACTIVE))
    return len(dict(ended))
