"""Diffs: applying make_diff(old, new) to old gives exactly new, in the smallest form."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.reactive.diff import (
    apply_diff,
    apply_patch,
    json_patch,
    keyed_diff,
    make_diff,
    same,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.text(alphabet="ab~/", max_size=3),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(alphabet="ab~/", max_size=2), inner, max_size=4),
    ),
    max_leaves=20,
)


@st.composite
def keyed_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(
        st.lists(
            st.one_of(st.integers(0, 12), st.sampled_from(["x", "y", "0"])),
            unique=True,
            max_size=10,
        )
    )
    return [
        {
            "id": i,
            "v": draw(st.integers(0, 2)),
            **draw(st.dictionaries(st.sampled_from("pq"), scalars, max_size=2)),
        }
        for i in ids
    ]


def size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def check(old: Any, new: Any) -> dict | None:
    before = json.dumps(old)
    diff = make_diff(old, new)
    if same(old, new):
        assert diff is None
        return None
    assert diff is not None
    assert same(apply_diff(old, json.loads(json.dumps(diff))), new)
    assert json.dumps(old) == before  # old is never mutated
    assert size(diff) <= size({"value": new})
    return diff


@settings(max_examples=400, deadline=None)
@given(json_values, json_values)
def test_any_json_values_round_trip(old: Any, new: Any) -> None:
    check(old, new)


@settings(max_examples=400, deadline=None)
@given(keyed_lists(), keyed_lists())
def test_keyed_lists_round_trip(old: list, new: list) -> None:
    check(old, new)
    assert same(apply_diff(old, {"keyed": keyed_diff(old, new)}), new)
    assert same(apply_patch(old, json_patch(old, new)), new)


@given(keyed_lists(), st.randoms())
def test_reordering_keyed_rows_round_trips(rows: list, random: Any) -> None:
    shuffled = list(rows)
    random.shuffle(shuffled)
    assert same(apply_diff(rows, {"keyed": keyed_diff(rows, shuffled)}), shuffled)


def test_equal_values_need_no_diff_but_json_types_differ() -> None:
    assert make_diff({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}) is None
    assert make_diff(1, 1.0) == {"value": 1.0}
    assert make_diff([True], [1]) is not None


def test_one_changed_field_in_a_long_list_is_a_small_patch() -> None:
    old = [{"id": i, "status": "online", "name": f"bot {i}"} for i in range(100)]
    new = [dict(row) for row in old]
    new[40]["status"] = "paused"
    assert make_diff(old, new) == {
        "patch": [{"op": "replace", "path": "/40/status", "value": "paused"}]
    }


def test_a_row_moving_to_the_top_is_one_keyed_insert() -> None:
    old = [{"id": i, "pnl": str(i)} for i in range(50)]
    new = [old[30], *old[:30], *old[31:]]
    assert make_diff(old, new) == {"keyed": {"remove": [30], "insert": [[0, 30]]}}
    changed = [{"id": 30, "pnl": "99"}, *old[:30], *old[31:]]
    assert make_diff(old, changed) == {
        "keyed": {"remove": [30], "insert": [[0, {"id": 30, "pnl": "99"}]]}
    }


def test_keyed_diff_removes_updates_and_inserts() -> None:
    old = [{"id": "a", "n": 1}, {"id": "b", "n": 2}, {"id": "c", "n": 3}]
    new = [{"id": "a", "n": 1}, {"id": "c", "n": 4}, {"id": "d", "n": 5}]
    assert keyed_diff(old, new) == {
        "remove": ["b"],
        "update": [{"id": "c", "n": 4}],
        "insert": [[2, {"id": "d", "n": 5}]],
    }


def test_small_values_are_sent_whole() -> None:
    assert make_diff({"count": 1}, {"total": 2}) == {"value": {"total": 2}}
    assert make_diff(None, [1]) == {"value": [1]}


def test_patch_pointers_escape_tilde_and_slash() -> None:
    ops = json_patch({"a/b": 1, "c~d": 2}, {"a/b": 3, "c~d": 2})
    assert ops == [{"op": "replace", "path": "/a~1b", "value": 3}]
    assert apply_patch({"a/b": 1, "c~d": 2}, ops) == {"a/b": 3, "c~d": 2}


def test_a_small_value_of_known_size_is_sent_whole() -> None:
    old, new = {"id": 1, "value": 1}, {"id": 1, "value": 2}
    assert make_diff(old, new, new_size=len('{"id":1,"value":2}')) == {"value": new}
    assert make_diff(old, dict(old), new_size=18) is None
    big_old = {"id": 1, "rows": list(range(100))}
    big_new = {"id": 1, "rows": [*range(99), 1000]}
    assert "patch" in make_diff(big_old, big_new, new_size=400)  # type: ignore[operator]
