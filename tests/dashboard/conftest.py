"""One real stack per module (tests/dashboard/stack.py) and a Chromium driven by Playwright:
Debian's /usr/bin/chromium, never a downloaded browser. Screenshots go to artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboard.stack import CHROMIUM, Stack, running_stack

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard"


@pytest.fixture(scope="module")
def stack(db_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(db_dsn, tmp_path_factory.mktemp("dashboard-data")) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def console_errors() -> Iterator[list[str]]:
    """The browser's console errors during a test (`_page` collects them): none allowed."""
    errors: list[str] = []
    yield errors
    assert not errors, f"browser console errors: {errors}"
