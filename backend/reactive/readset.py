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
reads bots rows with user_id = $1, and trades rows whose bot_id is the id of one of them.
Which bot ids those are is data, not SQL: the shape says so with a `Lookup`, and
`ReadSets.readset_in` reads them in the query's snapshot (`SELECT DISTINCT id FROM bots
WHERE user_id = ANY($1)`), up to MAX_LOOKUP of them. A bot moving in or out of the user's set
changes a bots row keyed by user_id, which re-runs the query and so reads them again. Without
the read (`readset`), or past MAX_LOOKUP, trades is read whole.

Tables only change visibly to the index if capture triggers are on them: the application
tables of catalog.py - every user schema, partitioned tables under their own name (a query
naming a partition depends on everything). An unqualified name is taken to be public's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import asyncpg

from backend.reactive.catalog import Catalog
from backend.reactive.keys import routing_value
from backend.reactive.shape import Const, Constraint, Lookup, Param, Shape, Source
from backend.reactive.sqlshape import analyze
from backend.runtime.executor import Executor

__all__ = ["EVERYTHING", "Key", "ReadSet", "ReadSets", "Shape", "analyze", "bind"]

MAX_LOOKUP = 1_000  # matching rows past which a lookup is not worth it: the whole table


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


Resolved = Mapping[Lookup, list[Any] | None]  # a statement's lookups, read (lookup_values)
NOT_READ: Resolved = MappingProxyType({})


def _values(source: Source, params: Sequence[Any], resolved: Resolved) -> list[Any] | None:
    """The values a source stands for; None when that cannot be known (then: whole table)."""
    if isinstance(source, Const):
        return [source.value]
    if isinstance(source, Lookup):
        return resolved.get(source)
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


def _constraint_keys(
    table: str, constraint: Constraint, params: Sequence[Any], resolved: Resolved
) -> set[Key] | None:
    keys: set[Key] = set()
    for column, sources in constraint:
        for source in sources:
            values = _values(source, params, resolved)
            if values is None:
                return None
            keys.update((table, column, routing_value(v)) for v in values)
    return keys


def bind(
    shape: Shape, params: Sequence[Any], catalog: Catalog | None = None,
    resolved: Resolved = NOT_READ,
) -> ReadSet:
    """The read set of one execution of `shape` with `params` (`resolved`: the values its
    lookups read in the execution's snapshot; a lookup not there is unknown: whole table).

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
            found = _constraint_keys(access.table, constraint, params, resolved)
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

    async def readset_in(
        self, executor: Executor, statements: Iterable[tuple[str, Sequence[Any]]]
    ) -> ReadSet:
        """Like `readset`, reading the joined rows its lookups need on `executor`'s connection
        (in the snapshot the statements ran in): a join depends on the rows that matched."""
        result = ReadSet()
        for sql, params in statements:
            shape = self.shape(sql)
            resolved = {
                lookup: await lookup_values(executor, lookup, params) for lookup in shape.lookups
            }
            result = result | bind(shape, params, self.catalog, resolved)
        return result


async def lookup_values(
    executor: Executor, lookup: Lookup, params: Sequence[Any]
) -> list[Any] | None:
    """The values `lookup` stands for, read on `executor`'s connection; None if unknown (its
    own values unknown, too many rows, or the read failed)."""
    arrays = []
    for _, sources in lookup.constraint:
        values: list[Any] = []
        for source in sources:
            found = _values(source, params, NOT_READ)
            if found is None:
                return None
            values.extend(found)
        arrays.append(values)
    where = " OR ".join(f"{_ident(column)} = ANY(${n})"
                        for n, (column, _) in enumerate(lookup.constraint, 1))
    sql = (f"SELECT DISTINCT {_ident(lookup.column)} FROM {_table(lookup.table)} WHERE {where}"
           f" LIMIT {MAX_LOOKUP + 1}")
    try:
        rows = await executor.conn.fetch(sql, *arrays)
    except (asyncpg.PostgresError, TypeError, ValueError):
        # a value the column's type does not take fails in the client, leaving the
        # transaction usable; an error from the server aborts it
        executor.failed = executor.failed or not await _usable(executor.conn)
        return None
    return [row[0] for row in rows] if len(rows) <= MAX_LOOKUP else None


async def _usable(conn: asyncpg.Connection) -> bool:
    try:
        await conn.fetchval("SELECT 1")
    except asyncpg.PostgresError:
        return False
    return True


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(name: str) -> str:
    return ".".join(_ident(part) for part in name.split("."))
