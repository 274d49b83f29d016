"""Diffs between two JSON values of a query result: push the change, not the result.

`make_diff(old, new)` returns None when the values are equal (JSON equality: 1, 1.0 and true
are three different values), else the smallest (compact JSON length) of these forms:

- `{"value": new}` - the whole new value;
- `{"patch": [op, ...]}` - RFC 6902 JSON Patch applied to old in order; only "add", "remove"
  and "replace" are emitted;
- `{"keyed": {"remove": [id, ...], "update": [row, ...], "insert": [[index, item], ...]}}` -
  only when old and new are both lists of objects whose "id" (a string or an integer) is
  unique within each list. A client rebuilds new from old in three steps:
  1. remove: drop every row whose id is listed, remembering them by id;
  2. update: replace every remaining row whose id matches an update row by that row;
  3. insert: in the given (ascending) order, insert at `index` either `item` itself when it
     is an object (a new or changed row), or the removed row with id `item` when it is a
     scalar (a row that only moved).
  Rows that keep their relative order stay in place; the others are removed and re-inserted
  at their final position. Empty fields are omitted.

`apply_diff(old, diff)` implements the client side; it never mutates `old`.
"""

from __future__ import annotations

import copy
import json
from bisect import bisect_left
from typing import Any

Diff = dict[str, Any]
SMALL = 64  # bytes of JSON under which make_diff(..., new_size) does not look for a diff


def same(a: Any, b: Any) -> bool:
    """JSON equality: like ==, but bool, int and float never equal one another."""
    return a == b and _same_types(a, b)


