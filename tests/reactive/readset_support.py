"""Shared by the read-set tests: a small catalog and helpers to bind SQL and check the result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backend.reactive.catalog import Catalog, TableInfo
from backend.reactive.keys import routing_value
from backend.reactive.readset import ReadSet, analyze, bind

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
