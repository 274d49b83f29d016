"""The trader's journey in a real browser (Debian's Chromium through Playwright) on the real
stack with the deployment supervisor (tests/dashboard/stack.py, `demo=False`), as a new
user: sign up → add the local exchange's demo key and test it → build a template in the
editor (a field out of bounds shows its error; fix it) → backtest it over an uploaded CSV
(one past the size bound is refused in words) and the exchange's history, and see trades →
deploy it on the local provider → the bot turns online and its first trade appears on its page
without a reload → a second bot on the same key and symbol is refused with the backend's
message → a new version reaches the running bot (its event says so) → removing the
key in use is refused naming the bot. The key's secret never appears in the DOM, an HTTP
response or a WebSocket frame received; every page is screenshotted into artifacts/dashboard/
and no page logs a console error. The journey's time is printed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exchange.config import DEMO_API_KEY, DEMO_API_SECRET
from frontend import backtest_job
from strategy.backtest.synthetic import random_walk
from strategy.candles_csv import write_candles
from tests.dashboard.stack import Stack, running_stack

WAIT_MS = 30_000
JOURNEY_BUDGET_S = 600  # measured ~60-120 s on the shared 2-core machine; 5x margin


@pytest.fixture(scope="module")
def deploy_stack(db_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(db_dsn, tmp_path_factory.mktemp("journey-data"), demo=False) as s:
        yield s


class Watch:
    """Everything the browser received: HTTP response bodies, WebSocket frames, console
    errors."""

    def __init__(self, page: Any) -> None:
        self.bodies: list[str] = []
        self.frames: list[str] = []
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("response", self._response)
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _response(self, response: Any) -> None:
        try:
            self.bodies.append(response.body().decode("utf-8", "replace"))
        except Exception:  # a redirect or an evicted body has none to read
            pass

    def _frame(self, payload: Any) -> None:
        self.frames.append(payload if isinstance(payload, str) else
                           payload.decode("utf-8", "replace"))


def _shot(page: Any, artifacts: Path, name: str, full_page: bool = True) -> None:
    """A screenshot; dialogs are taken as the viewport shows them (they float over it)."""
    page.screenshot(path=str(artifacts / f"journey-{name}.png"), full_page=full_page)


def _set(page: Any, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.locator(selector).blur()


def test_a_new_trader_builds_backtests_and_deploys_a_strategy_in_the_browser(
        deploy_stack: Stack, browser: Any, artifacts: Path) -> None:
    stack, base = deploy_stack, deploy_stack.dashboard
    started = time.monotonic()
    context = browser.new_context(viewport={"width": 1366, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    watch = Watch(page)
    try:
        _journey(stack, base, page, watch, artifacts, started)
    except Exception:
        _shot(page, artifacts, "failed")
        print("console errors:", watch.errors)
        raise
    finally:
        context.close()


def _journey(stack: Stack, base: str, page: Any, watch: Watch, artifacts: Path,
             started: float) -> None:
    email, password = f"journey-{uuid.uuid4().hex[:6]}@example.com", "journey-pass-123"

    # sign up
    page.goto(f"{base}/signup")
    page.fill("#email-input", email)
    page.fill("#password-input", password)
    page.fill("#confirm-input", password)
    page.click("#signup-submit")
    page.wait_for_url(f"{base}/", timeout=WAIT_MS)

    # add the local exchange's demo key and test it
    page.click("#nav-keys")
    page.wait_for_url(f"{base}/keys", timeout=WAIT_MS)
    page.fill("#key-label", "Local demo")
    page.fill("#key-id", DEMO_API_KEY)
    page.fill("#key-secret", DEMO_API_SECRET)
    page.click("#key-add")
    page.wait_for_selector("#key-added", timeout=WAIT_MS)
    assert page.input_value("#key-secret") == ""  # the form forgot it
    row = page.locator(".key-row").first
    assert DEMO_API_KEY[-4:] in row.inner_text() and "local" in row.inner_text()
    row.locator("button", has_text="Test connection").click()
    key_id = row.get_attribute("id").removeprefix("key-")
    page.wait_for_selector(f"#key-test-{key_id}:has-text('works')", timeout=WAIT_MS)
    assert "no IP restriction" in page.inner_text(f"#key-warn-{key_id}")
    _shot(page, artifacts, "keys")

    # build a template in the editor: out of bounds shows its error, then fixed
    page.click("#nav-strategies")
    page.wait_for_url(f"{base}/strategies", timeout=WAIT_MS)
    page.click("#new-strategy")
    page.wait_for_selector("#f-signals-0-params-fast", timeout=WAIT_MS)
    _set(page, "#f-name", "Journey MA cross")
    _set(page, "#f-signals-0-params-fast", "1")
    page.wait_for_selector("#f-signals-0-params-fast-error", timeout=WAIT_MS)
    assert ">= 2" in page.inner_text("#f-signals-0-params-fast-error")
    _shot(page, artifacts, "editor-error")
    _set(page, "#f-signals-0-params-fast", "2")
    _set(page, "#f-signals-0-params-slow", "3")
    page.wait_for_selector("#template-ok", timeout=WAIT_MS)
    page.click("#add-exits-stop_loss")
    page.wait_for_selector("#c-exits-0", timeout=WAIT_MS)
    page.click("#add-exits-opposite_signal")  # trades close at the next cross: many trades
    page.wait_for_selector("#c-exits-1", timeout=WAIT_MS)
    page.click("#save-strategy")
    page.wait_for_selector("#saved:has-text('version 1')", timeout=WAIT_MS)

    # an uploaded CSV: past the size bound it is refused in words; a good one is backtested
    big = artifacts / "journey-too-big.csv"
    big.write_bytes(b"x" * (backtest_job.MAX_CSV_BYTES + 1))
    page.set_input_files("#bt-csv input[type=file]", str(big))
    page.click("#bt-upload")
    page.wait_for_selector("#bt-upload-error:has-text('the limit is 8 MB')", timeout=WAIT_MS)
    big.unlink()
    good = artifacts / "journey-candles.csv"
    write_candles(good, random_walk(3000, seed=4, trend=0.3))
    page.set_input_files("#bt-csv input[type=file]", str(good))
    page.click("#bt-upload")
    page.wait_for_selector("#bt-upload-name:has-text('3,000 candles')", timeout=WAIT_MS)
    page.click("#bt-run")
    page.wait_for_selector("#bt-summary:has-text('3,000 candles')", timeout=60_000)
    _shot(page, artifacts, "backtest-csv")

    # backtest it over the local exchange's history and see trades
    page.locator("#bt-source").get_by_text("exchange", exact=True).click()
    page.click("#bt-run")
    page.wait_for_selector("#bt-summary:not(:has-text('3,000 candles'))", timeout=60_000)
    page.wait_for_selector("#bt-summary", timeout=60_000)
    summary = page.inner_text("#bt-summary")
    assert " 0 trades" not in summary, summary
    assert page.locator("#bt-trades .row").count() > 0
    _shot(page, artifacts, "backtest")

    # deploy it on the local provider: the bot page shows it going online, then a trade
    page.click("#deploy-open")
    page.wait_for_selector("#deploy-go", timeout=WAIT_MS)
    page.wait_for_selector("#deploy-guidance:has-text('closest')", timeout=WAIT_MS)
    _shot(page, artifacts, "deploy-dialog", full_page=False)
    page.click("#deploy-go")
    page.wait_for_url(f"{base}/bots/*", timeout=WAIT_MS)
    bot_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    page.wait_for_selector("#bot-subtitle:has-text('online')", timeout=90_000)
    page.wait_for_selector("#trades-table .trade-row", timeout=120_000)  # no reload
    _shot(page, artifacts, "bot-online")

    # a new version reaches the running bot: its event says so
    page.click("#nav-strategies")
    page.click(".strategy-row a")
    page.wait_for_selector("#f-signals-0-params-slow", timeout=WAIT_MS)
    _set(page, "#f-signals-0-params-slow", "4")
    page.click("#save-strategy")
    page.wait_for_selector("#saved:has-text('version 2')", timeout=WAIT_MS)
    page.click("#deploy-open")  # a second bot on the same key and symbol: the backend says no
    page.wait_for_selector("#deploy-guidance:has-text('closest')", timeout=WAIT_MS)
    page.click("#deploy-go")
    page.wait_for_selector("#deploy-error:has-text('already trades BTCUSDT')", timeout=WAIT_MS)
    _shot(page, artifacts, "deploy-refused", full_page=False)
    page.keyboard.press("Escape")
    page.click(f"#move-bot-{bot_id}")
    page.wait_for_selector("#saved:has-text('runs version 2')", timeout=WAIT_MS)
    page.click("#diff-show")
    page.wait_for_selector("#diff-table", timeout=WAIT_MS)
    assert "signals[0].params.slow" in page.inner_text("#diff-table")
    _shot(page, artifacts, "strategies")
    page.goto(f"{base}/bots/{bot_id}")
    page.wait_for_selector("#bot-events:has-text('template version 2')", timeout=90_000)

    # removing the key in use is refused, naming the bot
    page.click("#nav-keys")
    page.wait_for_selector(f"#key-remove-{key_id}", timeout=WAIT_MS)
    page.click(f"#key-remove-{key_id}")
    page.wait_for_selector("#key-remove-error", timeout=WAIT_MS)
    assert "Journey MA cross bot" in page.inner_text("#key-remove-error")

    # the providers & regions page
    page.click("#nav-regions")
    page.wait_for_selector("#regions-table .row", timeout=WAIT_MS)
    assert "Singapore" in page.inner_text("#engines-table")
    _shot(page, artifacts, "regions")
    journey_s = time.monotonic() - started
    print(f"\njourney: {journey_s:.1f} s")

    for name in ("/", "/bots", "/keys", "/strategies"):
        page.goto(f"{base}{name}")
        page.wait_for_load_state("networkidle")
        assert DEMO_API_SECRET not in page.content(), f"secret in the DOM of {name}"
    assert not [b for b in watch.bodies if DEMO_API_SECRET in b], "secret in an HTTP response"
    assert not [f for f in watch.frames if DEMO_API_SECRET in f], "secret in a WebSocket frame"
    assert watch.frames, "no WebSocket frame was seen: the check above checked nothing"
    assert not watch.errors, f"browser console errors: {watch.errors}"
    assert journey_s < JOURNEY_BUDGET_S
