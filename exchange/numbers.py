"""Decimal parsing and formatting the way Bybit writes numbers: strings, no exponent."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from exchange.errors import params_error

ZERO = Decimal(0)
MONEY = Decimal("0.00000001")  # 8 decimals: Bybit's precision for values, margins and PnL


def money(value: Decimal) -> str:
    """A computed USDT amount rounded to 8 decimals, trailing zeros trimmed."""
    return fmt(Decimal(value).quantize(MONEY))


def fmt(value: Decimal | int | None) -> str:
    """Plain decimal string ("" for None), trailing zeros of computed values trimmed."""
    if value is None:
        return ""
    d = Decimal(value)
    if d == d.to_integral_value():
        return format(d.quantize(Decimal(1)), "f")
    return format(d.normalize(), "f")


def fmt_step(value: Decimal, step: Decimal) -> str:
    """Format with exactly as many decimals as `step` (prices to tick, qty to lot step)."""
    return format(value.quantize(step if step < 1 else Decimal(1)), "f")


def parse_decimal(params: dict, name: str, required: bool = True) -> Decimal | None:
    """A Decimal parameter given as string or number; raises Bybit's 10001 when malformed."""
    raw = params.get(name)
    if raw in (None, ""):
        if required:
            raise params_error(f"{name} is required")
        return None
    if isinstance(raw, bool):
        raise params_error(f"{name} must be a number")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise params_error(f"{name} must be a number") from None
    if not value.is_finite():
        raise params_error(f"{name} must be a number")
    return value
