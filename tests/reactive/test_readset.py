"""Read sets of single tables and joins: every read must be covered (soundness first),
and bound predicates must narrow it to keys."""

from __future__ import annotations

import pytest

from backend.reactive.readset import analyze
from backend.reactive.shape import Const
from tests.reactive.readset_support import CATALOG, expect, rs

# -- single-table predicates ------------------------------------------------------------------


def test_parameter_equality_is_a_key() -> None:
    expect(rs("SELECT * FROM bots WHERE user_id = $1", 42), keys=[("bots", "user_id", 42)])
    expect(rs("SELECT * FROM bots WHERE $1 = user_id", 42), keys=[("bots", "user_id", 42)])
    expect(rs("SELECT * FROM bots WHERE user_id = $1::int", 42), keys=[("bots", "user_id", 42)])


def test_constants_null_and_boolean_columns_are_keys() -> None:
    expect(rs("SELECT * FROM bots WHERE status = 'online'"), keys=[("bots", "status", "online")])
    expect(
        rs("SELECT * FROM bots WHERE parent_id IS NULL"), keys=[("bots", "parent_id", "\x00null")]
    )
    expect(rs("SELECT * FROM bots WHERE active"), keys=[("bots", "active", 1)])
    expect(rs("SELECT * FROM bots WHERE NOT active"), keys=[("bots", "active", 0)])
    expect(rs("SELECT * FROM bots WHERE active = true"), keys=[("bots", "active", 1)])


def test_in_lists_and_any_arrays_give_one_key_per_element() -> None:
    expect(
        rs("SELECT * FROM trades WHERE bot_id IN ($1, $2, 3)", 1, 2),
        keys=[("trades", "bot_id", 1), ("trades", "bot_id", 2), ("trades", "bot_id", 3)],
    )
    expect(
        rs("SELECT * FROM trades WHERE bot_id = ANY($1)", [5, 6]),
        keys=[("trades", "bot_id", 5), ("trades", "bot_id", 6)],
    )
    expect(
        rs("SELECT * FROM trades WHERE bot_id = ANY($1::bigint[])", (5,)),
        keys=[("trades", "bot_id", 5)],
    )
    expect(
        rs("SELECT * FROM trades WHERE bot_id = ANY(ARRAY[$1, 9])", 5),
        keys=[("trades", "bot_id", 5), ("trades", "bot_id", 9)],
    )
    # ANY(NULL) matches nothing; an array we cannot see into matches anything
    expect(rs("SELECT * FROM trades WHERE bot_id = ANY($1)", None))
    expect(rs("SELECT * FROM trades WHERE bot_id = ANY($1)", "{1,2}"), tables=["trades"])


def test_row_equality_binds_each_column() -> None:
    expect(
        rs("SELECT * FROM trades WHERE (bot_id, side) = ($1, 'buy')", 4),
        keys=[("trades", "bot_id", 4)],
    )


@pytest.mark.parametrize(
    "where",
    [
        "",
        "WHERE bot_id > $1",
        "WHERE bot_id <> $1",
        "WHERE NOT (bot_id = $1)",
        "WHERE bot_id::text = $1",
        "WHERE lower(side) = $1",
        "WHERE bot_id = $1 + 1",
        "WHERE bot_id IN ($1, id)",
        "WHERE bot_id NOT IN ($1)",
        "WHERE bot_id = $1 OR qty > 3",
        "WHERE bot_id IS NOT NULL",
        "WHERE bot_id = ANY(SELECT 1)",
    ],
)
def test_reads_without_a_usable_predicate_depend_on_the_whole_table(where: str) -> None:
    expect(rs(f"SELECT * FROM trades {where}", 1), tables=["trades"])


def test_missing_parameter_means_whole_table() -> None:
    expect(rs("SELECT * FROM trades WHERE bot_id = $2", 1), tables=["trades"])


