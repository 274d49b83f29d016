"""Insights as the dashboard shows them (pure, no Reflex): the decision journal as timeline
rows with each candle's details, trade analytics as formatted tables, and the reconciling
state as a badge line. Values come from `insights:*` (docs/insights.md)."""

from __future__ import annotations

from typing import Any

from frontend import fmt

TIMELINE_SIZE = 60  # the newest decisions shown under the chart

ACTION_TONE = {"enter_long": "green", "enter_short": "red", "exit": "amber", "hold": "gray"}


def decision_rows(decisions: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Newest first, at most TIMELINE_SIZE: candle time, action, outcome (why it did or did
    not trade), combined score and desired side; `detail` lines for the selected candle."""
    out = []
    for d in sorted(decisions, key=lambda d: d["candle_at"], reverse=True)[:TIMELINE_SIZE]:
        r = d.get("record") or {}
        action = r.get("a", "hold")
        out.append({
            "row_id": f"decision-{fmt.epoch_s(d['candle_at'])}",
            "key": str(fmt.epoch_s(d["candle_at"])),  # the chart's candle time
            "candle": fmt.utc(d["candle_at"]),
            "action": action,
            "action_tone": ACTION_TONE.get(action, "gray"),
            "outcome": d.get("outcome") or r.get("o") or fmt.MISSING,
            "score": fmt.number(r.get("c"), 2, signed=True),
            "side": {1: "long", -1: "short"}.get(r.get("d"), "none"),
            "detail": "\n".join(decision_detail(r)),
        })
    return out


def no_decision(key: str) -> str:
    """The detail of a candle without a decision shown (e.g. hovered on the chart)."""
    return (f"candle {fmt.utc(int(key))}: no decision journaled for it here (the bot was not "
            f"running or warming up, or it is older than the {TIMELINE_SIZE} shown)")


def decision_detail(r: dict[str, Any]) -> list[str]:
    """Why the candle did or did not trade, in lines."""
    lines = [f"outcome: {r.get('o', fmt.MISSING)}",
             f"action: {r.get('a', fmt.MISSING)} · reason: {r.get('r') or fmt.MISSING}",
             f"combined score {fmt.number(r.get('c'), 2, signed=True)} · desired side "
             f"{ {1: 'long', -1: 'short'}.get(r.get('d'), 'none') }",
             "signal scores: " + (", ".join(fmt.number(s, 2, signed=True)
                                            for s in r.get("s") or []) or fmt.MISSING),
             "filters: " + (", ".join(f"{t} {'pass' if ok else 'block'}"
                                      for t, ok in r.get("f") or []) or "none"),
             f"in session: {'yes' if r.get('ses') else 'no'}"]
    if r.get("g"):
        lines.append("guards: " + ", ".join(f"{t} {'allow' if ok else 'block'}"
                                            for t, ok in r["g"]))
    return lines


def _bucket_rows(prefix: str, buckets: list[dict[str, Any]], currency: str,
                 skip_empty: bool = False) -> list[dict[str, str]]:
    def label(key: Any) -> str:
        return f"{int(key):02d}:00" if prefix == "hour" and str(key).isdigit() else str(key)
    return [{
        "row_id": f"{prefix}-{b['key']}", "key": label(b["key"]), "trades": str(b["trades"]),
        "wins": str(b["wins"]),
        "win_rate": fmt.percent(b["wins"] / b["trades"]) if b["trades"] else fmt.MISSING,
        "pnl": fmt.money(b["pnl"], currency, signed=True), "pnl_tone": fmt.tone(b["pnl"]),
    } for b in buckets if b["trades"] or not skip_empty]


def analytics_tables(a: dict[str, Any], currency: str = "USDT") -> dict[str, Any]:
    """`insights:analytics` as the panel's tables; hours and weekdays with no trade are left
    out (the panel's titles say so)."""
    return {
        "trades": str(a.get("trades", 0)),
        "efficiency": fmt.percent(a.get("mean_efficiency")),
        "by_exit_reason": _bucket_rows("exit", a.get("by_exit_reason") or [], currency),
        "by_hour": _bucket_rows("hour", a.get("by_hour") or [], currency, skip_empty=True),
        "by_weekday": _bucket_rows("weekday", a.get("by_weekday") or [], currency,
                                   skip_empty=True),
        "attribution": [{
            "row_id": f"attr-{c['index']}", "component": f"{c['index']}: {c['type']}",
            "median": fmt.number(c["median_score"], 2, signed=True),
            "above": f"{c['above']['trades']} trades · "
                     f"{fmt.money(c['above']['pnl'], currency, signed=True)}",
            "below": f"{c['at_or_below']['trades']} trades · "
                     f"{fmt.money(c['at_or_below']['pnl'], currency, signed=True)}",
        } for c in a.get("attribution") or []],
    }


def reconciling_line(state: dict[str, Any]) -> str:
    """"" when not reconciling, else since when and how many differences."""
    if not state.get("reconciling"):
        return ""
    n = len(state.get("differences") or [])
    return f"reconciling since {fmt.utc(state.get('since'))} · {n} difference(s)"


def drift_view(report: dict[str, Any], currency: str = "USDT") -> dict[str, Any]:
    """`drift:report` as the panel shows it: a summary line and one row per trade, matched
    (with slippage and PnL of both), missed (backtest only) or extra (live only)."""
    matched = [{
        "row_id": f"drift-matched-{i}", "kind": "matched", "side": m["side"],
        "entry_at": fmt.utc(m["live_entry_at"]),
        "detail": (f"entry slippage {fmt.price(m['entry_slippage'])} "
                   f"({m['entry_delay_ms']} ms) · exit slippage "
                   f"{fmt.price(m['exit_slippage'])} ({m['exit_delay_ms']} ms) · PnL live "
                   f"{fmt.money(m['live_pnl'], currency, True)} vs backtest "
                   f"{fmt.money(m['backtest_pnl'], currency, True)}"),
    } for i, m in enumerate(report.get("matched") or [])]

    def unmatched(kind: str) -> list[dict[str, str]]:
        return [{
            "row_id": f"drift-{kind}-{i}", "kind": kind, "side": u["side"],
            "entry_at": fmt.utc(u["entry_at"]), "detail": u["explanation"],
        } for i, u in enumerate(report.get(kind) or [])]

    counts = {k: len(report.get(k) or []) for k in ("matched", "missed", "extra")}
    summary = (f"{report.get('candles', 0)} candles · template v{report.get('template_version')}"
               f" · matched {counts['matched']} · missed {counts['missed']} · extra "
               f"{counts['extra']}")
    return {"summary": summary, "rows": matched + unmatched("missed") + unmatched("extra"),
            **counts}


def headroom_rows(keys: list[dict[str, Any]]) -> list[dict[str, str]]:
    """`rateBudget:headroom`: one row per key and endpoint (a key no endpoint was seen for
    yet gets one row saying so)."""
    out = []
    for k in keys:
        base = {"key": k["label"], "sharing": str(k["bots_sharing"])}
        if not k["endpoints"]:
            out.append({**base, "row_id": f"headroom-{k['api_key_id']}", "path": "not seen yet",
                        "remaining": fmt.MISSING, "share": fmt.MISSING, "at": fmt.MISSING})
        for e in k["endpoints"]:
            left = e["remaining"] / e["window_limit"] if e["window_limit"] else None
            out.append({**base, "row_id": f"headroom-{k['api_key_id']}-{e['path']}",
                        "path": e["path"], "remaining": f"{e['remaining']} / {e['window_limit']}",
                        "share": fmt.percent(left), "at": fmt.utc(e["at"])})
    return out
