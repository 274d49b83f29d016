"""The decision journal through the API: what a bot reports per candle becomes the journal the
backtester rebuilds for the same candles, `insights:decisions` is live, fast for a day of 1m
candles, tenant-checked, and refuses bad ranges."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from backend.client import Client
from bot.reporting import json_safe
from strategy.backtest import BacktestConfig, run_backtest
from strategy.backtest.synthetic import random_walk
from strategy.decision import WARMING_UP
from strategy.journal import backtest_journal
from strategy.template import validate_template
from tests.domain.conftest import World, sql
from tests.domain.test_live_isolation import next_value
from tests.strategy.test_evaluator import RICH, replay

DAY0 = datetime(2026, 2, 2, tzinfo=UTC)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def test_reported_states_make_the_journal_the_backtester_rebuilds(world: World) -> None:
    api, token = world.api, world.a.bot_token
    tpl = validate_template(RICH)
    start_ms = int(DAY0.timestamp() * 1000)
    cs = random_walk(300, seed=3, volatility=0.002, trend=0.3, start_ms=start_ms)
    seen: list = []
    replay(tpl, cs, seen)
    for c, d in seen:
        if d.action != WARMING_UP:
            state = json_safe({**d.signal_state, "action": d.action, "reason": d.reason})
            api.m("bot:reportSignalState", {"report_id": f"signal:{c.open_time_ms}",
                                            "candle_at": iso(c.open_time_ms), "state": state},
                  token)
    rows = api.q("insights:decisions", {"bot_id": world.a.bot_id, "start": DAY0.isoformat(),
                                    "end": (DAY0 + timedelta(days=1)).isoformat()},
                 world.a.token)
    config = BacktestConfig(taker_fee=0)
    expected = backtest_journal(tpl, cs, run_backtest(tpl, cs, config), config)
    assert [r["record"] for r in rows] == [e.to_json() for e in expected]
    assert [r["outcome"] for r in rows] == [e.outcome for e in expected]
    assert [r["candle_at"] for r in rows] == [iso(e.candle_ms) for e in expected]
    # another user's bot is not found; a backwards or too long range names the field
    other = api.call("query", "insights:decisions", {"bot_id": world.a.bot_id,
                     "start": DAY0.isoformat(), "end": (DAY0 + timedelta(1)).isoformat()},
                     world.b.token)
    assert other.status_code == 404
    for end, why in ((DAY0 - timedelta(1), "after start"), (DAY0 + timedelta(8), "7 days")):
        bad = api.call("query", "insights:decisions", {"bot_id": world.a.bot_id,
                       "start": DAY0.isoformat(), "end": end.isoformat()}, world.a.token)
        assert bad.status_code == 400 and why in bad.text and '"end"' in bad.text


def test_a_day_of_1m_decisions_answers_within_5x_of_50_ms(world: World) -> None:
    bot = world.b
    day = DAY0 + timedelta(days=3)
    record = ('{"a":"hold","r":"no_entry","d":0,"c":0.1,"s":[0.1,0.2,-0.3],'
              '"f":[["volatility_band",true]],"ses":true,"g":[],"o":"no_signal"}')
    sql(world.dsn, "INSERT INTO decisions (bot_id, user_id, candle_at, outcome, record) "
        "SELECT $1, $2, $3::timestamptz + i * interval '1 minute', 'no_signal', $4::jsonb "
        "FROM generate_series(0, 1439) i", bot.bot_id, bot.user_id, day, record)
    args = {"bot_id": bot.bot_id, "start": day.isoformat(),
            "end": (day + timedelta(days=1)).isoformat()}
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        rows = world.api.q("insights:decisions", args, bot.token)
        times.append(time.perf_counter() - t0)
    assert len(rows) == 1440 and rows[0]["record"]["o"] == "no_signal"
    assert statistics.median(times) < 0.050 * 5, times


async def test_the_journal_is_live(world: World) -> None:
    day = DAY0 + timedelta(days=5)
    args = {"bot_id": world.a.bot_id, "start": day.isoformat(),
            "end": (day + timedelta(hours=1)).isoformat()}
    async with Client(world.api.url, world.a.token) as owner, \
            Client(world.api.url, world.a.bot_token) as bot:
        journal = owner.subscribe("insights:decisions", args)
        assert await next_value(journal) == []
        state = {"score": 0.0, "long_signal": False, "short_signal": False, "session": True,
                 "signals": [{"score": 0.0}], "filters": [], "action": "hold",
                 "reason": "no_entry"}
        await bot.mutation("bot:reportSignalState", {
            "report_id": "signal:live", "candle_at": day.isoformat(), "state": state})
        rows = await next_value(journal)
        assert [r["outcome"] for r in rows] == ["no_signal"]