def test_or_of_bound_branches_gives_keys_on_each_branch() -> None:
    expect(
        rs("SELECT * FROM trades WHERE bot_id = $1 OR side = 'sell'", 3),
        keys=[("trades", "bot_id", 3), ("trades", "side", "sell")],
    )
    expect(
        rs("SELECT * FROM trades WHERE (bot_id = 1 AND qty > 0) OR (bot_id = 2 AND side = 'x')"),
        keys=[("trades", "bot_id", 1), ("trades", "bot_id", 2)],
    )


def test_a_conjunct_outside_the_or_is_enough() -> None:
    expect(
        rs("SELECT * FROM trades WHERE bot_id = $1 AND (side = 'buy' OR qty > 1)", 8),
        keys=[("trades", "bot_id", 8)],
    )


def test_an_or_branch_bounding_another_table_leaves_this_one_whole() -> None:
    expect(
        rs("SELECT * FROM trades t, bots b WHERE t.side = 'buy' OR b.id = 1"),
        tables=["trades", "bots"],
    )


def test_or_branches_bound_through_a_join_chain() -> None:
    got = rs(
        "SELECT * FROM trades t, bots b WHERE t.bot_id = b.id AND (t.side = 'buy' OR b.id = 1)"
    )
    expect(got, keys=[("trades", "side", "buy"), ("trades", "bot_id", 1)], tables=["bots"])


def test_in_lists_never_join_their_columns() -> None:
    # a IN (1,2) AND b IN (1,2) AND a = $1 does not make b = $1
    (access,) = analyze(
        "SELECT * FROM trades WHERE id IN (1, 2) AND bot_id IN (1, 2) AND id = $1"
    ).accesses
    on_bot_id = [
        sources
        for (constraint,) in access.constraints
        for column, sources in [constraint]
        if column == "bot_id"
    ]
    assert on_bot_id == [(Const(1), Const(2))]


# -- joins ------------------------------------------------------------------------------------


def test_join_without_a_bound_join_column_reads_the_whole_joined_table() -> None:
    expect(
        rs("SELECT * FROM trades t JOIN bots b ON b.id = t.bot_id WHERE b.user_id = $1", 7),
        keys=[("bots", "user_id", 7)],
        tables=["trades"],
    )


def test_join_column_bound_transitively() -> None:
    expect(
        rs("SELECT * FROM trades t JOIN bots b ON b.id = t.bot_id WHERE b.id = $1", 7),
        keys=[("bots", "id", 7), ("trades", "bot_id", 7)],
    )
    expect(
        rs(
            "SELECT * FROM trades t, bots b, fills f WHERE f.bot_id = b.id AND b.id = t.bot_id AND t.bot_id = $1",
            2,
        ),
        keys=[("bots", "id", 2), ("trades", "bot_id", 2), ("fills", "bot_id", 2)],
    )


def test_self_join_binds_each_alias_separately() -> None:
    expect(
        rs("SELECT * FROM bots a JOIN bots b ON b.parent_id = a.id WHERE a.id = $1", 3),
        keys=[("bots", "id", 3), ("bots", "parent_id", 3)],
    )


def test_left_join_on_never_bounds_the_preserved_side() -> None:
    expect(
        rs("SELECT * FROM bots b LEFT JOIN trades t ON t.bot_id = b.id AND b.user_id = $1", 1),
        tables=["bots", "trades"],
    )
    expect(
        rs("SELECT * FROM bots b LEFT JOIN trades t ON t.bot_id = b.id AND t.bot_id = $1", 1),
        keys=[("trades", "bot_id", 1)],
        tables=["bots"],
    )
    expect(
        rs("SELECT * FROM trades t RIGHT JOIN bots b ON t.bot_id = b.id AND t.bot_id = $1", 1),
        keys=[("trades", "bot_id", 1)],
        tables=["bots"],
    )


def test_left_join_nullable_side_is_bound_by_where_through_on() -> None:
    expect(
        rs("SELECT * FROM bots b LEFT JOIN trades t ON t.bot_id = b.id WHERE b.id = $1", 5),
        keys=[("bots", "id", 5), ("trades", "bot_id", 5)],
    )


