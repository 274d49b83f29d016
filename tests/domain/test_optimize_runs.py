"""Parameter searches from the dashboard (`optimize:*`) over the real API and the real local
exchange: progress arrives live, the results are those of `strategy.optimize` run directly on
the same candles, cancel and crashes end the search's processes, a bad spec is refused naming
the field, one search per user, and another user sees nothing of it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.client import Client
from backend.optimize.service import optimize_service
from exchange.config import ExchangeConfig
from exchange.server import ExchangeServer
from strategy.indicators import Candles
from strategy.optimize import folds, parse_specs, sample, walk_forward
from tests.domain.conftest import World, local_exchange, sql
from tests.support.servers import ServerThread

TEMPLATE: dict[str, Any] = {
    "schema_version": 1, "name": "MA cross 1m", "symbol": "BTCUSDT", "timeframe": "1m",
    "signals": [{"type": "ma_cross", "params": {"fast": 5, "slow": 30, "mode": "trend"}}],
    "exits": [{"type": "opposite_signal"}],
    "combination": {"mode": "weighted_sum", "threshold": 1.0},
    "risk": {"sizing": {"mode": "fixed_quantity", "value": 0.01}},
}
PARAMS = ["signals.0.fast=2:30:1", "signals.0.slow=35:120:5"]  # 29 x 18 = 522 points
BIG = ["signals.0.fast=2:41:1", "signals.0.slow=45:185:1"]  # 40 x 141 = 5,640: refused, too many
LIVE = {"params": BIG, "kind": "random", "samples": 1000, "seed": 7, "kpi": "return_pct",
        "top": 5, "candles": 500, "train": 200, "test": 100}  # 3 folds: 3,000 backtests


@pytest.fixture(scope="module")
def exchange(world: World) -> Iterator[ExchangeServer]:
    """The local exchange (manual clock: its history stays put) as the `local` endpoint."""
    with local_exchange(world.dsn, ExchangeConfig(clock="manual", symbols=("BTCUSDT",),
                                                  seed=5)) as server:
        yield server


@pytest.fixture(scope="module")
def strategy_id(world: World, exchange: ExchangeServer) -> int:
    return world.api.m("strategies:create", {"template": TEMPLATE}, world.a.token)["id"]


def _start(world: World, strategy_id: int, token: str, **args: Any) -> Any:
    return world.api.call("action", "optimize:start", {"strategy_id": strategy_id, **args},
                          token)


def _wait(world: World, run_id: int, token: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = world.api.q("optimize:run", {"run_id": run_id}, token)
        if run["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def _group_gone(pid: int, timeout: float = 10) -> bool:
    """True once no process of the search's group (the child and its pool) is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


async def _watch(url: str, token: str, run_id: int) -> list[dict[str, Any]]:
    seen = []
    async with Client(url, token=token) as client:
        async for value in client.subscribe("optimize:run", {"run_id": run_id}):
            seen.append(value)
            if value["status"] not in ("queued", "running"):
                return seen
    return seen


def _direct(world: World, spec: dict[str, Any]) -> Any:
    """The same search through `strategy.optimize`, on the candles `market:history` serves."""
    history = world.api.ok("action", "market:history", {
        "exchange": "local", "symbol": "BTCUSDT", "timeframe": "1m",
        "limit": spec["candles"] + 1}, world.a.token)["candles"][:-1]
    candles = Candles.of([c["time"] * 1000 for c in history],
                         *([float(c[k]) for c in history]
                           for k in ("open", "high", "low", "close", "volume")))
    specs = parse_specs(TEMPLATE, spec["params"])
    windows = folds(len(candles.close), spec["train"], spec["test"])
    points = sample(specs, spec["samples"], spec["seed"])
    return walk_forward(TEMPLATE, specs, points, candles, windows, kpi=spec["kpi"],
                        workers=1, top=spec["top"])


