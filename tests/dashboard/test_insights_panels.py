"""The insight panels of issue 14 in a real browser against the real stack (demo bot and the
second trader's reporter bot): the bot page's decision timeline equals `insights:decisions`
for the candles it lists (hovering a candle shows why it did or did not trade), the
reconciling badge follows `insights:reconciliation`, and the trade analytics panel on the bot
page and the overview equals `insights:analytics`. Screenshots: artifacts/dashboard/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from frontend import insights_view
from tests.dashboard.stack import Stack, market_now
from tests.dashboard.test_dashboard import (
    WAIT_MS,
    _eventually,
    _login,
    _page,
    _shot,
)


def _analytics_shown(page: Any, panel: str) -> dict[str, Any]:
    def rows(key: str) -> list[list[str]]:
        return [[c.strip() for c in r.inner_text().split("\t")]
                for r in page.locator(f"#{panel}-{key} tbody tr").all()]
    return {"trades": page.inner_text(f"#{panel}-trades"),
            "efficiency": page.inner_text(f"#{panel}-efficiency"),
            **{k: rows(k) for k in ("by_exit_reason", "by_hour", "by_weekday", "attribution")}}


def _analytics_expected(answer: dict[str, Any]) -> dict[str, Any]:
    t = insights_view.analytics_tables(answer)
    cols = {"attribution": ("component", "median", "above", "below")}
    out: dict[str, Any] = {"trades": t["trades"], "efficiency": t["efficiency"]}
    for key in ("by_exit_reason", "by_hour", "by_weekday", "attribution"):
        names = cols.get(key, ("key", "trades", "wins", "win_rate", "pnl"))
        out[key] = [[r[n] for n in names] for r in t[key]]
    return out


def test_bot_page_decision_timeline_and_reconciling_equal_the_backend(
        stack: Stack, browser: Any, artifacts: Path, console_errors: list[str]) -> None:
    token = stack.demo.token
    bot_id = stack.call("query", "bots:list", token=token)[0]["id"]
    context, page = _page(browser, console_errors)
    _login(page, stack, stack.demo)
    page.goto(f"{stack.dashboard}/bots/{bot_id}")
    page.wait_for_selector(".decision-row", timeout=60_000)

    def timeline_equals_backend() -> bool:
        shown = {r.get_attribute("id"): r.inner_text().split("\t")
                 for r in page.locator(".decision-row").all()}
        keys = sorted(shown)
        first = min(int(k.rsplit("-", 1)[1]) for k in keys)
        last = max(int(k.rsplit("-", 1)[1]) for k in keys)
        answer = stack.call("query", "insights:decisions", {
            "bot_id": bot_id, "start": datetime.fromtimestamp(first, UTC).isoformat(),
            "end": datetime.fromtimestamp(last + 1, UTC).isoformat()}, token)
        expected = {r["row_id"]: [r["candle"], r["action"], r["outcome"], r["score"], r["side"]]
                    for r in insights_view.decision_rows(answer)}
        got = {k: [c.strip() for c in v] for k, v in shown.items()}
        return all(got[k] == expected.get(k) for k in keys if k in expected) and \
            set(keys) <= set(expected) | set(keys[-1:])  # the oldest may have left the window

    _eventually(timeline_equals_backend)
    row = page.locator(".decision-row").nth(1)
    outcome = row.inner_text().split("\t")[2].strip()
    row.hover()
    page.wait_for_selector(f"#decision-detail:has-text('outcome: {outcome}')", timeout=WAIT_MS)

    # hovering a candle on the chart shows its decision (or says there is none)
    chart = page.locator("#bot-candles")
    box = chart.bounding_box()
    assert box is not None
    # from the price scale leftwards until a journaled candle is under the mouse
    journaled = {(r.get_attribute("id") or "").rsplit("-", 1)[-1]
                 for r in page.locator(".decision-row").all()}
    picked = None
    for dx in range(60, 200, 2):
        page.mouse.move(box["x"] + box["width"] - dx, box["y"] + box["height"] / 2)
        picked = chart.get_attribute("data-picked")
        if picked in journaled:
            break
    assert picked, "hovering the chart picked no candle"
    rows = {r["key"]: r["detail"] for r in insights_view.decision_rows(stack.call(
        "query", "insights:decisions", {"bot_id": bot_id, "start": datetime.fromtimestamp(
            int(picked), UTC).isoformat(), "end": datetime.fromtimestamp(
            int(picked) + 1, UTC).isoformat()}, token))}
    expected = rows.get(picked, insights_view.no_decision(picked)).splitlines()[0]
    _eventually(lambda: page.inner_text("#decision-detail").startswith(expected))
    _shot(page, artifacts, "insights-bot-candle-hover")

    reconciling = stack.call("query", "insights:reconciliation", {"bot_id": bot_id}, token)
    _eventually(lambda: (page.locator("#reconciling-badge").count() == 1)
                == bool(reconciling["reconciling"]))
    _eventually(lambda: _analytics_shown(page, "bot-analytics") if page.locator(
        "#bot-analytics-trades").count() else True)
    page.locator("#decision-timeline").scroll_into_view_if_needed()
    _shot(page, artifacts, "insights-bot-decisions")

    page.click("#drift-run")  # drift over the candles shown equals drift:report's
    page.wait_for_selector("#drift-summary:has-text('matched')", timeout=WAIT_MS)
    summary = page.locator("#drift-summary")
    window = {"start": summary.get_attribute("data-start"),
              "end": summary.get_attribute("data-end")}
    report = stack.call("action", "drift:report", {"bot_id": bot_id, **window}, token)
    view = insights_view.drift_view(report)
    assert summary.inner_text().strip() == view["summary"]
    assert page.locator(".drift-row").count() == len(view["rows"])
    page.locator("#drift-panel").scroll_into_view_if_needed()
    _shot(page, artifacts, "insights-bot-drift")

    page.goto(f"{stack.dashboard}/keys")  # rate headroom per key equals rateBudget:headroom
    page.wait_for_selector(".headroom-row", timeout=WAIT_MS)

    def headroom_equal() -> bool:
        answer = stack.call("query", "rateBudget:headroom", {}, token)
        expected = [[r[k] for k in ("key", "sharing", "path", "remaining", "share", "at")]
                    for r in insights_view.headroom_rows(answer)]
        shown = [[c.strip() for c in r.inner_text().split("\t")]
                 for r in page.locator(".headroom-row").all()]
        return shown == expected

    _eventually(headroom_equal)
    page.locator("#headroom-table").scroll_into_view_if_needed()
    _shot(page, artifacts, "insights-keys-headroom")
    context.close()


def test_analytics_on_the_bot_page_and_the_overview_equal_the_backend(
        stack: Stack, browser: Any, artifacts: Path, console_errors: list[str]) -> None:
    other = stack.other
    now = market_now(stack)
    stack.report_trade(now - timedelta(minutes=9))
    stack.report_trade(now - timedelta(minutes=5), pnl="-1.25", side="short")
    context, page = _page(browser, console_errors)
    _login(page, stack, other)
    page.wait_for_selector("#overview-analytics-trades", timeout=WAIT_MS)

    def panel_equal(panel: str, args: dict[str, Any]) -> Callable[[], bool]:
        def equal() -> bool:
            answer = stack.call("query", "insights:analytics", args, other.token)
            return _analytics_shown(page, panel) == _analytics_expected(answer)
        return equal

    _eventually(panel_equal("overview-analytics", {}))
    page.locator("#overview-analytics").scroll_into_view_if_needed()
    _shot(page, artifacts, "insights-overview-analytics")

    page.goto(f"{stack.dashboard}/bots/{other.bot_id}")
    page.wait_for_selector("#bot-analytics-trades", timeout=WAIT_MS)

    bot_equal = panel_equal("bot-analytics", {"bot_id": other.bot_id})
    _eventually(bot_equal)
    # live: one more trade reaches the panel without a reload
    stack.report_trade(now - timedelta(minutes=1), pnl="7")
    _eventually(bot_equal)
    assert int(page.inner_text("#bot-analytics-trades")) >= 3
    page.locator("#bot-analytics").scroll_into_view_if_needed()
    _shot(page, artifacts, "insights-bot-analytics")
    context.close()


def test_the_bell_counts_unread_alerts_live_and_mark_read_clears_them(
        stack: Stack, browser: Any, artifacts: Path, console_errors: list[str]) -> None:
    other = stack.other
    context, page = _page(browser, console_errors)
    _login(page, stack, other)
    page.wait_for_selector("#alerts-unread", timeout=WAIT_MS)

    def unread() -> int:
        return stack.call("query", "alerts:unread", {}, other.token)["count"]

    def bell_equal() -> bool:
        return page.inner_text("#alerts-unread").strip() == str(unread())

    _eventually(bell_equal)
    before = unread()
    stack.call("mutation", "bot:reportEvent", {
        "report_id": "alert-test-1", "kind": "exchange", "level": "error",
        "message": "order rejected: insufficient margin (test)"}, other.bot_token)
    _eventually(lambda: unread() > before and bell_equal())  # live, no reload
    page.click("#alerts-bell")
    page.wait_for_url(f"{stack.dashboard}/alerts", timeout=WAIT_MS)
    page.wait_for_selector(".alert-row.unread", timeout=WAIT_MS)
    listed = stack.call("query", "alerts:list", {}, other.token)
    assert page.locator(".alert-row").count() == len(listed)
    assert "insufficient margin" in page.inner_text(f"#alert-{listed[0]['id']}")
    _shot(page, artifacts, "insights-alerts")
    page.click(f"#read-alert-{listed[0]['id']}")
    _eventually(lambda: unread() == len(listed) - 1 - sum(1 for a in listed[1:]
                                                            if a["read_at"]) and bell_equal())
    if unread():
        page.click("#alerts-mark-all")
    _eventually(lambda: unread() == 0 and bell_equal())
    assert page.locator(".alert-row.unread").count() == 0
    _shot(page, artifacts, "insights-alerts-read")
    context.close()
