"""What bots report (idempotent by report id) and what the dashboard reads back: KPIs against
hand-computed values, the downsampled equity curve, trades pages, the activity feed, and
retention of the per-candle tables."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from backend.domain.kpis import covered_seconds
from tests.domain.conftest import World, internal, make_trader, sql, ts

# (side, quantity, entry, exit, fee, hold hours); trade i enters at day 10 + 4h·i.
# Net pnl = (exit − entry) · qty · (+1 long, −1 short) − fee.
TRADES = [
    ("long", "1", "100", "110", "0.2", 1),    # +9.8
    ("long", "1", "110", "105", "0.2", 1),    # −5.2
    ("short", "1", "105", "95", "0.2", 1),    # +9.8  (a winning short)
    ("long", "2", "95", "100", "0.4", 3),     # +9.6  peak 1024.0
    ("long", "1", "100", "96", "0.2", 1),     # −4.2  losing streak ...
    ("long", "1", "96", "93", "0.2", 1),      # −3.2
    ("long", "1", "93", "90", "0.2", 1),      # −3.2
    ("short", "1", "90", "92", "0.2", 1),     # −2.2  ... trough 1011.2 (a losing short)
    ("long", "1", "92", "100", "0.2", 1),     # +7.8
    ("long", "1", "100", "102", "0.2", 1),    # +1.8
    ("long", "1", "102", "101", "0.2", 1),    # −1.2
]
# (day, hour, equity): the last snapshot of each day is that day's close.
EQUITY = [(0, 0, "1000"), (1, 8, "990"), (1, 20, "1010"), (2, 12, "1005"), (3, 12, "1020"),
          (4, 12, "1015")]


def net(side: str, qty: str, entry: str, exit_: str, fee: str) -> Decimal:
    sign = 1 if side == "long" else -1
    return (Decimal(exit_) - Decimal(entry)) * Decimal(qty) * sign - Decimal(fee)


@pytest.fixture(scope="module")
def reported(world: World) -> World:
    api, token = world.api, world.a.bot_token
    order = [0, 1, 2, 3, 4, 5, 6, 7, 9, 8, 10]  # trade 8 arrives late: the curve is rebuilt
    for i in order:
        side, qty, entry, exit_, fee, hours = TRADES[i]
        api.m("bot:reportTrade", {
            "report_id": f"t{i}", "symbol": "BTCUSDT", "side": side, "quantity": qty,
            "entry_price": entry, "exit_price": exit_, "entry_at": ts(10, 4 * i),
            "exit_at": ts(10, 4 * i + hours), "fees": fee,
            "pnl": str(net(side, qty, entry, exit_, fee)), "exit_reason": "signal",
            "signal_state": {"score": 0.8}, "mfe": "12.5", "mae": "-3.25"}, token)
    for j, (day, hour, equity) in enumerate(EQUITY):
        api.m("bot:reportEquity", {"report_id": f"e{j}", "at": ts(day, hour), "equity": equity},
              token)
    # bob: equity first, then trades in exit order: the incremental path
    api.m("bot:reportEquity", {"report_id": "e0", "at": ts(9), "equity": "500"},
          world.b.bot_token)
    for i, pnl in enumerate(["10", "-30", "5"]):
        api.m("bot:reportTrade", {
            "report_id": f"t{i}", "symbol": "ETHUSDT", "side": "long", "quantity": "1",
            "entry_price": "10", "exit_price": "20", "entry_at": ts(10, 2 * i),
            "exit_at": ts(10, 2 * i + 1), "fees": "0", "pnl": pnl}, world.b.bot_token)
    return world


def test_kpis_match_the_hand_computed_values(reported: World) -> None:
    k = reported.api.q("bots:kpis", {"bot_id": reported.a.bot_id}, reported.a.token)
    assert k["trade_count"] == 11
    assert Decimal(k["net_pnl"]) == Decimal("19.6")
    assert Decimal(k["fees_paid"]) == Decimal("2.4")
    assert Decimal(k["gross_profit"]) == Decimal("38.8")
    assert Decimal(k["gross_loss"]) == Decimal("19.2")
    assert Decimal(k["win_rate"]) == Decimal("0.454545")       # 5 / 11
    assert Decimal(k["profit_factor"]) == Decimal("2.020833")  # 38.8 / 19.2
    assert Decimal(k["expectancy"]) == Decimal("1.781818")     # 19.6 / 11
    assert Decimal(k["avg_hold_seconds"]) == Decimal("4254.545455")  # (10·3600 + 10800) / 11
    assert Decimal(k["initial_equity"]) == Decimal(1000)
    assert Decimal(k["return_pct"]) == Decimal("1.96")
    assert Decimal(k["max_drawdown"]) == Decimal("12.8")       # 1024.0 → 1011.2
    assert Decimal(k["max_drawdown_pct"]) == Decimal("1.25")   # 12.8 / 1024
    assert Decimal(k["exposure"]) == Decimal("0.317073")       # 46800 s of 147600 s
    closes = [1000, 1010, 1005, 1020, 1015]
    returns = [b / a - 1 for a, b in pairwise(closes)]
    mean = statistics.fmean(returns)
    sharpe = mean / statistics.stdev(returns) * math.sqrt(365)
    sortino = mean / math.sqrt(statistics.fmean(min(r, 0) ** 2 for r in returns)) * math.sqrt(365)
    assert float(k["sharpe"]) == pytest.approx(sharpe, abs=1e-5)
    assert float(k["sortino"]) == pytest.approx(sortino, abs=1e-5)


def test_the_overview_aggregates_only_the_callers_bots(reported: World) -> None:
    api = reported.api
    mine = api.q("dashboard:overview", token=reported.a.token)
    assert mine["kpis"]["trade_count"] == 11 and Decimal(mine["kpis"]["net_pnl"]) == Decimal("19.6")
    assert mine["bots"]["total"] >= 1 and mine["bots"]["by_lifecycle"]["online"] >= 1
    theirs = api.q("dashboard:overview", token=reported.b.token)["kpis"]
    assert theirs == api.q("bots:kpis", {"bot_id": reported.b.bot_id}, reported.b.token)
    assert theirs["trade_count"] == 3 and Decimal(theirs["net_pnl"]) == -15
    assert Decimal(theirs["profit_factor"]) == Decimal("0.5")   # 15 / 30
    assert Decimal(theirs["return_pct"]) == -3                   # −15 / 500
    assert Decimal(theirs["max_drawdown"]) == 30                 # 510 → 480
    assert Decimal(theirs["max_drawdown_pct"]) == Decimal("5.882353")  # 30 / 510
    assert Decimal(theirs["exposure"]) == Decimal("0.6")         # 3 h of 5 h


def test_exposure_counts_overlapping_trades_once() -> None:
    t = [datetime(2026, 1, 1, h, tzinfo=UTC) for h in range(8)]
    assert covered_seconds(t[2], t[5], [(t[0], t[3]), (t[1], t[4]), (t[6], t[7])]) == 7200
    assert covered_seconds(t[2], t[5], [(t[3], t[4]), (t[0], t[1])]) == 3600
    assert covered_seconds(t[2], t[5], []) == 0


def test_exposure_of_back_to_back_sub_second_trades_is_at_most_one(world: World) -> None:
    """Each part of a trade used to be rounded to the nearest second against an exact span:
    three 0.6 s trades back to back counted 3 s of 1.8 s (exposure 1.67)."""
    carol = make_trader(world.api, world.dsn, "carol-exposure@example.com", "CARL")
    start = datetime.fromisoformat(ts(30))
    for i in range(3):
        world.api.m("bot:reportTrade", {
            "report_id": f"sub-{i}", "symbol": "BTCUSDT", "side": "long", "quantity": "1",
            "entry_price": "1", "exit_price": "1", "fees": "0", "pnl": "0",
            "entry_at": (start + timedelta(seconds=0.6 * i)).isoformat(),
            "exit_at": (start + timedelta(seconds=0.6 * (i + 1))).isoformat()}, carol.bot_token)
    kpis = world.api.q("bots:kpis", {"bot_id": carol.bot_id}, carol.token)
    assert Decimal(kpis["exposure"]) == 1  # positions were open the whole time, never more
    mine = world.api.q("dashboard:overview", {}, carol.token)["kpis"]
    assert Decimal(mine["exposure"]) == 1


def test_a_retried_report_is_applied_once_and_answers_the_same(reported: World) -> None:
    api, token, dsn, bot_id = reported.api, reported.a.bot_token, reported.dsn, reported.a.bot_id
    trade = {"report_id": "dup-t", "symbol": "BTCUSDT", "side": "long", "quantity": "1",
             "entry_price": "1", "exit_price": "2", "entry_at": ts(20), "exit_at": ts(20, 1),
             "fees": "0", "pnl": "1"}
    reports = [
        ("bot:reportTrade", trade, "trades"),
        ("bot:reportEquity", {"report_id": "dup-e", "at": ts(20), "equity": "1"},
         "equity_snapshots"),
        ("bot:reportSignalState", {"report_id": "dup-s", "candle_at": ts(20),
                                   "state": {"score": 0.1}}, "signal_states"),
        ("bot:reportEvent", {"report_id": "dup-v", "kind": "order", "message": "filled"},
         "bot_events"),
    ]
    for path, args, table in reports:
        first = api.m(path, args, token)
        assert api.m(path, args, token) == first
        rows = sql(dsn, f"SELECT count(*) AS n FROM {table} WHERE bot_id = $1 AND report_id = $2",
                   bot_id, args["report_id"])
        assert rows[0]["n"] == 1, table
    positions = {"report_id": "dup-p", "at": ts(20, 1), "positions": [
        {"symbol": "BTCUSDT", "side": "long", "size": "0.5", "entry_price": "100",
         "unrealised_pnl": "2.5", "leverage": "3"}]}
    first = api.m("bot:reportPositions", positions, token)
    api.m("bot:reportPositions", {"report_id": "dup-p2", "at": ts(20, 2), "positions": []}, token)
    assert api.m("bot:reportPositions", positions, token) == first  # late retry: ignored
    assert api.q("bots:positions", {"bot_id": bot_id}, reported.a.token) == []
    api.m("bot:reportPositions", positions | {"report_id": "dup-p3", "at": ts(20, 3)}, token)
    [pos] = api.q("bots:positions", {"bot_id": bot_id}, reported.a.token)
    assert (pos["size"], pos["unrealised_pnl"], pos["leverage"]) == ("0.5", "2.5", "3")
    seen = sql(dsn, "SELECT last_seen_at FROM bot_connections WHERE bot_id = $1", bot_id)
    assert api.m("bot:heartbeat", {"report_id": "hb-0", "at": ts()}, token) == {
        "report_id": "hb-0"}
    assert sql(dsn, "SELECT last_seen_at FROM bot_connections WHERE bot_id = $1", bot_id) == seen
    api.m("bot:reportTrade", trade, token)
    assert api.q("bots:kpis", {"bot_id": bot_id}, reported.a.token)["trade_count"] == 12


def test_the_equity_curve_has_at_most_1000_points_for_any_range(world: World) -> None:
    api, dsn, bot_id = world.api, world.dsn, world.b.bot_id
    sql(dsn, "INSERT INTO equity_snapshots (bot_id, user_id, report_id, at, equity) "
        "SELECT $1, $2, 'bulk-' || i, timestamptz '2026-03-01' + i * interval '1 minute', "
        "1000 + i FROM generate_series(0, 4999) i", bot_id, world.b.user_id)
    token = world.b.token
    full = api.q("bots:equity", {"bot_id": bot_id, "start": "2026-03-01T00:00:00Z"}, token)
    assert 900 <= len(full) <= 1000
    assert full[-1]["equity"] == "5999"  # the last bucket ends at the newest snapshot
    assert [p["at"] for p in full] == sorted(p["at"] for p in full)
    small = api.q("bots:equity", {"bot_id": bot_id, "start": "2026-03-01T00:00:00Z",
                                  "end": "2026-03-01T00:09:00Z"}, token)
    assert [p["equity"] for p in small] == [str(1000 + i) for i in range(10)]
    few = api.q("bots:equity", {"bot_id": bot_id, "start": "2026-03-01T00:00:00Z",
                                "max_points": 50}, token)
    assert len(few) <= 50
    too_many = api.call("query", "bots:equity", {"bot_id": bot_id, "max_points": 5000}, token)
    assert too_many.status_code == 400 and too_many.json()["error"]["field"] == "max_points"


def test_the_users_equity_curve_sums_bots_carrying_each_bots_last_close(world: World) -> None:
    api, dsn, token = world.api, world.dsn, world.b.token
    other = api.m("bots:create", {"name": "second", "strategy_id": world.b.strategy_id,
                                  "api_key_id": world.b.api_key_id, "start": False}, token)
    points = [(world.b.bot_id, 0, 100), (world.b.bot_id, 60, 110), (world.b.bot_id, 120, 120),
              (other["id"], 30, 50), (other["id"], 150, 70)]
    for bot_id, minute, equity in points:
        sql(dsn, "INSERT INTO equity_snapshots (bot_id, user_id, report_id, at, equity) VALUES "
            "($1, $2, $3, timestamptz '2026-06-01' + $4 * interval '1 minute', $5)",
            bot_id, world.b.user_id, f"june-{bot_id}-{minute}", minute, equity)
    curve = api.q("bots:equity", {"start": "2026-06-01T00:00:00Z", "end": "2026-06-01T03:00:00Z",
                                  "max_points": 3}, token)
    # 50-minute buckets: [100 + 50], [110 + 50 carried], [120 + 70]
    assert [p["equity"] for p in curve] == ["150", "160", "190"]
    assert curve[-1]["at"].startswith("2026-06-01T02:30")
    alice = api.q("bots:equity", {"start": "2026-06-01T00:00:00Z"}, world.a.token)
    assert alice == []


def test_trades_are_paginated_sorted_and_filtered(reported: World) -> None:
    api, token, bot_id = reported.api, reported.a.token, reported.a.bot_id
    page = api.q("bots:trades", {"bot_id": bot_id, "limit": 4, "sort": "entry_at",
                                 "order": "asc"}, token)
    assert page["total"] >= 11 and [t["report_id"] for t in page["items"]] == [
        "t0", "t1", "t2", "t3"]
    assert page["is_done"] is False
    nxt = api.q("bots:trades", {"bot_id": bot_id, "limit": 4, "sort": "entry_at",
                                "order": "asc", "cursor": page["continue_cursor"]}, token)
    assert [t["report_id"] for t in nxt["items"]] == ["t4", "t5", "t6", "t7"]
    pinned = api.q("bots:trades", {"bot_id": bot_id, "sort": "entry_at", "order": "asc",
                                   "end_cursor": page["continue_cursor"]}, token)
    assert pinned["items"] == page["items"] and pinned["is_done"] is False
    other_order = api.call("query", "bots:trades", {"cursor": page["continue_cursor"]}, token)
    assert other_order.status_code == 400 and other_order.json()["error"]["field"] == "cursor"
    garbage = api.call("query", "bots:trades", {"cursor": "not-a-cursor"}, token)
    assert garbage.status_code == 400 and garbage.json()["error"]["field"] == "cursor"
    shorts = api.q("bots:trades", {"side": "short"}, token)
    assert {t["report_id"] for t in shorts["items"]} == {"t2", "t7"} and shorts["total"] == 2
    best = api.q("bots:trades", {"sort": "pnl", "order": "desc", "limit": 1}, token)["items"][0]
    assert Decimal(best["pnl"]) == Decimal("9.8") and best["hold_seconds"] == 3600
    window = api.q("bots:trades", {"start": ts(10, 10), "end": ts(10, 22)}, token)
    # exits: t2 at 9h, t3 at 15h, t4 at 17h, t5 at 21h, t6 at 25h; window [10h, 22h)
    assert [t["report_id"] for t in window["items"]] == ["t5", "t4", "t3"]
    assert api.q("bots:trades", {"symbol": "ETHUSDT"}, token)["total"] == 0  # bob's symbol
    bad = api.call("query", "bots:trades", {"sort": "password_hash"}, token)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "sort"


def test_the_activity_feed_is_newest_first_and_paginated(reported: World) -> None:
    api, token = reported.api, reported.a.token
    everything = api.q("bots:events", {"limit": 200}, token)["items"]
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True) and len(ids) > 4
    first = api.q("bots:events", {"limit": 3}, token)
    second = api.q("bots:events", {"limit": 3, "cursor": first["continue_cursor"]}, token)
    assert [e["id"] for e in first["items"] + second["items"]] == ids[:6]
    last = api.q("bots:events", {"limit": 200, "cursor": second["continue_cursor"]}, token)
    assert last["is_done"] is True and [e["id"] for e in last["items"]] == ids[6:]


def test_retention_thins_old_equity_and_drops_old_signal_states(world: World) -> None:
    dsn, bot_id, user_id = world.dsn, world.a.bot_id, world.a.user_id
    sql(dsn, "INSERT INTO equity_snapshots (bot_id, user_id, report_id, at, equity) "
        "SELECT $1, $2, 'old-' || i, now() - interval '30 days' + i * interval '1 minute', 1 "
        "FROM generate_series(0, 179) i", bot_id, user_id)
    sql(dsn, "INSERT INTO signal_states (bot_id, user_id, report_id, candle_at, state, "
        "created_at) SELECT $1, $2, 'sig-' || i, now() - i * interval '1 day', '{}', now() "
        "FROM generate_series(0, 9) i", bot_id, user_id)
    first = sql(dsn, "SELECT id FROM equity_snapshots WHERE bot_id = $1 ORDER BY at LIMIT 1",
                bot_id)
    deleted = internal(dsn, "bots:applyRetention", {"bot_id": bot_id})
    assert deleted["signal_states"] >= 3
    kept = sql(dsn, "SELECT count(*) AS n FROM signal_states WHERE bot_id = $1 "
               "AND report_id LIKE 'sig-%'", bot_id)
    assert kept[0]["n"] == 7  # 7, 8 and 9 days old are gone
    hours = sql(dsn, "SELECT date_trunc('hour', at) AS h, count(*) AS n FROM equity_snapshots "
                "WHERE bot_id = $1 AND report_id LIKE 'old-%' GROUP BY 1", bot_id)
    assert all(r["n"] == 1 for r in hours) and len(hours) in (3, 4)
    assert sql(dsn, "SELECT id FROM equity_snapshots WHERE bot_id = $1 ORDER BY at LIMIT 1",
               bot_id) == first  # the initial equity survives
    assert internal(dsn, "bots:applyRetention", {"bot_id": bot_id}) == {
        "equity_snapshots": 0, "signal_states": 0, "decisions": 0}
