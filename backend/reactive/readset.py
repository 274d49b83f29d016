"""Read sets: which rows a query's SQL can read, from its parsed text (pglast).

`analyze(sql)` turns one SQL text into a `Shape` (parameter-independent, cached by text in
`ReadSets`); `bind(shape, params)` turns a shape plus the statement's parameter values into a
`ReadSet`: routing keys (table, column, value) and whole tables.

The soundness rule: a table read counts as whole-table unless some condition is known to hold
for every row of it that can influence the result. Such conditions come from equality
predicates (`col = $1`, `col = 'x'`, `col IN (...)`, `col = ANY($1)`, `col IS NULL`, bare
boolean columns, row equality) that are

- top-level AND conjuncts of the WHERE clause (they hold for every output row; a conjunct
  bounds the real rows of an outer join's nullable side only if a null-extended row cannot
  satisfy it: `=`/IN/ANY can, `IS NULL`/`IS NOT DISTINCT FROM` cannot - think of the
  anti-join `LEFT JOIN t ... WHERE t.id IS NULL`),
- AND conjuncts of the ON clause of an INNER join (for the relations under that join), or of
  a LEFT/RIGHT join for its nullable side only (never for the preserved side), never FULL,
- joined by equality chains: `b.id = t.bot_id AND b.id = $1` bounds t.bot_id too (the
  join column is bound transitively), and a correlated subquery in WHERE/SELECT/HAVING/
  ORDER BY sees the equalities that hold for every row of its enclosing query,
- or an OR whose every branch bounds the same relation (`a = 1 OR b = 2` -> keys on a and b).

Everything else - predicates under NOT, ranges, casts on the column side, subqueries in FROM
filtered from outside, USING without known columns - is ignored, which only widens the read
set. Constructs the analysis cannot see through (other statement kinds, unknown FROM items,
unparsable SQL, and - given a `Catalog` - views and user-defined functions) make the shape
depend on everything. Unqualified columns are resolved with the catalog's column lists; a
column that could belong to more than one relation resolves to none.

Example of the join rule: `FROM trades t JOIN bots b ON b.id = t.bot_id WHERE b.user_id = $1`
reads bots rows with user_id = $1 but all of trades (which bot ids belong to the user is data,
not SQL); add `AND t.bot_id = $2`, or query by bot id, to key the trades read too.

Tables only change visibly to the index if capture triggers are on them: application tables
of the public schema (capture.py); partitioned tables and other schemas are not captured.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from backend.reactive.catalog import Catalog
from backend.reactive.keys import routing_value
from backend.reactive.shape import Const, Constraint, Param, Shape, Source
from backend.reactive.sqlshape import analyze

__all__ = ["EVERYTHING", "Key", "ReadSet", "ReadSets", "Shape", "analyze", "bind"]


Key = tuple[str, str, str]  # (table, column, routing_value(value))


@dataclass(frozen=True, slots=True)
class ReadSet:
    """Rows a query read: rows with column = value for a key, all rows of `tables`, or -
    when `everything` - any row of any table."""

    keys: frozenset[Key] = frozenset()
    tables: frozenset[str] = frozenset()
    everything: bool = False

    def __or__(self, other: ReadSet) -> ReadSet:
        return ReadSet(
            self.keys | other.keys, self.tables | other.tables, self.everything or other.everything
        )


EVERYTHING = ReadSet(everything=True)


def _values(source: Source, params: Sequence[Any]) -> list[Any] | None:
    """The values a source stands for; None when that cannot be known (then: whole table)."""
    if isinstance(source, Const):
        return [source.value]
    if not 1 <= source.number <= len(params):
        return None
    value = params[source.number - 1]
    if isinstance(source, Param):
        return [value]
    if value is None:
        return []  # col = ANY(NULL) matches no row
    if isinstance(value, (list, tuple)):
        return list(value)
    return None


def _constraint_keys(table: str, constraint: Constraint, params: Sequence[Any]) -> set[Key] | None:
    keys: set[Key] = set()
    for column, sources in constraint:
        for source in sources:
            values = _values(source, params)
            if values is None:
                return None
            keys.update((table, column, routing_value(v)) for v in values)
    return keys


def bind(shape: Shape, params: Sequence[Any], catalog: Catalog | None = None) -> ReadSet:
    """The read set of one execution of `shape` with `params`.

    Of several constraints on one access any one is sound; the most selective-looking one is
    used: on routing columns (the index matches those precisely), bound to parameters rather
    than only to constants (`status = 'online'` is shared by many subscriptions), with the
    fewest keys, on a key column (`id`, `*_id`) - in that order.
    """
    if shape.everything:
        return EVERYTHING
    if catalog is not None and (
        shape.functions & catalog.opaque or any(a.table in catalog.opaque for a in shape.accesses)
    ):
        return EVERYTHING
    keys: set[Key] = set()
    whole: set[str] = set()
    for access in shape.accesses:
        best: tuple[tuple[bool, bool, int, bool], set[Key]] | None = None
        routed = catalog.routed(access.table) if catalog is not None else None
        for constraint in access.constraints:
            found = _constraint_keys(access.table, constraint, params)
            if found is None:
                continue
            unrouted = routed is not None and any(column not in routed for column, _ in constraint)
            constant = all(isinstance(src, Const) for _, sources in constraint for src in sources)
            keyish = all(c == "id" or c.endswith("_id") for c, _ in constraint)
            rank = (unrouted, constant, len(found), not keyish)
            if best is None or rank < best[0]:
                best = (rank, found)
        if best is None:
            whole.add(access.table)
        else:
            keys |= best[1]
    return ReadSet(frozenset(keys), frozenset(whole))


@dataclass
class ReadSets:
    """Read sets of executed statements, parsing each distinct SQL text once (LRU)."""

    catalog: Catalog | None = None
    maxsize: int = 4096
    _shape: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        catalog = self.catalog
        self._shape = lru_cache(maxsize=self.maxsize)(lambda sql: analyze(sql, catalog))

    def shape(self, sql: str) -> Shape:
        """The (cached) shape of `sql`."""
        return self._shape(sql)

    def readset(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> ReadSet:
        """The union of the read sets of (sql, params) statements, e.g. an Executor's
        `(s.sql, s.params) for s in executor.statements`."""
        result = ReadSet()
        for sql, params in statements:
            result = result | bind(self.shape(sql), params, self.catalog)
        return result
