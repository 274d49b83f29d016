"""Trade analytics (`insights:analytics`) against a hand-computed fixture: PnL by exit reason,
hour, weekday and session, exit efficiency, and each signal component's attribution."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.domain.conftest import World, ts

# (side, qty, entry, exit, fee, entry day, entry hour, exit reason, mfe, mae, signal scores)
# day 0 is Monday 2026-01-05; net pnl = (exit − entry) · qty · sign − fee
TRADES = [
    ("long", "1", "100", "110", "0.2", 0, 2, "take_profit", "12", "1", (0.9, 0.1)),  # +9.8
    ("long", "1", "100", "95", "0.2", 0, 8, "stop_loss", "2", "5", (0.2, 0.8)),      # −5.2
    ("short", "1", "100", "96", "0.2", 1, 14, "take_profit", "8", "0", (0.7, 0.5)),  # +3.8
    ("long", "2", "50", "51", "0.4", 5, 23, "time_exit", "3", "1", (0.4, 0.3)),      # +1.6
    ("long", "1", "10", "9", "0.1", 6, 10, "stop_loss", "0", "1", None),             # −1.1
]


def net(side: str, qty: str, entry: str, exit_: str, fee: str) -> Decimal:
    sign = 1 if side == "long" else -1
    return (Decimal(exit_) - Decimal(entry)) * Decimal(qty) * sign - Decimal(fee)


@pytest.fixture(scope="module")
def analytics(world: World) -> dict:
    for i, (side, qty, entry, exit_, fee, day, hour, reason, mfe, mae, scores) in enumerate(
            TRADES):
        state = None if scores is None else {"signals": [
            {"type": "ma_cross", "score": scores[0]}, {"type": "rsi_reversal",
                                                       "score": scores[1]}]}
        world.api.m("bot:reportTrade", {
            "report_id": f"t{i}", "symbol": "BTCUSDT", "side": side, "quantity": qty,
            "entry_price": entry, "exit_price": exit_, "entry_at": ts(day, hour),
            "exit_at": ts(day, hour + 0.5), "fees": fee,
            "pnl": str(net(side, qty, entry, exit_, fee)), "exit_reason": reason,
            "signal_state": state, "mfe": mfe, "mae": mae}, world.a.bot_token)
    return world.api.q("insights:analytics", {"bot_id": world.a.bot_id}, world.a.token)


def table(buckets: list[dict]) -> dict[str, tuple[int, int, Decimal]]:
    return {b["key"]: (b["trades"], b["wins"], Decimal(b["pnl"])) for b in buckets
            if b["trades"]}


def test_pnl_by_exit_reason_hour_weekday_and_session(analytics: dict) -> None:
    assert analytics["trades"] == 5
    assert table(analytics["by_exit_reason"]) == {
        "stop_loss": (2, 0, Decimal("-6.3")), "take_profit": (2, 2, Decimal("13.6")),
        "time_exit": (1, 1, Decimal("1.6"))}
    assert table(analytics["by_hour"]) == {
        "02": (1, 1, Decimal("9.8")), "08": (1, 0, Decimal("-5.2")),
        "10": (1, 0, Decimal("-1.1")), "14": (1, 1, Decimal("3.8")),
        "23": (1, 1, Decimal("1.6"))}
    assert len(analytics["by_hour"]) == 24 and len(analytics["by_weekday"]) == 7
    assert table(analytics["by_weekday"]) == {
        "mon": (2, 1, Decimal("4.6")), "tue": (1, 1, Decimal("3.8")),
        "sat": (1, 1, Decimal("1.6")), "sun": (1, 0, Decimal("-1.1"))}
    # 08:00 Monday is in asia and london; 14:00 Tuesday in london and new_york
    assert table(analytics["by_session"]) == {
        "asia": (2, 1, Decimal("4.6")), "london": (2, 1, Decimal("-1.4")),
        "new_york": (1, 1, Decimal("3.8")), "off_session": (2, 1, Decimal("0.5"))}


def test_exit_efficiency_is_gross_pnl_over_mfe(analytics: dict) -> None:
    eff = [e["efficiency"] for e in analytics["excursions"]]
    assert eff[:4] == pytest.approx([10 / 12, -5 / 2, 4 / 8, 2 / 3])
    assert eff[4] is None  # never in favour
    assert analytics["mean_efficiency"] == pytest.approx(-0.125)
    assert [Decimal(e["mae"]) for e in analytics["excursions"]] == [1, 5, 0, 1, 1]


def test_each_component_is_split_at_its_median_score(analytics: dict) -> None:
    first, second = analytics["attribution"]
    assert (first["type"], first["median_score"]) == ("ma_cross", pytest.approx(0.55))
    assert table([first["above"], first["at_or_below"]]) == {
        "above": (2, 2, Decimal("13.6")), "at_or_below": (2, 1, Decimal("-3.6"))}
    assert (second["type"], second["median_score"]) == ("rsi_reversal", pytest.approx(0.4))
    assert table([second["above"], second["at_or_below"]]) == {
        "above": (2, 1, Decimal("-1.4")), "at_or_below": (2, 2, Decimal("11.4"))}


def test_the_overview_covers_all_the_users_bots_and_a_period(world: World,
                                                             analytics: dict) -> None:
    overview = world.api.q("insights:analytics", {}, world.a.token)
    assert overview["trades"] == 5
    tuesday_on = world.api.q("insights:analytics", {"bot_id": world.a.bot_id, "start": ts(1)},
                             world.a.token)
    assert tuesday_on["trades"] == 3
    assert world.api.q("insights:analytics", {}, world.b.token)["trades"] == 0
    other = world.api.call("query", "insights:analytics", {"bot_id": world.a.bot_id},
                           world.b.token)
    assert other.status_code == 404