def test_progress_arrives_live_and_the_results_are_the_engines(
        world: World, api_url: str, strategy_id: int) -> None:
    started = _start(world, strategy_id, world.a.token, **LIVE)
    assert started.status_code == 200, started.text
    run = started.json()["value"]
    assert (run["status"], run["total"], run["walk_forward"]["folds"]) == ("queued", 3000, 3)
    seen = asyncio.run(asyncio.wait_for(_watch(api_url, world.a.token, run["id"]), 180))
    done = [v["done"] for v in seen]
    assert seen[-1]["status"] == "done", seen[-1]
    assert done == sorted(done), "progress never goes back"
    assert any(0 < v["done"] < v["total"] for v in seen), f"no progress arrived live: {done}"

    wf = _direct(world, LIVE)
    final = seen[-1]
    assert final["trials"] == wf.trials == 3000 and final["done"] == final["total"]
    last = wf.results[-1]
    assert [r["values"] for r in final["ranked"]] == [list(x.values) for x in last.leaders]
    assert len(final["ranked"]) == 5
    for row, leader in zip(final["ranked"], last.leaders, strict=True):
        assert row["in_sample"] == leader.in_sample.to_json()
        assert row["out_of_sample"] == leader.out_of_sample.to_json()
    assert [(f["train"], f["test"], f["values"]) for f in final["folds"]] == [
        (list(r.fold.train), list(r.fold.test), list(r.values)) for r in wf.results]
    assert final["efficiency"] == pytest.approx(wf.efficiency)
    assert (final["warning"] is not None) == wf.collapsed
    listed = world.api.q("optimize:runs", {"strategy_id": strategy_id}, world.a.token)
    assert listed[0]["id"] == run["id"] and listed[0]["status"] == "done"


def test_a_bad_spec_or_an_oversized_search_is_refused_naming_the_field(
        world: World, strategy_id: int) -> None:
    cases = [
        ({"params": ["signals.0.fats=5:10:1"]}, "params", "has no parameter 'fats'"),
        ({"params": ["signals.0.fast=10:5:1"]}, "params", "START 10 is above STOP 5"),
        ({"params": BIG}, "params", "at most 5,000 per run"),
        ({"params": PARAMS, "kpi": "luck"}, "kpi", "cannot rank by 'luck'"),
        ({"params": PARAMS, "candles": 5000}, "candles", ""),
        ({"params": PARAMS, "train": 100}, "test", "needs both train and test"),
        ({"params": PARAMS, "train": 500, "test": 400}, "train", "hold no fold"),
        ({"params": PARAMS, "kind": "random"}, "samples", "needs samples"),
    ]
    for args, field, words in cases:
        response = _start(world, strategy_id, world.a.token, **args)
        assert response.status_code == 400, (args, response.text)
        error = response.json()["error"]
        assert error["field"] == field and words in error["message"], (args, error)
    assert sql(world.dsn, "SELECT count(*) AS n FROM optimization_runs")[0]["n"] == 1


def test_cancel_ends_the_search_and_one_search_runs_at_a_time(
        world: World, strategy_id: int) -> None:
    run = _start(world, strategy_id, world.a.token, params=BIG, kind="random", samples=4000,
                 candles=500).json()["value"]
    second = _start(world, strategy_id, world.a.token, params=PARAMS)
    assert second.status_code == 409
    assert f"search {run['id']} is still running" in second.json()["error"]["message"]
    pid = None
    deadline = time.monotonic() + 30
    while pid is None and time.monotonic() < deadline:
        pid = sql(world.dsn, "SELECT worker_pid FROM optimization_runs WHERE id = $1",
                  run["id"])[0]["worker_pid"]
        time.sleep(0.1)
    assert pid is not None
    cancelled = world.api.m("optimize:cancel", {"run_id": run["id"]}, world.a.token)
    assert cancelled["status"] == "cancelled"
    assert _group_gone(pid), "the search's processes outlived its cancel"
    assert _wait(world, run["id"], world.a.token)["status"] == "cancelled"
    again = world.api.call("mutation", "optimize:cancel", {"run_id": run["id"]}, world.a.token)
    assert again.status_code == 409 and "is cancelled, not queued or running" in again.text


