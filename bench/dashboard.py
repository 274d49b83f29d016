"""The dashboard's speed, in a real browser (Debian's Chromium) against the real stack
(tests/dashboard/stack.py: database, API, dashboard, local exchange, demo bot):

1. commit → DOM: the reporter bot commits a trade report; a MutationObserver in the bot page
   notes when its row appears in the trades table. p50/p99 over `--updates` reports, next to
   the baseline measured in the same run: the same commit reaching a plain Python client
   subscribed to the same query (`backend/client.py`), i.e. the backend's own latency.
   Goal: p99 ≤ 250 ms on 2 cores.
2. the overview's first load after the build: a fresh browser context (empty cache) with a
   signed-in session opens `/` until the KPI cards show values. Baseline: the static login
   page in a fresh context. Goal ≤ 1 s.

    .venv/bin/python bench/dashboard.py [--updates 120] [--loads 10] [--dsn URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright

from backend.client import Client
from backend.testing.databases import (
    create_database,
    create_migrated_template,
    drop_database,
    unique_name,
)
from tests.dashboard.stack import CHROMIUM, Stack, market_now, start_stack, stop_stack

OBSERVER = """() => {
  window.__seen = {};
  new MutationObserver(() => {
    for (const row of document.querySelectorAll('.trade-row')) {
      if (!(row.id in window.__seen)) window.__seen[row.id] = Date.now();
    }
  }).observe(document.body, {childList: true, subtree: true, attributes: true,
                            characterData: true});
}"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Baseline:
    """A plain Python client subscribed to the reporter bot's trades: when each id arrives."""

    def __init__(self, stack: Stack) -> None:
        self.seen: dict[int, float] = {}
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._follow(stack), self.loop)
        self.ready.wait(30)

    async def _follow(self, stack: Stack) -> None:
        async with Client(stack.api, stack.other.token) as client:
            args = {"bot_id": stack.other.bot_id, "limit": 20}
            async for value in client.subscribe("bots:trades", args):
                now = time.time()
                for item in value["items"]:
                    self.seen.setdefault(item["id"], now)
                self.ready.set()


def commit_to_dom(stack: Stack, browser, updates: int) -> tuple[list[float], list[float]]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(f"{stack.dashboard}/login")
    page.fill("#email-input", stack.other.email)
    page.fill("#password-input", stack.other.password)
    page.click("#login-submit")
    page.wait_for_url(f"{stack.dashboard}/")
    base = market_now(stack) - timedelta(hours=3)
    stack.report_trade(base)
    page.goto(f"{stack.dashboard}/bots/{stack.other.bot_id}")
    page.wait_for_selector(".trade-row")
    page.evaluate(OBSERVER)
    baseline = Baseline(stack)
    dom, plain = [], []
    for n in range(1, updates + 1):
        trade = stack.report_trade(base + timedelta(seconds=n))
        committed = trade["committed_at"]
        row = f"trade-{trade['id']}"
        page.wait_for_selector(f"#{row}", timeout=10_000)
        dom.append(page.evaluate(f"() => window.__seen['{row}']") - committed * 1000)
        deadline = time.monotonic() + 10
        while trade["id"] not in baseline.seen and time.monotonic() < deadline:
            time.sleep(0.002)
        plain.append((baseline.seen[trade["id"]] - committed) * 1000)
        time.sleep(0.05)
    context.close()
    return dom, plain


def _load(browser, url: str, selector: str, token: str | None = None) -> float:
    """Milliseconds from opening `url` in a fresh context (empty cache) until `selector`."""
    context = browser.new_context()
    if token:
        context.add_init_script(f"window.localStorage.setItem('plutarc_session', '{token}')")
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(selector)
    elapsed = (time.perf_counter() - start) * 1000
    context.close()
    return elapsed


def first_loads(stack: Stack, browser, loads: int) -> tuple[list[float], list[float]]:
    overview, login = [], []
    for _ in range(loads):
        overview.append(_load(browser, f"{stack.dashboard}/", "#kpi-net_pnl .kpi-value",
                              stack.demo.token))
        login.append(_load(browser, f"{stack.dashboard}/login", "#login-submit"))
    return overview, login


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=120)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--dsn", default=os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    template = asyncio.run(create_migrated_template(args.dsn))
    name = unique_name("plutarc_bench_dashboard")
    dsn = asyncio.run(create_database(args.dsn, name, template=template))
    os.environ.setdefault("PLUTARC_MASTER_KEY_FILE", tempfile.mktemp(suffix=".key"))
    print("starting the stack (database, API, dashboard build, exchange, demo bot)...")
    started = time.perf_counter()
    stack = start_stack(dsn, Path(tempfile.mkdtemp(prefix="plutarc-bench-dashboard-")))
    print(f"stack up in {time.perf_counter() - started:.1f} s")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            dom, plain = commit_to_dom(stack, browser, args.updates)
            overview, login = first_loads(stack, browser, args.loads)
            browser.close()
    finally:
        stop_stack(stack)
        asyncio.run(drop_database(args.dsn, name))
        asyncio.run(drop_database(args.dsn, template))
    print(f"\ncommit → row in the DOM over {len(dom)} trade reports (ms)")
    print("| path | p50 | p99 | max |\n| --- | --- | --- | --- |")
    for label, values in (("Python client (baseline)", plain), ("dashboard DOM", dom)):
        print(f"| {label} | {pct(values, .5):.1f} | {pct(values, .99):.1f} | {max(values):.1f} |")
    print(f"dashboard p99 / baseline p99: ×{pct(dom, .99) / max(pct(plain, .99), 0.1):.1f}; "
          f"goal p99 ≤ 250 ms: {'met' if pct(dom, .99) <= 250 else 'MISSED'}")
    print(f"\nfirst load in a fresh browser context over {len(overview)} loads (ms)")
    print("| page | first | median | max |\n| --- | --- | --- | --- |")
    for label, values in (("/login (static, baseline)", login), ("/ overview (live KPIs)", overview)):
        print(f"| {label} | {values[0]:.0f} | {statistics.median(values):.0f} | {max(values):.0f} |")
    print(f"overview median / login median: ×{statistics.median(overview) / statistics.median(login):.1f}; "
          f"goal ≤ 1000 ms: {'met' if max(overview) <= 1000 else 'MISSED'}")


if __name__ == "__main__":
    main()
