"""Backend values → what the pages show: rows of formatted strings for tables and series for
charts. Pure functions (unit-tested), shared by the pages."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from frontend import fmt

LIFECYCLE_COLOURS = {
    "online": "green", "paused": "amber", "provisioning": "blue", "deploying": "blue",
    "stopping": "orange", "stopped": "gray", "error": "red",
}
CONNECTION_COLOURS = {"online": "green", "stale": "amber", "offline": "gray", "never": "gray"}


def bot_names(bots: list[dict[str, Any]]) -> dict[int, str]:
    return {b["id"]: b["name"] for b in bots}


def positions(items: list[dict[str, Any]], names: dict[int, str]) -> list[dict[str, str]]:
    return [{
        "row_id": f"position-{p['bot_id']}-{p['symbol']}",
        "bot": names.get(p["bot_id"], f"bot {p['bot_id']}"), "symbol": p["symbol"],
        "side": p["side"], "size": fmt.quantity(p["size"]), "entry_price": fmt.price(p["entry_price"]),
        "unrealised_pnl": fmt.money(p["unrealised_pnl"], fmt.quote_currency(p["symbol"]), True),
        "unrealised_pnl_tone": fmt.tone(p["unrealised_pnl"]),
        "leverage": f"{fmt.quantity(p['leverage'])}×",
    } for p in items]


def events(items: list[dict[str, Any]], names: dict[int, str]) -> list[dict[str, str]]:
    return [{
        "row_id": f"event-{e['id']}", "at": fmt.utc(e["at"]),
        "bot": names.get(e["bot_id"], f"bot {e['bot_id']}"), "kind": e["kind"].replace("_", " "),
        "level": e["level"], "message": e["message"],
        "message_tone": {"error": "red", "warning": "amber"}.get(e["level"], "gray"),
    } for e in items]


def trades(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = []
    for t in items:
        ccy = fmt.quote_currency(t["symbol"])
        rows.append({
            "row_id": f"trade-{t['id']}", "id": str(t["id"]),
            "entry_at": fmt.utc(t["entry_at"]), "exit_at": fmt.utc(t["exit_at"]),
            "side": t["side"], "quantity": fmt.quantity(t["quantity"]),
            "entry_price": fmt.price(t["entry_price"]), "exit_price": fmt.price(t["exit_price"]),
            "fees": fmt.money(t["fees"], ccy), "pnl": fmt.money(t["pnl"], ccy, True),
            "pnl_tone": fmt.tone(t["pnl"]), "hold": fmt.duration(t["hold_seconds"]),
            "exit_reason": (t["exit_reason"] or "").replace("_", " ") or fmt.MISSING,
            "mfe": fmt.money(t["mfe"], ccy), "mae": fmt.money(t["mae"], ccy),
            "signal_state": json.dumps(t.get("signal_state"), indent=2, sort_keys=True),
        })
    return rows


def equity_series(points: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The equity line and its drawdown from the running peak (≤ 0), one point per second
    (a later point of the same second wins: the chart needs strictly rising times)."""
    by_second: dict[int, Decimal] = {}
    for p in points:
        by_second[fmt.epoch_s(p["at"])] = Decimal(str(p["equity"]))
    line, drawdown, peak = [], [], None
    for t in sorted(by_second):
        value = by_second[t]
        peak = value if peak is None or value > peak else peak
        line.append({"time": t, "value": float(value)})
        drawdown.append({"time": t, "value": float(value - peak)})
    return line, drawdown


def candles(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"time": c["time"], "open": float(c["open"]), "high": float(c["high"]),
             "low": float(c["low"]), "close": float(c["close"])} for c in items]


def trade_markers(items: list[dict[str, Any]], first: int | None, step_s: int
                  ) -> list[dict[str, Any]]:
    """Entry and exit markers of trades, on the candle each falls in (candles from `first`
    on, `step_s` apart), sorted by time as the chart requires."""
    marks = []
    for t in items:
        for at, is_entry in ((t["entry_at"], True), (t["exit_at"], False)):
            second = fmt.epoch_s(at)
            if first is not None and second < first:
                continue
            bar = second - (second - (first or 0)) % step_s
            long = t["side"] == "long"
            if is_entry:
                marks.append({"time": bar, "position": "belowBar" if long else "aboveBar",
                              "color": "#30a46c" if long else "#e5484d",
                              "shape": "arrowUp" if long else "arrowDown",
                              "text": f"{'long' if long else 'short'} #{t['id']}"})
            else:
                marks.append({"time": bar, "position": "aboveBar" if long else "belowBar",
                              "color": "#b4b4bb", "shape": "circle",
                              "text": f"exit #{t['id']}"})
    return sorted(marks, key=lambda m: m["time"])


def bot_row(b: dict[str, Any], net_pnl: Any = None) -> dict[str, str]:
    conn = b.get("connection") or {}
    ccy = fmt.quote_currency(b.get("symbol") or "")
    return {
        "row_id": f"bot-{b['id']}", "id": str(b["id"]), "name": b["name"],
        "symbol": b.get("symbol") or fmt.MISSING, "lifecycle": b["lifecycle"],
        "lifecycle_colour": LIFECYCLE_COLOURS.get(b["lifecycle"], "gray"),
        "connection": conn.get("status", "never"),
        "connection_colour": CONNECTION_COLOURS.get(conn.get("status", "never"), "gray"),
        "uptime": fmt.duration(conn.get("uptime_s")) if conn.get("status") == "online" else fmt.MISSING,
        "where": f"{b['provider']}/{b['region']}",
        "strategy": f"strategy {b['strategy_id']} v{b['strategy_version']}"
        if b.get("strategy_id") else fmt.MISSING,
        "net_pnl": fmt.money(net_pnl, ccy, True) if net_pnl is not None else fmt.MISSING,
        "net_pnl_tone": fmt.tone(net_pnl),
        "error": b.get("error_message") or "",
        "can_pause": "yes" if b["lifecycle"] == "online" else "",
        "can_resume": "yes" if b["lifecycle"] in ("paused", "stopped", "error") else "",
        "can_stop": "yes" if b["lifecycle"] not in ("stopped", "stopping") else "",
    }
