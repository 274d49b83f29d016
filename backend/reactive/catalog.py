"""What the database schema says about reactivity: application tables, their primary keys and
routing columns, and the relations a read set cannot see through (views, user functions).

Application tables are the ordinary and partitioned tables of every user schema (not
pg_*/information_schema, not an extension's): a public table is named bare (`bots`), any
other `schema.name` - the names read sets use. A partition is captured under its partitioned
table's name; a query that names a partition itself depends on everything.

Routing columns are the columns whose old/new values every change notice carries, so that a
change can be matched against equality predicates of live queries. The rule, decided here:

- a column routes when equality on it is plain equality of its JSON value: integers
  (int2/int4/int8), booleans, UUIDs, enums, and short strings (varchar/char with a declared
  length <= 64) - with a deterministic collation;
- key columns (primary key, foreign keys, and columns named `id` or `*_id`) of text or
  varchar of any length route too - their values are usually short; an oversized one makes
  the trigger send a table-wide notice instead;
- never: numeric (1.0 = 1.00 would not compare equal as text), floats, timestamps, json,
  unbounded text that is not a key, arrays, composite and domain types.

A query predicate on a non-routing column is still sound: the invalidation index treats a
change that lacks a value for the column as touching every key on that column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

MAX_ROUTING_COLUMNS = 40  # keys first; columns left out fall back to "touches every key"
SHORT_STRING = 64
_INTEGERS = frozenset({"int2", "int4", "int8"})
_SCALARS = _INTEGERS | {"bool", "uuid"}
_STRINGS = frozenset({"varchar", "bpchar"})
_NOT_APPLICATION = frozenset({"tortoise_migrations", "aerich", "schema_migrations"})


@dataclass(frozen=True, slots=True)
class TableInfo:
    """One application table: its columns, primary key (in key order) and routing columns
    (key first)."""

    name: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]
    routing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Catalog:
    """Application tables by name, and the names of relations/functions that may read any
    table behind a query's back (views, materialized views, foreign tables, user functions)."""

    tables: Mapping[str, TableInfo]
    opaque: frozenset[str]

    def routed(self, table: str) -> frozenset[str]:
        """Routing columns of `table` (empty for an unknown table)."""
        info = self.tables.get(table)
        return frozenset(info.routing) if info else frozenset()

    def columns(self, table: str) -> frozenset[str] | None:
        """Columns of `table`, or None when it is not an application table."""
        info = self.tables.get(table)
        return frozenset(info.columns) if info else None


_COLUMNS_SQL = """
SELECT a.attname, a.attnum, t.typname, t.typtype::text AS typtype, a.atttypmod,
       coalesce(co.collisdeterministic, true) AS deterministic,
       EXISTS (SELECT 1 FROM pg_constraint f
               WHERE f.conrelid = a.attrelid AND f.contype = 'f'
                 AND a.attnum = ANY (f.conkey)) AS is_fk,
       coalesce((SELECT array_position(p.conkey, a.attnum) FROM pg_constraint p
                 WHERE p.conrelid = a.attrelid AND p.contype = 'p'), 0) AS pk_position
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_NAME = "CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END"
_USER_SCHEMA = ("n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'"
                " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
                " AND d.objid = c.oid AND d.deptype = 'e')")

_TABLES_SQL = f"""
SELECT {_NAME} AS name, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {_USER_SCHEMA}
ORDER BY 1
"""

_PARTITIONS_SQL = f"""
SELECT {_NAME} FROM pg_partition_tree($1::regclass) p
JOIN pg_class c ON c.oid = p.relid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE p.level > 0 ORDER BY p.level, 1
"""

# partitions too: a query naming one reads rows whose notices carry the partitioned table's name
_OPAQUE_SQL = f"""
SELECT {_NAME} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (c.relkind IN ('v', 'm', 'f') OR c.relispartition) AND {_USER_SCHEMA}
UNION
SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  AND p.prorettype <> 'trigger'::regtype AND p.proname NOT LIKE 'plutarc\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""


def _is_key_name(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _routes(row: asyncpg.Record) -> bool:
    if not row["deterministic"]:
        return False
    keyish = row["pk_position"] > 0 or row["is_fk"] or _is_key_name(row["attname"])
    typname = row["typname"]
    if typname in _SCALARS or row["typtype"] == "e":
        return True
    if typname in _STRINGS:
        declared = row["atttypmod"] - 4  # typmod of varchar(n)/char(n) is n + 4, -1 if none
        return keyish or 0 <= declared <= SHORT_STRING
    return typname == "text" and keyish


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(table: str) -> str:
    """The SQL name of application table `table` ("name" in public, else "schema.name")."""
    schema, _, name = table.rpartition(".")
    return f"{_quote_ident(schema or 'public')}.{_quote_ident(name)}"


async def table_info(conn: asyncpg.Connection, table: str) -> TableInfo:
    """Primary key and routing columns of application table `table`."""
    rows = await conn.fetch(_COLUMNS_SQL, qualified(table))
    pk = tuple(
        r["attname"] for r in sorted(rows, key=lambda r: r["pk_position"]) if r["pk_position"]
    )
    others = [r["attname"] for r in rows if _routes(r) and r["attname"] not in pk]
    # keys first so that a cap never drops them
    others.sort(key=lambda name: not _is_key_name(name))
    routing = (pk + tuple(others))[:MAX_ROUTING_COLUMNS]
    columns = tuple(r["attname"] for r in rows)
    return TableInfo(name=table, columns=columns, primary_key=pk, routing=routing)


async def application_tables(conn: asyncpg.Connection) -> list[str]:
    """Ordinary and partitioned tables (not their partitions) of every user schema, without
    migration bookkeeping tables: bare names in public, "schema.name" elsewhere."""
    names = await conn.fetch(_TABLES_SQL)
    return [r["name"] for r in names if r["relname"] not in _NOT_APPLICATION]


async def partitions(conn: asyncpg.Connection, table: str) -> list[str]:
    """Every partition under `table` (empty for a table that is not partitioned)."""
    return [r[0] for r in await conn.fetch(_PARTITIONS_SQL, qualified(table))]


async def load_catalog(conn: asyncpg.Connection) -> Catalog:
    """Read every application table's routing information and the opaque names."""
    tables = {name: await table_info(conn, name) for name in await application_tables(conn)}
    opaque = frozenset(r[0] for r in await conn.fetch(_OPAQUE_SQL))
    return Catalog(tables=tables, opaque=opaque)
