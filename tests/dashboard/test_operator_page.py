"""The operator's reactivity profiler (/operator) in a real browser against the real stack: a
browser on this machine sees it without a trader session; a trader's tab subscribes (the
other trader's alerts page), the test commits reports of the trader's bot, and the row of
`alerts:list` shows the invalidations and re-runs /api/stats counts, with the trader's key
as the source that invalidated it most; rows are sorted by total re-run time. A browser off
this machine (as the dashboard sees it) is refused without a token, and with a wrong one,
and sees the profiler with the right one; `frontend.api.operator_stats` also refuses it
through an API that does not trust the dashboard's forwarded address. Screenshots: artifacts/dashboard/operator*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontend import api
from tests.dashboard.stack import Stack
from tests.dashboard.test_dashboard import (
    WAIT_MS,
    _eventually,
    _login,
    _page,
    _shot,
)

PATH = "alerts:list"
REMOTE = "203.0.113.7"  # a browser off this machine (TEST-NET-3)


@pytest.fixture(scope="module", autouse=True)
def _dashboard_behind_one_proxy() -> Iterator[None]:
    """The dashboard believes one proxy's X-Forwarded-For (Reflex's trusted_proxy_hops), as
    behind a reverse proxy: a browser sending that header is, to it, at that address. Set
    before the module's stack starts (autouse fixtures come first)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REFLEX_TRUSTED_PROXY_HOPS", "1")
        yield


def _stats(stack: Stack) -> dict[str, Any]:
    return httpx.get(f"{stack.api}/api/stats", timeout=10).json()


def _millis(text: str) -> float:
    number, unit = re.fullmatch(r"([\d,.]+) (ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number.replace(",", "")) * (1000 if unit == "s" else 1)


def test_the_profiler_shows_each_paths_numbers_for_an_operator(
        stack: Stack, browser: Any, artifacts: Path, console_errors: list[str]) -> None:
    context, page = _page(browser, console_errors)
    page.goto(f"{stack.dashboard}/operator")  # loopback: an operator, no trader session
    page.wait_for_selector("#paths-table .path-row", timeout=WAIT_MS)
    assert page.inner_text("#kpi-processes").splitlines()[-1].startswith("1 (pid ")

    trader_context, trader_page = _page(browser, console_errors)
    _login(trader_page, stack, stack.other)
    trader_page.goto(f"{stack.dashboard}/alerts")  # subscribes to alerts:list
    _eventually(lambda: _stats(stack)["paths"].get(PATH, {}).get("subscribers"))
    before = _stats(stack)["paths"][PATH]
    for n in range(5):
        stack.call("mutation", "bot:reportEvent", {
            "report_id": f"operator-{n}", "kind": "exchange", "level": "error",
            "message": f"order rejected (operator test {n})"}, stack.other.bot_token)
    user_id = stack.call("query", "auth:me", {}, stack.other.token)["id"]

    def row_equals_the_api() -> bool:
        path = _stats(stack)["paths"][PATH]
        cells = page.locator("#path-alerts-list td").all_inner_texts()
        return (len(cells) == 12  # the page may not show the path yet
                and path["invalidations"] > before["invalidations"]
                and path["reruns"] > before["reruns"]
                and cells[0] == PATH
                and cells[3] == f"{path['invalidations']:,}"
                and cells[4] == f"{path['reruns']:,}"
                and cells[10] == f"{path['errors']:,}"
                and path["top_sources"][0]["source"] in cells[11])

    _eventually(row_equals_the_api)  # refreshed on its own: no reload
    assert f"notifications.user_id={user_id}" in page.inner_text("#path-alerts-list")
    totals = [_millis(t) for t in page.locator("#paths-table .path-row td:nth-child(6)")
              .all_inner_texts()]
    assert totals == sorted(totals, reverse=True) and len(totals) >= 3
    _shot(page, artifacts, "operator")
    trader_context.close()
    context.close()


def test_a_browser_off_this_machine_sees_nothing_without_the_operator_token(
        stack: Stack, browser: Any, artifacts: Path, console_errors: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    token = "operator-token-for-the-test"
    monkeypatch.setenv(api.OPERATOR_TOKEN_ENV, token)  # the API reads it per request
    context = browser.new_context(viewport={"width": 1366, "height": 700},
                                  extra_http_headers={"X-Forwarded-For": REMOTE})
    page = context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{stack.dashboard}/operator")
    page.wait_for_selector("#operator-refused", timeout=WAIT_MS)
    assert page.inner_text("#operator-refused") == api.NOT_OPERATOR
    assert page.locator("#paths-table").count() == 0 and "user_id" not in page.content()
    _shot(page, artifacts, "operator-refused")
    page.fill("#operator-token", "not-the-token")
    page.click("#operator-unlock")
    _eventually(lambda: page.inner_text("#operator-refused")
                == "The operator token was not accepted.")
    assert "user_id" not in page.content()
    page.fill("#operator-token", token)
    page.click("#operator-unlock")
    page.wait_for_selector("#path-alerts-list", timeout=WAIT_MS)
    assert token not in page.content()  # typed, never sent back
    context.close()


def test_the_dashboard_asks_for_a_remote_browser_only_with_a_token_the_api_checked(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "operator-token-for-the-test"
    monkeypatch.setenv(api.OPERATOR_TOKEN_ENV, token)
    monkeypatch.setenv(api.API_URL_ENV, stack.api)

    def refused(client_ip: str, offered: str | None) -> str:
        with pytest.raises(api.DashboardError) as no:
            stack.run(api.operator_stats(client_ip, offered))
        assert no.value.forbidden
        return no.value.message

    assert refused(REMOTE, None) == api.NOT_OPERATOR  # not even asked
    assert refused("", token) == api.NOT_OPERATOR  # an address the dashboard cannot tell
    assert refused(REMOTE, "not-the-token") == "The operator token was not accepted."
    answer = stack.run(api.operator_stats(REMOTE, token))
    assert answer["operator"] == "token" and answer["pid"]
    # an API that does not believe the dashboard's X-Forwarded-For sees the dashboard's own
    # loopback address: a remote browser must not get in that way, whatever it typed
    monkeypatch.delenv(api.PROXY_SECRET_ENV)
    assert "does not trust this dashboard" in refused(REMOTE, "not-the-token")
