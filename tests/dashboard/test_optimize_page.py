"""The optimize page in a real browser against the real stack: a trader opens it from the
strategies page, runs a small search over the local exchange's history, watches it end, and
reads the ranked table (in- and out-of-sample) equal to `optimize:run`; a bad range is
refused with the backend's words; a larger search shows its progress bar and is cancelled."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontend.optimize_view import values_text
from tests.dashboard.stack import Stack, running_stack
from tests.dashboard.test_dashboard import WAIT_MS, _eventually, _page, _shot
from tests.domain.test_optimize_runs import TEMPLATE


@pytest.fixture(scope="module")
def stack(db_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's stack, without demo bots."""
    with running_stack(db_dsn, tmp_path_factory.mktemp("optimize-page-data"), demo=False) as s:
        yield s


@pytest.fixture
def console_errors() -> Iterator[list[str]]:
    errors: list[str] = []
    yield errors
    assert not errors, f"browser console errors: {errors}"


def test_a_small_search_from_the_page_shows_its_ranked_table(
        stack: Stack, browser: Any, artifacts: Path, console_errors: list[str]) -> None:
    token = stack.demo.token
    strategy = stack.call("mutation", "strategies:create", {"template": TEMPLATE}, token)
    context, page = _page(browser, console_errors)
    page.goto(f"{stack.dashboard}/login")
    page.fill("#email-input", stack.demo.email)
    page.fill("#password-input", stack.demo.password)
    page.click("#login-submit")
    page.wait_for_url(f"{stack.dashboard}/", timeout=WAIT_MS)
    page.click("#nav-strategies")
    page.click(f"#open-{strategy['id']}")
    page.click("#optimize-open")
    page.wait_for_url(f"{stack.dashboard}/strategies/{strategy['id']}/optimize",
                      timeout=WAIT_MS)
    _eventually(lambda: "signals.0.fast = 5" in page.inner_text("#opt-hints"))

    page.fill("#opt-params", "signals.0.fast=30:3:1")
    page.click("#opt-start")
    page.wait_for_selector("#opt-error", timeout=WAIT_MS)
    _eventually(lambda: "START 30 is above STOP 3" in page.inner_text("#opt-error"))
    _shot(page, artifacts, "optimize-refused")

    page.fill("#opt-params", "signals.0.fast=2:20:2\nsignals.0.slow=25:60:5")
    page.fill("#opt-candles", "500")
    page.fill("#opt-top", "5")
    page.click("#opt-start")
    page.wait_for_selector("#opt-status", timeout=WAIT_MS)
    _eventually(lambda: page.inner_text("#opt-status").startswith("Done"), timeout=120)
    page.wait_for_selector("#opt-ranked", timeout=WAIT_MS)

    [listed] = stack.call("query", "optimize:runs", {"strategy_id": strategy["id"]}, token)
    run = stack.call("query", "optimize:run", {"run_id": listed["id"]}, token)
    assert run["status"] == "done" and run["trials"] == 80  # 10 x 8 points, one fold
    ranked = page.locator("#opt-ranked tbody tr")
    assert ranked.count() == len(run["ranked"]) > 0
    first = ranked.nth(0).inner_text()
    assert values_text(run["params"], run["ranked"][0]["values"]) in first
    assert "80 trials" in page.inner_text("#opt-trials")
    assert page.locator("#opt-folds tbody tr").count() == 1
    assert f"#{run['id']}" in page.inner_text("#opt-runs")
    _shot(page, artifacts, "optimize-done")

    page.fill("#opt-params", "signals.0.fast=2:41:1\nsignals.0.slow=45:164:1")  # 4,800 points
    page.click("#opt-start")
    page.wait_for_selector("#opt-progress", timeout=WAIT_MS)  # the new run, live
    _eventually(lambda: page.inner_text("#opt-status").startswith("Running: "))
    _shot(page, artifacts, "optimize-running")
    page.click("#opt-cancel")
    _eventually(lambda: page.inner_text("#opt-status").startswith("Cancelled after"))
    assert page.locator("#opt-progress").count() == 0
    context.close()
