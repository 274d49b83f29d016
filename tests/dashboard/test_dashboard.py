"""The dashboard in a real browser (Debian's Chromium through Playwright) against the real
stack: the demo user's overview equals `dashboard:overview`; a reported trade reaches the bot
page's table and equity curve within 2 s, with its markers on the candles; pause and resume
from the UI; two traders never see each other's bots; a closed tab ends its subscriptions;
a reload keeps the session and logout ends it. Every page is screenshotted into
artifacts/dashboard/ and no page logs a console error."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from frontend.components.kpis import kpi_rows
from frontend.pages.bot_detail import PAGE_SIZE
from tests.dashboard.stack import Stack, Trader, market_now

WAIT_MS = 30_000


def _page(browser: Any, errors: list[str]) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page


def _login(page: Any, stack: Stack, trader: Trader) -> None:
    page.goto(f"{stack.dashboard}/login")
    page.fill("#email-input", trader.email)
    page.fill("#password-input", trader.password)
    page.click("#login-submit")
    page.wait_for_url(f"{stack.dashboard}/", timeout=WAIT_MS)
    # Signed in once the header names the trader (the page rendered and its on_load checked
    # the session): only then is the page used, e.g. its navigation clicked.
    page.wait_for_selector(f"#signed-in-as:has-text('{trader.email}')", timeout=WAIT_MS)


def _eventually(check: Callable[[], Any], timeout: float = 30, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check}")
        time.sleep(every)


def _shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def test_wrong_password_is_said_and_login_shows_the_overview_equal_to_the_api(
        stack: Stack, browser: Any, artifacts: Path, console_errors: list[str]) -> None:
    context, page = _page(browser, console_errors)
    page.goto(f"{stack.dashboard}/")
    page.wait_for_url(f"{stack.dashboard}/login", timeout=WAIT_MS)  # signed out → login
    page.fill("#email-input", stack.demo.email)
    page.fill("#password-input", "not-the-password")
    page.click("#login-submit")
    page.wait_for_selector("#auth-error", timeout=WAIT_MS)
    assert "Wrong email or password" in page.inner_text("#auth-error")
    _shot(page, artifacts, "login-wrong-password")
    _login(page, stack, stack.demo)
    page.wait_for_selector("#kpi-net_pnl", timeout=WAIT_MS)

    def cards_equal_api() -> bool:
        before = stack.call("query", "dashboard:overview", token=stack.demo.token)
        shown = {row["key"]: page.inner_text(f"#kpi-{row['key']} .kpi-value")
                 for row in kpi_rows(before["kpis"])}
        after = stack.call("query", "dashboard:overview", token=stack.demo.token)
        expected = {row["key"]: row["value"] for row in kpi_rows(after["kpis"])}
        return before == after and shown == expected

    _eventually(cards_equal_api)
    page.wait_for_selector(".event-row", timeout=WAIT_MS)
    _shot(page, artifacts, "overview")
    context.close()


def test_a_reported_trade_reaches_the_bot_page_live_with_its_markers(
        stack: Stack, browser: Any, artifacts: Path, console_errors: list[str]) -> None:
    context, page = _page(browser, console_errors)
    _login(page, stack, stack.other)
    stack.report_trade(market_now(stack) - timedelta(minutes=5))
    page.goto(f"{stack.dashboard}/bots/{stack.other.bot_id}")
    page.wait_for_selector(".trade-row", timeout=WAIT_MS)
    page.wait_for_selector("#bot-candles[data-markers='2']", timeout=WAIT_MS)
    points = int(page.get_attribute("#bot-equity", "data-points") or 0)
    rows = page.locator(".trade-row").count()

    trade = stack.report_trade(market_now(stack) - timedelta(minutes=2))
    committed = time.monotonic()
    page.wait_for_selector(f"#trade-{trade['id']}", timeout=2_000)
    page.wait_for_selector(f"#bot-equity[data-points='{points + 1}']", timeout=2_000)
    assert time.monotonic() - committed <= 2.0
    assert page.locator(".trade-row").count() == rows + 1
    page.wait_for_selector("#bot-candles[data-markers='4']", timeout=WAIT_MS)
    page.click(f"#trade-{trade['id']}")
    page.wait_for_selector(f"#signal-trade-{trade['id']}", timeout=WAIT_MS)
    _shot(page, artifacts, "bot-detail")

    start = market_now(stack) - timedelta(hours=2)  # older trades: they sort after the others
    for n in range(PAGE_SIZE):
        stack.report_trade(start + timedelta(minutes=n))
    total = rows + 1 + PAGE_SIZE
    page.wait_for_selector(f"#trades-total:has-text('{total} trades')", timeout=WAIT_MS)
    page.click("#trades-older")
    _eventually(lambda: page.locator(".trade-row").count() == total - PAGE_SIZE)
    assert page.locator(f"#trade-{trade['id']}").count() == 0  # the newest is on page 1
    page.click("#trades-newer")
    page.wait_for_selector(f"#trade-{trade['id']}", timeout=WAIT_MS)
    assert page.locator(".trade-row").count() == PAGE_SIZE
    context.close()


def test_pause_and_resume_from_the_bots_page(stack: Stack, browser: Any, artifacts: Path,
                                            console_errors: list[str]) -> None:
    bot_id = stack.call("query", "bots:list", token=stack.demo.token)[0]["id"]
    context, page = _page(browser, console_errors)
    _login(page, stack, stack.demo)
    page.click("#nav-bots", timeout=WAIT_MS)
    page.wait_for_url(f"{stack.dashboard}/bots", timeout=WAIT_MS)
    badge = f"#lifecycle-{bot_id}"
    page.wait_for_selector(f"{badge}:has-text('online')", timeout=60_000)
    page.click(f"#pause-{bot_id}")
    page.wait_for_selector("#action-result", timeout=WAIT_MS)
    page.wait_for_selector(f"{badge}:has-text('paused')", timeout=WAIT_MS)
    assert stack.call("query", "bots:get", {"bot_id": bot_id},
                      stack.demo.token)["lifecycle"] == "paused"
    _shot(page, artifacts, "bots-paused")
    page.click(f"#resume-{bot_id}")
    page.wait_for_selector(f"{badge}:has-text('online')", timeout=WAIT_MS)
    assert stack.call("query", "bots:get", {"bot_id": bot_id},
                      stack.demo.token)["desired_state"] == "run"
    _shot(page, artifacts, "bots")
    context.close()


def test_two_traders_never_see_each_others_bots_trades_or_events(
        stack: Stack, browser: Any, console_errors: list[str]) -> None:
    demo_bot = stack.call("query", "bots:list", token=stack.demo.token)[0]["id"]
    other_bot = stack.other.bot_id
    ctx_a, page_a = _page(browser, console_errors)
    ctx_b, page_b = _page(browser, console_errors)
    _login(page_a, stack, stack.demo)
    _login(page_b, stack, stack.other)
    for page, own, foreign in ((page_a, demo_bot, other_bot), (page_b, other_bot, demo_bot)):
        page.goto(f"{stack.dashboard}/bots")
        page.wait_for_selector(f"#bot-{own}", timeout=WAIT_MS)
        assert page.locator(f"#bot-{foreign}").count() == 0
        assert page.locator(".bot-row").count() == 1
        page.goto(f"{stack.dashboard}/bots/{foreign}")
        page.wait_for_selector("#page-error", timeout=WAIT_MS)
        assert "no bot" in page.inner_text("#page-error")
        assert page.locator(".trade-row").count() == 0
    page_b.goto(f"{stack.dashboard}/")
    page_b.wait_for_selector(".event-row", timeout=WAIT_MS)
    assert "Demo MA cross" not in page_b.inner_text("#activity-feed")
    ctx_a.close()
    ctx_b.close()


def test_closing_the_tab_ends_its_subscriptions(stack: Stack, browser: Any,
                                               console_errors: list[str]) -> None:
    context, page = _page(browser, console_errors)
    _login(page, stack, stack.demo)
    page.wait_for_selector("#kpi-net_pnl", timeout=WAIT_MS)
    page.goto(f"{stack.dashboard}/account")  # a page that follows nothing
    earlier = _eventually(lambda: stack.subscribers() if page.is_visible("#page-title") else 0,
                          timeout=30) and stack.subscribers()
    _eventually(lambda: stack.subscribers() == earlier)
    page.goto(f"{stack.dashboard}/")
    _eventually(lambda: stack.subscribers() >= earlier + 5)
    context.close()
    _eventually(lambda: stack.subscribers() == earlier, timeout=30)


def test_reload_keeps_the_session_logout_ends_it_and_account_changes_password(
        stack: Stack, browser: Any, artifacts: Path, console_errors: list[str]) -> None:
    context, page = _page(browser, console_errors)
    _login(page, stack, stack.other)
    page.reload()
    page.wait_for_selector("#kpi-net_pnl", timeout=WAIT_MS)
    assert page.url == f"{stack.dashboard}/"
    page.goto(f"{stack.dashboard}/account")
    page.fill("#old_password-input", "wrong-password")
    page.fill("#new_password-input", "a-new-password-1")
    page.fill("#confirm-input", "a-new-password-1")
    page.click("#change-password-submit")
    page.wait_for_selector("#password-error", timeout=WAIT_MS)
    assert "current password is wrong" in page.inner_text("#password-error")
    page.fill("#old_password-input", stack.other.password)
    page.fill("#new_password-input", "a-new-password-1")
    page.fill("#confirm-input", "a-new-password-1")
    page.click("#change-password-submit")
    page.wait_for_selector("#password-changed", timeout=WAIT_MS)
    stack.other.password = "a-new-password-1"
    _shot(page, artifacts, "account")
    token = page.evaluate("() => window.localStorage.getItem('plutarc_session')")
    page.click("#logout")
    page.wait_for_url(f"{stack.dashboard}/login", timeout=WAIT_MS)
    _shot(page, artifacts, "login")
    answer = httpx.post(f"{stack.api}/api/query", json={"path": "auth:me"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 401
    page.goto(f"{stack.dashboard}/bots")
    page.wait_for_url(f"{stack.dashboard}/login", timeout=WAIT_MS)
    context.close()
    stack.login(stack.other)  # later tests log in with the new password


def test_a_session_ended_elsewhere_returns_the_open_page_to_the_login(
        stack: Stack, browser: Any, console_errors: list[str]) -> None:
    context, page = _page(browser, console_errors)
    email = f"newcomer-{int(time.time() * 1000)}@example.com"
    page.goto(f"{stack.dashboard}/signup")
    page.fill("#email-input", email)
    page.fill("#password-input", "newcomer-password")
    page.fill("#confirm-input", "newcomer-password")
    page.click("#signup-submit")
    page.wait_for_url(f"{stack.dashboard}/", timeout=WAIT_MS)
    page.wait_for_selector("#no-bots", timeout=WAIT_MS)  # the empty state says what to do
    assert "create one" in page.inner_text("#no-bots")
    token = page.evaluate("() => window.localStorage.getItem('plutarc_session')")
    stack.call("mutation", "auth:logout", token=token)  # e.g. logged out in another tab
    page.wait_for_url(f"{stack.dashboard}/login", timeout=WAIT_MS)
    page.wait_for_selector("#login-notice", timeout=WAIT_MS)
    assert "session has ended" in page.inner_text("#login-notice")
    context.close()


def test_stop_asks_whether_to_close_positions_and_says_what_it_did(
        stack: Stack, browser: Any, console_errors: list[str]) -> None:
    bot_id = stack.other.bot_id
    context, page = _page(browser, console_errors)
    _login(page, stack, stack.other)
    page.goto(f"{stack.dashboard}/bots")
    page.click(f"#stop-{bot_id}")
    page.wait_for_selector("#stop-keep", timeout=WAIT_MS)
    page.click("#stop-keep")
    page.wait_for_selector("#action-result", timeout=WAIT_MS)
    assert "Reporter bot asked to stop, keeping its positions" in page.inner_text("#action-result")
    bot = stack.call("query", "bots:get", {"bot_id": bot_id}, stack.other.token)
    assert (bot["desired_state"], bot["close_positions"]) == ("stop", False)
    page.wait_for_selector(f"#lifecycle-{bot_id}:has-text('stopping')", timeout=WAIT_MS)
    context.close()
