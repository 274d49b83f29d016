"""Turn function results into JSON: Decimal as a string (money keeps its digits), times as
ISO 8601 in UTC, UUIDs as strings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_jsonable(value: Any) -> Any:
    """A copy of `value` made only of JSON types."""
    kind = type(value)
    if kind in _PLAIN:  # the common case first, by exact type (subclasses take the long way)
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): to_jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump())
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), separators=(",", ":"), allow_nan=False)
