"""How the dashboard writes numbers and times: money with its currency and sensible decimals,
percentages as percentages, times in UTC, durations in words. Pure functions of the backend's
JSON values (Decimal strings, ISO times); "—" for a value that does not exist (yet)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

MISSING = "—"
MINUS = "−"  # a real minus sign: it lines up with the digits


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def number(value: Any, places: int = 2, signed: bool = False) -> str:
    """`1,234.57`; with `signed`, `+1.20` / `−1.20`."""
    d = _dec(value)
    if d is None:
        return MISSING
    text = f"{abs(d):,.{places}f}"
    if d < 0 and text.strip("0.,") != "":
        return MINUS + text
    return ("+" + text) if signed and d > 0 else text


def money(value: Any, currency: str = "USDT", signed: bool = False) -> str:
    """Money to the cent (to 4 places below a cent, so a fee of 0.0034 is not shown as 0.00)."""
    d = _dec(value)
    if d is None:
        return MISSING
    places = 4 if d != 0 and abs(d) < Decimal("0.01") else 2
    return f"{number(d, places, signed)} {currency}"


def price(value: Any) -> str:
    """An exchange price exactly as quoted (the backend trims trailing zeros), grouped."""
    d = _dec(value)
    if d is None:
        return MISSING
    places = max(0, -d.as_tuple().exponent) if isinstance(d.as_tuple().exponent, int) else 2
    return number(d, min(places, 8))


def quantity(value: Any) -> str:
    d = _dec(value)
    return MISSING if d is None else format(d.normalize(), "f")


def percent(value: Any, already_percent: bool = False, signed: bool = False) -> str:
    """A fraction (0.5) or a percentage (50) as `50.00%`."""
    d = _dec(value)
    if d is None:
        return MISSING
    return number(d if already_percent else d * 100, 2, signed) + "%"


def ratio(value: Any) -> str:
    """Sharpe, Sortino, profit factor: two decimals, or "—" when undefined."""
    return number(value, 2)


def utc(value: Any) -> str:
    """`2026-12-06 11:46:00 UTC` from an ISO time (or seconds since the epoch)."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, int | float):
        at = datetime.fromtimestamp(value, UTC)
    else:
        at = datetime.fromisoformat(str(value)).astimezone(UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def epoch_s(value: str) -> int:
    """Seconds since the epoch of an ISO time (the charts' time axis)."""
    return int(datetime.fromisoformat(value).timestamp())


def duration(seconds: Any) -> str:
    """`45s`, `26m 0s`, `3h 05m`, `2d 4h`."""
    d = _dec(seconds)
    if d is None:
        return MISSING
    s = int(d)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def tone(value: Any) -> str:
    """The colour a signed amount is shown in: green, red, or neutral gray."""
    d = _dec(value)
    if d is None or d == 0:
        return "gray"
    return "green" if d > 0 else "red"


def quote_currency(symbol: str) -> str:
    """The settlement currency of a linear contract: BTCUSDT → USDT."""
    for ccy in ("USDT", "USDC", "USD"):
        if symbol.endswith(ccy):
            return ccy
    return "USDT"
