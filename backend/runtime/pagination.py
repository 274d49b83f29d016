"""Cursor pagination for queries whose pages are each a live subscription (Convex's
`paginate`): `await paginate(ctx.db, Keyset(...), cursor=..., end_cursor=..., limit=...)`.

A page is the rows strictly after `cursor` (None: from the start) in the keyset order
`(sort column, id)`:
- without `end_cursor`: the first `limit` of them; `continue_cursor` is the key of its last
  row — pass it as `cursor` to get the next page;
- with `end_cursor`: every row up to and including that key, however many. Once a client has
  loaded the next page it re-subscribes this one with `end_cursor = continue_cursor`, so
  rows inserted before, inside or after the page never shift a row out of every page:
  inserts inside a pinned page grow it, inserts before it land in an earlier page.

Cursors are opaque strings (base64url of the sort, direction and key); a cursor made for
another order is refused with a 400 naming the field. Sort columns must be NOT NULL.
"""
# No `from __future__ import annotations` here: `Page`'s `list[T]` must be evaluated where
# its type parameter is in scope, or pydantic cannot resolve it in subclasses.

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, TypedDict

from backend.runtime.errors import BadRequest
from backend.runtime.executor import Executor
from backend.runtime.jsonvalue import to_jsonable


class Page[T](TypedDict):
    """One page: its rows (`items`, the key the unpaginated reads used), where it ends, and
    whether rows follow it (at this snapshot)."""

    items: list[T]
    continue_cursor: str | None
    is_done: bool


@dataclass(frozen=True)
class Keyset:
    """What to page over: `SELECT {columns} FROM {table} WHERE {where}` ordered by
    `(sort, id)`. `sort_type` is the SQL type cursors are cast to; `params` bind `where`'s
    `$1..$n`."""

    columns: str
    table: str
    where: str
    params: tuple[Any, ...]
    sort: str
    sort_type: str
    descending: bool = True

    @property
    def order(self) -> str:
        return f"{self.sort} {'desc' if self.descending else 'asc'}"


def encode_cursor(keyset: Keyset, row: dict[str, Any]) -> str:
    raw = json.dumps({"o": keyset.order, "k": [to_jsonable(row[keyset.sort]), row["id"]]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(keyset: Keyset, cursor: str, field: str) -> tuple[str, int]:
    """The (sort value as text, id) of a cursor; 400 naming `field` if it is not ours."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        value, row_id = data["k"]
        order = data["o"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise BadRequest(f"{field}: not a cursor returned by this query", field=field) from None
    if order != keyset.order or not isinstance(row_id, int):
        raise BadRequest(f"{field}: this cursor belongs to another order (sorted by {order})",
                         field=field)
    return str(value), row_id


async def paginate(
    db: Executor, keyset: Keyset, *, cursor: str | None, end_cursor: str | None, limit: int
) -> Page[dict[str, Any]]:
    """One page of `keyset` (see the module docstring)."""
    params = list(keyset.params)
    after, upto = ("<", ">=") if keyset.descending else (">", "<=")
    terms = [keyset.where]

    def bound(op: str, text: str, field: str) -> None:
        value, row_id = decode_cursor(keyset, text, field)
        params.extend((value, row_id))
        n = len(params)
        terms.append(f"({keyset.sort}, id) {op} (${n - 1}::text::{keyset.sort_type}, ${n})")

    if cursor is not None:
        bound(after, cursor, "cursor")
    if end_cursor is not None:
        bound(upto, end_cursor, "end_cursor")
    direction = "DESC" if keyset.descending else "ASC"
    sql = (f"SELECT {keyset.columns} FROM {keyset.table} WHERE {' AND '.join(terms)} "
           f"ORDER BY {keyset.sort} {direction}, id {direction}")
    if end_cursor is not None:
        rows = await db.fetch(sql, *params)
        is_done = not await _exists_after(db, keyset, end_cursor)
        return {"items": rows, "continue_cursor": end_cursor, "is_done": is_done}
    rows = await db.fetch(f"{sql} LIMIT ${len(params) + 1}", *params, limit + 1)
    page = rows[:limit]
    last = encode_cursor(keyset, page[-1]) if page else cursor
    return {"items": page, "continue_cursor": last, "is_done": len(rows) <= limit}


async def _exists_after(db: Executor, keyset: Keyset, end_cursor: str) -> bool:
    value, row_id = decode_cursor(keyset, end_cursor, "end_cursor")
    n = len(keyset.params)
    op = "<" if keyset.descending else ">"
    return bool(await db.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM {keyset.table} WHERE {keyset.where} AND "
        f"({keyset.sort}, id) {op} (${n + 1}::text::{keyset.sort_type}, ${n + 2}))",
        *keyset.params, value, row_id))
