"""Read sets from SQL text: every read must be covered (soundness first), and bound
predicates must narrow it to keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from backend.reactive.catalog import Catalog, TableInfo
from backend.reactive.keys import routing_value
from backend.reactive.readset import EVERYTHING, ReadSet, ReadSets, analyze, bind
from backend.reactive.shape import Const

CATALOG = Catalog(
    tables={
        "bots": TableInfo(
            "bots",
            ("id", "user_id", "status", "name", "parent_id", "active"),
            ("id",),
            ("id", "user_id", "parent_id", "active"),
        ),
        "trades": TableInfo(
            "trades", ("id", "bot_id", "side", "qty", "kind"), ("id",), ("id", "bot_id", "side")
        ),
        "fills": TableInfo(
            "fills", ("id", "order_id", "bot_id"), ("id",), ("id", "order_id", "bot_id")
        ),
        "orders": TableInfo(
            "orders", ("order_id", "bot_id", "side"), ("order_id",), ("order_id", "bot_id")
        ),
        "legs": TableInfo("legs", ("trade_ref", "n"), ("trade_ref",), ("trade_ref",)),
    },
    opaque=frozenset({"bot_summary", "my_lookup"}),
)


def rs(sql: str, *params: Any, catalog: Catalog | None = None) -> ReadSet:
    return bind(analyze(sql, catalog), params, catalog)


def expect(
    readset: ReadSet, keys: Sequence[tuple[str, str, Any]] = (), tables: Sequence[str] = ()
) -> None:
    assert not readset.everything
    assert readset.keys == {(t, c, routing_value(v)) for t, c, v in keys}
    assert readset.tables == set(tables)


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


# -- subqueries and CTEs ----------------------------------------------------------------------


def test_correlated_exists_sees_the_outer_bound_key() -> None:
    got = rs(
        "SELECT * FROM bots b WHERE b.id = $1 AND NOT EXISTS"
        " (SELECT 1 FROM trades t WHERE t.bot_id = b.id)",
        9,
    )
    expect(got, keys=[("bots", "id", 9), ("trades", "bot_id", 9)])


def test_correlated_subquery_in_select_list() -> None:
    got = rs(
        "SELECT b.*, (SELECT count(*) FROM trades t WHERE t.bot_id = b.id) FROM bots b WHERE b.id = $1",
        9,
    )
    expect(got, keys=[("bots", "id", 9), ("trades", "bot_id", 9)])


def test_subquery_in_an_or_gets_only_the_other_conjuncts() -> None:
    got = rs(
        "SELECT * FROM bots b WHERE b.id = $1 OR EXISTS (SELECT 1 FROM trades t WHERE t.bot_id = b.id)",
        9,
    )
    expect(got, tables=["bots", "trades"])


def test_in_subquery_reads_its_own_bound_rows() -> None:
    sql = "SELECT * FROM trades WHERE bot_id IN (SELECT id FROM bots WHERE user_id = $1)"
    expect(rs(sql, 2, catalog=CATALOG), keys=[("bots", "user_id", 2)], tables=["trades"])
    # without column lists `user_id` could be trades.user_id: no key
    expect(rs(sql, 2), tables=["trades", "bots"])


def test_unqualified_column_in_a_subquery_resolves_innermost_first() -> None:
    sql = "SELECT * FROM bots WHERE id = $1 AND EXISTS (SELECT 1 FROM trades WHERE bot_id = id)"
    # trades has its own id: the predicate is trades.bot_id = trades.id, which binds nothing
    expect(rs(sql, 1, catalog=CATALOG), keys=[("bots", "id", 1)], tables=["trades"])
    sql = "SELECT * FROM bots WHERE id = $1 AND EXISTS (SELECT 1 FROM legs WHERE trade_ref = id)"
    expect(rs(sql, 1, catalog=CATALOG), keys=[("bots", "id", 1), ("legs", "trade_ref", 1)])
    expect(rs(sql, 1), keys=[("bots", "id", 1)], tables=["legs"])


def test_derived_table_reads_with_its_own_predicates_only() -> None:
    expect(rs("SELECT * FROM (SELECT * FROM trades) s WHERE s.bot_id = $1", 1), tables=["trades"])
    expect(
        rs("SELECT * FROM (SELECT * FROM trades WHERE bot_id = $1) s", 1),
        keys=[("trades", "bot_id", 1)],
    )


def test_lateral_subquery_gets_no_outer_bindings() -> None:
    got = rs(
        "SELECT * FROM bots b, LATERAL (SELECT * FROM trades t WHERE t.bot_id = b.id) x WHERE b.id = 1"
    )
    expect(got, keys=[("bots", "id", 1)], tables=["trades"])


def test_cte_bodies_are_read_and_cte_names_shadow_tables() -> None:
    got = rs(
        "WITH bots AS (SELECT * FROM trades WHERE bot_id = $1) SELECT * FROM bots WHERE id = 3", 4
    )
    expect(got, keys=[("trades", "bot_id", 4)])
    got = rs(
        "WITH RECURSIVE tree AS (SELECT * FROM bots WHERE id = $1 UNION ALL"
        " SELECT b.* FROM bots b JOIN tree ON b.parent_id = tree.id) SELECT * FROM tree",
        1,
    )
    expect(got, keys=[("bots", "id", 1)], tables=["bots"])


def test_set_operations_read_both_arms() -> None:
    expect(
        rs("SELECT id FROM bots WHERE id = 1 UNION SELECT id FROM trades EXCEPT SELECT 3"),
        keys=[("bots", "id", 1)],
        tables=["trades"],
    )


def test_subqueries_anywhere_are_read() -> None:
    got = rs("SELECT 1 UNION SELECT 2 LIMIT (SELECT count(*) FROM trades WHERE bot_id = 1)")
    expect(got, keys=[("trades", "bot_id", 1)])
    got = rs(
        "SELECT * FROM bots TABLESAMPLE BERNOULLI ((SELECT max(qty) FROM trades)) WHERE id = 2"
    )
    expect(got, keys=[("bots", "id", 2)], tables=["trades"])
    got = rs("VALUES ((SELECT count(*) FROM bots)), (1)")
    expect(got, tables=["bots"])
    got = rs(
        "SELECT * FROM bots b JOIN trades t ON t.bot_id = b.id AND EXISTS (SELECT 1 FROM fills)"
    )
    expect(got, tables=["bots", "trades", "fills"])
    got = rs("SELECT count(*) FILTER (WHERE id IN (SELECT bot_id FROM trades)) FROM bots")
    expect(got, tables=["bots", "trades"])


def test_grouping_ordering_and_limits_keep_the_keys() -> None:
    expect(
        rs(
            "SELECT side, count(*) FROM trades WHERE bot_id = $1 GROUP BY side HAVING count(*) > 1"
            " ORDER BY 2 DESC LIMIT 5 OFFSET 1",
            1,
        ),
        keys=[("trades", "bot_id", 1)],
    )


# -- what makes a shape depend on everything ---------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO bots (id) VALUES (1)",
        "UPDATE bots SET id = 1",
        "DELETE FROM bots",
        "SELEC * FROM bots",
        "WITH d AS (DELETE FROM bots RETURNING *) SELECT * FROM d",
        "SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS x int)",
    ],
)
def test_statements_the_analysis_cannot_bound_depend_on_everything(sql: str) -> None:
    assert rs(sql) == EVERYTHING


def test_views_and_user_functions_depend_on_everything_given_a_catalog() -> None:
    assert rs("SELECT * FROM bot_summary WHERE id = 1", catalog=CATALOG) == EVERYTHING
    assert rs("SELECT my_lookup(id) FROM bots WHERE id = 1", catalog=CATALOG) == EVERYTHING
    assert (
        rs("SELECT * FROM generate_series(1, 3) g, my_lookup(2) m", catalog=CATALOG) == EVERYTHING
    )
    expect(
        rs("SELECT count(*), now() FROM bots WHERE id = 1", catalog=CATALOG),
        keys=[("bots", "id", 1)],
    )


def test_settings_read_nothing_and_statements_add_up() -> None:
    expect(
        rs(
            "SET LOCAL statement_timeout = 1000; SELECT * FROM bots WHERE id = 2; SELECT * FROM trades"
        ),
        keys=[("bots", "id", 2)],
        tables=["trades"],
    )
    expect(rs("SELECT 1, now()"))


def test_routing_columns_are_preferred_over_others() -> None:
    sql = "SELECT * FROM bots WHERE name = $1 AND user_id = $2"
    expect(rs(sql, "n", 4, catalog=CATALOG), keys=[("bots", "user_id", 4)])
    # either is sound without a catalog; the one with fewer keys wins
    got = rs("SELECT * FROM bots WHERE name IN ($1, $2) AND user_id = $3", "a", "b", 4)
    expect(got, keys=[("bots", "user_id", 4)])


def test_parameter_bound_key_columns_are_preferred_over_shared_constants() -> None:
    sql = "SELECT * FROM trades t JOIN bots b ON b.id = t.bot_id WHERE b.id = $1 AND t.side = 'buy'"
    expect(rs(sql, 5), keys=[("bots", "id", 5), ("trades", "bot_id", 5)])
    expect(
        rs("SELECT * FROM bots WHERE status = 'on' AND name = $1", "x"),
        keys=[("bots", "name", "x")],
    )


def test_read_sets_parse_each_text_once_and_union_statements() -> None:
    readsets = ReadSets(CATALOG)
    statements = [("SELECT * FROM bots WHERE id = $1", (i,)) for i in range(50)]
    statements.append(("SELECT * FROM trades", ()))
    got = readsets.readset(statements)
    assert got.keys == {("bots", "id", str(i)) for i in range(50)} and got.tables == {"trades"}
    assert readsets.shape("SELECT * FROM bots WHERE id = $1") is readsets.shape(
        "SELECT * FROM bots WHERE id = $1"
    )
