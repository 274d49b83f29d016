"""Read sets of subqueries, CTEs and set operations, what makes a shape depend on
everything, which key wins, and the per-text parse cache."""

from __future__ import annotations

import pytest

from backend.reactive.readset import EVERYTHING, ReadSets
from tests.reactive.readset_support import CATALOG, expect, rs

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
