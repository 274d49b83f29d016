"""JSON from clients: parsed with bounds, then checked once before anything reads it.

Every value that crosses into the backend from a client (HTTP bodies, WebSocket frames,
SSE arguments) passes `parse` or `check`, so no function ever sees:
- nesting deeper than the limit (deep JSON would exhaust the stack later: pydantic, the
  diff, `json.dumps` of the stored row);
- an integer outside a signed 64-bit column (PostgreSQL's `bigint`), or a float that is not
  finite (`1e400` parses as infinity);
- a string holding NUL (PostgreSQL text cannot store it) or a lone UTF-16 surrogate (cannot
  be encoded as UTF-8: asyncpg and the JSON encoder fail on it).

Each refusal is a BadRequest naming the path of the bad value, e.g. `args.positions.0.size`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from backend.limits import INT64_MAX
from backend.runtime.errors import BadRequest

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(raw: bytes | str, max_depth: int, name: str = "body", prefix: str = "") -> Any:
    """Parse client JSON and check it (see the module docstring); BadRequest on any fault.
    `name` is what a whole-input fault is about ("body", "frame", "args"); members are named
    by their path after `prefix` ("" names them alone: `offset`, `args.bot_id`)."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise BadRequest(f"{name}: JSON nested deeper than {max_depth} levels", name) from None
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(f"{name} is not valid JSON", name) from None
    check(value, max_depth, prefix)
    return value


def check(value: Any, max_depth: int, field: str = "args") -> None:
    """Walk a decoded JSON value (without recursion); BadRequest naming the first bad path.
    `field` names the root ("" for a body or a frame, whose members are named alone)."""
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, path)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -INT64_MAX - 1 <= item <= INT64_MAX:
                raise BadRequest(f"{path or 'input'}: integer out of range (64-bit signed)",
                                 path or None)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise BadRequest(f"{path or 'input'}: number out of range", path or None)
        elif isinstance(item, (dict, list)):
            if depth >= max_depth:
                raise BadRequest(f"{path or 'input'}: JSON nested deeper than {max_depth} "
                                 "levels", path or None)
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key, path)
                    stack.append((child, _join(path, key[:64]), depth + 1))
            else:
                stack.extend((child, _join(path, i), depth + 1) for i, child in enumerate(item))


def _join(path: str, key: str | int) -> str:
    """`args.positions.0`; at a nameless root (a WebSocket frame) just the key."""
    return f"{path}.{key}" if path else str(key)


def _check_text(text: str, path: str) -> None:
    if match := _BAD_TEXT.search(text):
        what = "a NUL character" if match.group() == "\x00" else "a lone surrogate"
        raise BadRequest(f"{path or 'input'}: text contains {what}", path or None)


def encoded_size(value: Any) -> int:
    """Bytes of `value` as compact JSON (what a stored JSON field costs)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
