"""Routing keys: one canonical text form for a value, whether it came from a query parameter,
a SQL literal, or a change notice's JSON.

Two values that PostgreSQL could find equal on a routing column (int, bool, uuid, enum,
short string) must map to the same text; mapping unequal values together only costs an extra
re-run, so the rules lean towards merging:

- integers, integral decimals and integer-looking strings -> decimal digits ("042" -> "42");
- other numbers and number-looking strings -> plain decimal notation ("1.50" -> "1.5");
- booleans and PostgreSQL's boolean spellings (t, true, yes, on, 1 / f, false, no, off, 0,
  any case, prefixes as PostgreSQL accepts them) -> "1" / "0";
- UUIDs in any accepted spelling -> lowercase hyphenated;
- other strings -> themselves without trailing spaces (char(n) pads with spaces);
- None (SQL NULL) -> a marker no string can equal.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

NULL = "\x00null"
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_UUID = re.compile(r"\{?[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}\}?")
_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off")


def _decimal_text(d: Decimal) -> str:
    if not d.is_finite():
        return str(d)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def _bool_word(text: str) -> str | None:
    word = text.lower()
    if not word:
        return None
    # PostgreSQL accepts unique prefixes: t, tr, y, ye, f, fa, n, on, of, off...
    if any(w.startswith(word) for w in _TRUE) and word != "o":
        return "1"
    if any(w.startswith(word) for w in _FALSE) and word != "o":
        return "0"
    return None


def routing_value(value: Any) -> str:
    """The canonical text of `value` for routing keys (see the module docstring)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        try:
            return _decimal_text(Decimal(repr(value)) if isinstance(value, float) else value)
        except InvalidOperation:
            return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        stripped = value.strip()
        if _NUMBER.fullmatch(stripped):
            return _decimal_text(Decimal(stripped))
        if _UUID.fullmatch(stripped):
            return str(uuid.UUID(stripped))
        word = _bool_word(stripped)
        if word is not None:
            return word
        return value.rstrip(" ")
    return str(value)
