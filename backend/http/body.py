"""Request bodies read with bounds: the declared length is checked before a byte is read,
the streamed length while reading, and each chunk must arrive within the body timeout (a
client that sends half a body and stops is answered 408, not waited for forever)."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request

from backend.runtime import jsonin
from backend.runtime.errors import BadRequest, RequestTimeout, TooLarge


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"request body above {limit} bytes (PLUTARC_LIMIT_BODY_BYTES; "
                    "anonymous callers: PLUTARC_LIMIT_ANONYMOUS_BODY_BYTES)", field="body")


async def read_body(request: Request, limit: int, timeout_s: float) -> bytes:
    """The whole body, at most `limit` bytes; 413 above it, 408 when the client stalls."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest("Content-Length is not a number", field="body")
        if int(declared) > limit:
            raise _too_large(limit)
    body = bytearray()
    chunks = request.stream()
    while True:
        try:
            chunk = await asyncio.wait_for(anext(chunks), timeout_s)
        except StopAsyncIteration:
            return bytes(body)
        except TimeoutError:
            raise RequestTimeout(f"request body not received within {timeout_s:g} s",
                                 field="body") from None
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)


async def read_json(request: Request, limit: int, timeout_s: float, max_depth: int) -> Any:
    """The body as checked JSON (`{}` when empty); bad values are named by their path in it."""
    raw = await read_body(request, limit, timeout_s)
    return jsonin.parse(raw, max_depth, "body") if raw else {}