def _same_types(a: Any, b: Any) -> bool:
    """For a == b: whether they also agree on JSON types all the way down."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        pairs: Any = ((v, b[k]) for k, v in a.items())
    elif kind is list:
        pairs = zip(a, b, strict=True)
    else:
        return True
    for x, y in pairs:
        inner = type(x)
        if inner is dict or inner is list:
            if not _same_types(x, y):
                return False
        elif inner is not type(y):
            return False
    return True


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def make_diff(old: Any, new: Any, new_size: int | None = None) -> Diff | None:
    """The smallest diff turning `old` into `new`, or None when they are equal. `new_size`:
    the length of `new` as compact JSON when the caller knows it (saves encoding it again;
    a value of at most SMALL bytes is then sent whole: no diff of it is much smaller, and
    finding one costs more than sending it)."""
    if new_size is not None and new_size <= SMALL:
        return None if same(old, new) else {"value": new}
    candidates: list[Diff] = []
    if _is_keyed(old) and _is_keyed(new):
        keyed = keyed_diff(old, new)
        if not keyed:
            return None
        candidates.append({"keyed": keyed})
        # a patch with many more ops than keyed entries cannot be smaller: stop early
        ops = json_patch(old, new, limit=4 + 4 * sum(len(part) for part in keyed.values()))
    else:
        ops = json_patch(old, new)
        if not ops:
            return None
    if ops is not None:
        candidates.append({"patch": ops})
    best: Diff = {"value": new}
    best_size = _size(best) if new_size is None else new_size + len('{"value":}')
    for candidate in candidates:
        if (size := _size(candidate)) < best_size:
            best, best_size = candidate, size
    return best


def apply_diff(old: Any, diff: Diff) -> Any:
    """The value `diff` turns `old` into."""
    if "value" in diff:
        return diff["value"]
    if "patch" in diff:
        return apply_patch(old, diff["patch"])
    if "keyed" in diff:
        return apply_keyed(old, diff["keyed"])
    raise ValueError(f"not a diff: {sorted(diff)}")


# -- JSON Patch -----------------------------------------------------------------------------


def _pointer(path: str, token: str | int) -> str:
    return f"{path}/{str(token).replace('~', '~0').replace('/', '~1')}"


class _TooLong(Exception):
    pass


class _Ops(list[dict[str, Any]]):
    """Patch operations, at most `limit` of them."""

    def __init__(self, limit: int | None) -> None:
        super().__init__()
        self.limit = limit

    def add(self, op: dict[str, Any]) -> None:
        self.append(op)
        if self.limit is not None and len(self) > self.limit:
            raise _TooLong


def json_patch(old: Any, new: Any, limit: int | None = None) -> list[dict[str, Any]] | None:
    """RFC 6902 operations turning `old` into `new` (add/remove/replace only); None when
    more than `limit` would be needed."""
    ops = _Ops(limit)
    try:
        _patch(old, new, "", ops)
    except _TooLong:
        return None
    return list(ops)


def _patch(old: Any, new: Any, path: str, ops: _Ops) -> None:
    if same(old, new):
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old:
            if key not in new:
                ops.add({"op": "remove", "path": _pointer(path, key)})
        for key, value in new.items():
            if key in old:
                _patch(old[key], value, _pointer(path, key), ops)
            else:
                ops.add({"op": "add", "path": _pointer(path, key), "value": value})
        return
    if isinstance(old, list) and isinstance(new, list):
        _patch_list(old, new, path, ops)
        return
    ops.add({"op": "replace", "path": path, "value": new})


def _patch_list(old: list[Any], new: list[Any], path: str, ops: _Ops) -> None:
    limit = min(len(old), len(new))
    head = 0
    while head < limit and same(old[head], new[head]):
        head += 1
    tail = 0
    while tail < limit - head and same(old[-1 - tail], new[-1 - tail]):
        tail += 1
    old_mid, new_mid = old[head : len(old) - tail], new[head : len(new) - tail]
    common = min(len(old_mid), len(new_mid))
    for i in range(common):
        _patch(old_mid[i], new_mid[i], _pointer(path, head + i), ops)
    for i in range(head + len(old_mid) - 1, head + common - 1, -1):
        ops.add({"op": "remove", "path": _pointer(path, i)})
    for i in range(common, len(new_mid)):
        ops.add({"op": "add", "path": _pointer(path, head + i), "value": new_mid[i]})


def _tokens(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f"bad JSON pointer {path!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def apply_patch(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """`doc` with RFC 6902 add/remove/replace `ops` applied (doc itself is not changed)."""
    doc = copy.deepcopy(doc)
    for op in ops:
        tokens = _tokens(op["path"])
        kind = op["op"]
        if not tokens:
            if kind in ("add", "replace"):
                doc = copy.deepcopy(op["value"])
                continue
            raise ValueError("cannot remove the whole document")
        parent = doc
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        last = tokens[-1]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if kind == "add":
                parent.insert(index, copy.deepcopy(op["value"]))
            elif kind == "remove":
                del parent[index]
            elif kind == "replace":
                parent[index] = copy.deepcopy(op["value"])
            else:
                raise ValueError(f"unsupported op {kind!r}")
        elif kind in ("add", "replace"):
            if kind == "replace" and last not in parent:
                raise KeyError(last)
            parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del parent[last]
        else:
            raise ValueError(f"unsupported op {kind!r}")
    return doc


# -- keyed list diff ------------------------------------------------------------------------


def _is_keyed(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    ids = set()
    for row in value:
        if not isinstance(row, dict):
            return False
        row_id = row.get("id")
        if type(row_id) not in (int, str) or row_id in ids:
            return False
        ids.add(row_id)
    return True


def _staying(positions: list[int]) -> set[int]:
    """Indexes (into `positions`) of one longest increasing subsequence."""
    tails: list[int] = []  # tails[k]: smallest ending value of an increasing run of length k+1
    tail_index: list[int] = []
    previous = [-1] * len(positions)
    for i, pos in enumerate(positions):
        k = bisect_left(tails, pos)
        if k == len(tails):
            tails.append(pos)
            tail_index.append(i)
        else:
            tails[k] = pos
            tail_index[k] = i
        previous[i] = tail_index[k - 1] if k else -1
    keep: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i != -1:
        keep.add(i)
        i = previous[i]
    return keep


def keyed_diff(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, Any]:
    """The keyed form (see the module docstring) turning keyed list `old` into `new`."""
    old_pos = {row["id"]: i for i, row in enumerate(old)}
    new_ids = {row["id"] for row in new}
    kept = [row for row in new if row["id"] in old_pos]  # in new order
    stay_at = _staying([old_pos[row["id"]] for row in kept])
    staying = {kept[i]["id"] for i in stay_at}
    remove = [row["id"] for row in old if row["id"] not in new_ids or row["id"] not in staying]
    update = [
        row for row in kept if row["id"] in staying and not same(row, old[old_pos[row["id"]]])
    ]
    insert: list[list[Any]] = []
    for index, row in enumerate(new):
        if row["id"] in staying:
            continue
        moved_unchanged = row["id"] in old_pos and same(row, old[old_pos[row["id"]]])
        insert.append([index, row["id"] if moved_unchanged else row])
    diff: dict[str, Any] = {}
    for name, part in (("remove", remove), ("update", update), ("insert", insert)):
        if part:
            diff[name] = part
    return diff


def apply_keyed(old: list[dict[str, Any]], diff: dict[str, Any]) -> list[dict[str, Any]]:
    """The list the keyed `diff` turns `old` into."""
    removed_ids = set(diff.get("remove", ()))
    removed = {row["id"]: row for row in old if row["id"] in removed_ids}
    updates = {row["id"]: row for row in diff.get("update", ())}
    rows = [updates.get(row["id"], row) for row in old if row["id"] not in removed_ids]
    for index, item in diff.get("insert", ()):
        rows.insert(index, item if isinstance(item, dict) else removed[item])
    return rows