def test_a_crashed_search_ends_failed_with_the_reason(world: World, strategy_id: int) -> None:
    run = _start(world, strategy_id, world.a.token, params=BIG, kind="random", samples=4000,
                 candles=500).json()["value"]
    pid, deadline = None, time.monotonic() + 30
    while pid is None and time.monotonic() < deadline:
        pid = sql(world.dsn, "SELECT worker_pid FROM optimization_runs WHERE id = $1",
                  run["id"])[0]["worker_pid"]
        time.sleep(0.1)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    ended = _wait(world, run["id"], world.a.token, timeout=30)
    assert ended["status"] == "failed"
    assert "ended without a result (killed by signal 9)" in ended["error"]
    assert _group_gone(pid)


def test_another_user_sees_nothing_of_a_search(world: World, strategy_id: int) -> None:
    [run] = sql(world.dsn, "SELECT id FROM optimization_runs ORDER BY id LIMIT 1")
    for kind, path, args in (("query", "optimize:run", {"run_id": run["id"]}),
                             ("mutation", "optimize:cancel", {"run_id": run["id"]}),
                             ("action", "optimize:start", {"strategy_id": strategy_id,
                                                           "params": PARAMS})):
        response = world.api.call(kind, path, args, world.b.token)
        assert response.status_code == 404, (path, response.text)
    assert world.api.q("optimize:runs", {"strategy_id": strategy_id}, world.b.token) == []
    assert world.api.call("query", "optimize:runs", {"strategy_id": strategy_id}).status_code \
        == 401


def test_stopping_the_api_fails_the_searches_it_follows(world: World, db_dsn: str,
                                                       exchange: ExchangeServer) -> None:
    token = world.b.token
    strategy = world.api.m("strategies:create", {"template": TEMPLATE}, token)["id"]
    with ServerThread(create_app(db_dsn, services=[optimize_service()])) as url:
        response = httpx.post(f"{url}/api/action", headers={"Authorization": f"Bearer {token}"},
                              json={"path": "optimize:start", "args": {
                                  "strategy_id": strategy, "params": BIG, "kind": "random",
                                  "samples": 4000, "candles": 500}}, timeout=60)
        assert response.status_code == 200, response.text
        run_id = response.json()["value"]["id"]
        pid, deadline = None, time.monotonic() + 30
        while pid is None and time.monotonic() < deadline:
            pid = sql(db_dsn, "SELECT worker_pid FROM optimization_runs WHERE id = $1",
                      run_id)[0]["worker_pid"]
            time.sleep(0.1)
        assert pid is not None
    run = world.api.q("optimize:run", {"run_id": run_id}, token)
    assert run["status"] == "failed" and run["error"] == "the API stopped while the search ran"
    assert _group_gone(pid)


def test_runs_left_running_are_failed_when_the_api_starts(world: World, db_dsn: str) -> None:
    user_id, strategy = world.a.user_id, world.a.strategy_id
    insert = ("INSERT INTO optimization_runs (user_id, strategy_id, strategy_version, params, "
              "kind, seed, kpi, top, candles, walk_forward, status, done, total, host, api_pid, "
              "created_at, beat_at) VALUES ($1, $2, 1, '[]', 'grid', 0, 'net_pnl', 10, 600, "
              "'{}', 'running', 3, 10, $3, $4, now(), now() - make_interval(secs => $5)) "
              "RETURNING id")
    mine = sql(db_dsn, insert, user_id, strategy, socket.gethostname(), os.getpid(), 0)[0]["id"]
    stale = sql(db_dsn, insert, user_id, strategy, "elsewhere", 1, 600)[0]["id"]
    alive = sql(db_dsn, insert, user_id, strategy, "elsewhere", 1, 0)[0]["id"]
    with ServerThread(create_app(db_dsn, services=[optimize_service()])):
        rows = {r["id"]: r for r in sql(db_dsn, "SELECT id, status, error FROM "
                                                "optimization_runs WHERE id = ANY($1)",
                                        [mine, stale, alive])}
    assert rows[mine]["status"] == "failed" and "API restarted" in rows[mine]["error"]
    assert rows[stale]["status"] == "failed" and "stopped reporting" in rows[stale]["error"]
    assert rows[alive]["status"] == "running"  # another host's live process follows it
