"""The venue boundary holds: the bot's core never reads Bybit's JSON, paths or codes, never
imports the Bybit adapter, and no bot module imports the local exchange (the simulator)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

BOT = Path(__file__).parents[2] / "bot"
CORE = (
    "adoption.py",
    "guard_state.py",
    "instrument.py",
    "live_strategy.py",
    "positions.py",
    "protection.py",
    "reporting.py",
    "settling.py",
    "trade.py",
    "trader.py",
    "venue.py",
)
CAMEL = re.compile(r"^[a-z]+[A-Z]\w*$")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _strings(tree: ast.Module) -> set[str]:
    return {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _imports(tree: ast.Module) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return out


def _bybit_vocabulary() -> tuple[set[str], set[int]]:
    """Bybit's field names and paths as the adapter spells them, and its retCodes."""
    words: set[str] = set()
    for path in (BOT / "bybit").glob("*.py"):
        words |= {s for s in _strings(_tree(path)) if CAMEL.match(s) or s.startswith("/v5/")}
    words |= {"Buy", "Sell", "linear", "UNIFIED"}
    codes = {
        n.value.value
        for n in _tree(BOT / "bybit" / "errors.py").body
        if isinstance(n, ast.Assign)
        and isinstance(n.value, ast.Constant)
        and isinstance(n.value.value, int)
    }
    return words, codes


def test_the_vocabulary_is_found():
    words, codes = _bybit_vocabulary()
    assert {"execId", "orderLinkId", "stopOrderType", "/v5/position/trading-stop"} <= words
    assert {110017, 10001} <= codes


def test_no_bybit_field_path_or_code_in_the_core():
    words, codes = _bybit_vocabulary()
    leaks = {}
    for name in CORE:
        tree = _tree(BOT / name)
        found = sorted(_strings(tree) & words)
        found += sorted(
            str(n.value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and type(n.value) is int and n.value in codes
        )
        found += sorted(m for m in _imports(tree) if m.startswith("bot.bybit"))
        if found:
            leaks[name] = found
    assert leaks == {}


def test_no_bot_module_imports_the_local_exchange():
    importers = {
        str(path.relative_to(BOT)): sorted(
            m for m in _imports(_tree(path)) if m.split(".")[0] == "exchange"
        )
        for path in BOT.rglob("*.py")
    }
    assert {k: v for k, v in importers.items() if v} == {}