def test_anti_join_null_tests_never_bound_the_nullable_side() -> None:
    sql = "SELECT b.id FROM bots b LEFT JOIN trades t ON t.bot_id = b.id WHERE t.id IS NULL"
    expect(rs(sql), tables=["bots", "trades"])
    sql = "SELECT * FROM bots b LEFT JOIN trades t ON t.bot_id = b.id WHERE t.side IS NOT DISTINCT FROM $1"
    expect(rs(sql, None), tables=["bots", "trades"])
    sql = "SELECT * FROM bots b LEFT JOIN trades t ON t.bot_id = b.id WHERE t.id IS NULL OR t.side = 'x'"
    expect(rs(sql), tables=["bots", "trades"])
    # inside the nullable side's own ON clause a null test bounds its real rows
    sql = "SELECT * FROM bots b LEFT JOIN trades t ON t.bot_id = b.id AND t.side IS NULL"
    expect(rs(sql), keys=[("trades", "side", None)], tables=["bots"])
    # and the preserved side is real: its null tests bound it
    sql = "SELECT * FROM bots b LEFT JOIN trades t ON t.bot_id = b.id WHERE b.parent_id IS NULL"
    expect(rs(sql), keys=[("bots", "parent_id", None)], tables=["trades"])


def test_full_join_on_bounds_nothing() -> None:
    expect(
        rs(
            "SELECT * FROM bots b FULL JOIN trades t ON t.bot_id = b.id AND t.bot_id = 1 AND b.id = 1"
        ),
        tables=["bots", "trades"],
    )


def test_inner_join_under_a_nullable_side_bounds_only_its_own_relations() -> None:
    got = rs(
        "SELECT * FROM bots b LEFT JOIN (trades t JOIN fills f ON f.bot_id = t.bot_id AND f.bot_id = 5)"
        " ON t.bot_id = b.id"
    )
    expect(got, keys=[("trades", "bot_id", 5), ("fills", "bot_id", 5)], tables=["bots"])


def test_subquery_context_excludes_the_nullable_sides_on() -> None:
    got = rs(
        "SELECT * FROM bots b LEFT JOIN trades t ON t.bot_id = b.id AND t.bot_id = 5"
        " WHERE EXISTS (SELECT 1 FROM fills f WHERE f.bot_id = b.id)"
    )
    expect(got, keys=[("trades", "bot_id", 5)], tables=["bots", "fills"])


def test_join_using_binds_with_known_columns() -> None:
    got = rs(
        "SELECT * FROM fills JOIN orders USING (order_id) WHERE orders.order_id = $1",
        4,
        catalog=CATALOG,
    )
    expect(got, keys=[("orders", "order_id", 4), ("fills", "order_id", 4)])


def test_aliases_table_names_and_schema_qualified_names() -> None:
    expect(rs("SELECT * FROM public.bots WHERE bots.id = $1", 1), keys=[("bots", "id", 1)])
    expect(rs("SELECT * FROM bots AS x WHERE x.id = $1", 1), keys=[("bots", "id", 1)])
    expect(rs("SELECT * FROM bots WHERE public.bots.id = $1", 1), keys=[("bots", "id", 1)])
    # an aliased table is not reachable by its own name: the predicate is not understood
    expect(rs("SELECT * FROM bots x, trades WHERE bots.id = $1", 1), tables=["bots", "trades"])
    expect(rs("SELECT * FROM audit.events WHERE id = 1"), keys=[("audit.events", "id", 1)])


def test_join_alias_hides_inner_names() -> None:
    got = rs("SELECT * FROM (bots b JOIN trades t ON t.bot_id = b.id) AS j WHERE b.id = 1")
    assert got.everything is False and got.tables == {"bots", "trades"}


def test_unqualified_columns_of_several_relations_need_the_catalog() -> None:
    sql = "SELECT * FROM trades t JOIN bots b ON b.id = t.bot_id WHERE user_id = $1"
    expect(rs(sql, 3), tables=["trades", "bots"])
    expect(rs(sql, 3, catalog=CATALOG), keys=[("bots", "user_id", 3)], tables=["trades"])
