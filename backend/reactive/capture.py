"""Change capture: statement-level triggers that `pg_notify` committed changes as small JSON.

Each captured table gets its own PL/pgSQL function, generated at install time from the
catalog (`catalog.table_info`: primary key and routing columns) with static SQL, so its plans
are prepared once; and four AFTER ... FOR EACH STATEMENT triggers calling it (PostgreSQL allows
transition tables only on single-event triggers): INSERT (new_rows), UPDATE (old_rows +
new_rows), DELETE (old_rows) and TRUNCATE. A shared function, `plutarc_notify_chunks`, cuts
the rows into payloads. Notices go to channel `plutarc_changes` and are delivered by
PostgreSQL after commit, in commit order; a rolled-back write sends nothing.

Payload (every one is shorter than MAX_PAYLOAD_BYTES, checked with octet_length before each
pg_notify - an oversized payload would raise and roll back the write):

    {"t": table, "op": "I"|"U"|"D", "x": "<xid8 of the writing transaction>",
     "rows": [{"pk": pk, "old": {col: value}, "new": {col: value}}, ...]}

- `pk` is the primary-key value (an array for a composite key, null without a key);
- "old" is present for D, and for U when a routing value changed; "new" for I and U;
- an UPDATE pairs old/new rows on the primary key; a row whose key changed appears as an
  old-only and a new-only entry;
- the rows of one statement are split over chunks; above MAX_ROWS rows, above MAX_CHUNKS
  chunks, or when one row alone would not fit, a single table-wide notice replaces them:

    {"t": table, "op": "I"|"U"|"D"|"T", "x": "...", "all": true}

  (TRUNCATE always sends the table-wide form).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import asyncpg

from backend.reactive.catalog import application_tables, partitions, qualified, table_info

CHANNEL = "plutarc_changes"
MAX_PAYLOAD_BYTES = 7900
MAX_ROWS = 1000
MAX_CHUNKS = 10
TRIGGER_EVENTS = ("insert", "update", "delete", "truncate")

# head is '{"t":...,"op":...,"x":...'; a chunk is head || ',"rows":[' || rows || ']}', i.e.
# 11 bytes besides head and the comma-separated rows
CHUNKS_SQL = f"""
CREATE OR REPLACE FUNCTION plutarc_notify_chunks(head text, elems text[], total bigint,
                                                 biggest int) RETURNS void
LANGUAGE plpgsql AS $plutarc$
DECLARE
    e text;
    buf text := '';
    buflen int := 0;
    headlen int := octet_length(head);
    payload text;
BEGIN
    IF headlen + 11 + biggest >= {MAX_PAYLOAD_BYTES} OR total > {MAX_PAYLOAD_BYTES * MAX_CHUNKS} THEN
        PERFORM pg_notify('{CHANNEL}', head || ',"all":true}}');
        RETURN;
    END IF;
    FOREACH e IN ARRAY elems LOOP
        IF buflen > 0 AND headlen + 11 + buflen + 1 + octet_length(e) >= {MAX_PAYLOAD_BYTES} THEN
            payload := head || ',"rows":[' || buf || ']}}';
            IF octet_length(payload) >= {MAX_PAYLOAD_BYTES} THEN
                payload := head || ',"all":true}}';
            END IF;
            PERFORM pg_notify('{CHANNEL}', payload);
            buf := '';
            buflen := 0;
        END IF;
        IF buflen = 0 THEN
            buf := e;
            buflen := octet_length(e);
        ELSE
            buf := buf || ',' || e;
            buflen := buflen + 1 + octet_length(e);
        END IF;
    END LOOP;
    payload := head || ',"rows":[' || buf || ']}}';
    IF octet_length(payload) >= {MAX_PAYLOAD_BYTES} THEN
        payload := head || ',"all":true}}';
    END IF;
    PERFORM pg_notify('{CHANNEL}', payload);
END
$plutarc$;
"""

_TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql AS $plutarc$
DECLARE
    head text := '{{"t":' || to_json({name}::text)::text
                 || ',"op":"' || left(TG_OP, 1) || '","x":"' || pg_current_xact_id()::text || '"';
    n bigint;
    elems text[];
    total bigint;
    biggest int;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('{channel}', head || ',"all":true}}');
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
    ELSE
        SELECT count(*) INTO n FROM new_rows;
    END IF;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF n > {max_rows} THEN
        PERFORM pg_notify('{channel}', head || ',"all":true}}');
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(e), sum(octet_length(e)), max(octet_length(e)) INTO elems, total, biggest
        FROM (SELECT {element} FROM ({inserted}) AS r(p, ov, nv)) AS s(e);
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(e), sum(octet_length(e)), max(octet_length(e)) INTO elems, total, biggest
        FROM (SELECT {element} FROM ({deleted}) AS r(p, ov, nv)) AS s(e);
    ELSE
        SELECT array_agg(e), sum(octet_length(e)), max(octet_length(e)) INTO elems, total, biggest
        FROM (SELECT {element} FROM ({updated}) AS r(p, ov, nv)) AS s(e);
    END IF;
    PERFORM plutarc_notify_chunks(head, elems, total, biggest);
    RETURN NULL;
END
$plutarc$;
"""

# one row of a notice from (p: key JSON, ov: old routing JSON, nv: new routing JSON)
_ELEMENT = (
    """'{"pk":' || coalesce(p, 'null')"""
    """ || CASE WHEN ov IS NOT NULL AND ov IS DISTINCT FROM nv THEN ',"old":' || ov ELSE '' END"""
    """ || CASE WHEN nv IS NOT NULL THEN ',"new":' || nv ELSE '' END || '}'"""
)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _object(alias: str, columns: Sequence[str]) -> str:
    """SQL for the compact JSON object of `columns` of row `alias` (never NULL)."""
    if not columns:
        return "'{}'"
    pieces = []
    for i, column in enumerate(columns):
        key = ("{" if i == 0 else ",") + json.dumps(column) + ":"
        pieces.append(
            f"{_literal(key)} || coalesce(to_json({alias}.{_ident(column)})::text, 'null')"
        )
    return " || ".join(pieces) + " || '}'"


def _key(alias: str, primary_key: Sequence[str]) -> str:
    """SQL for the JSON text of the key of row `alias` (NULL when `alias` is a missing side)."""
    if not primary_key:
        return "NULL::text"
    parts = [f"to_json({alias}.{_ident(c)})::text" for c in primary_key]
    if len(parts) == 1:
        return parts[0]
    return "'[' || " + " || ',' || ".join(parts) + " || ']'"


def function_name(table: str) -> str:
    """The name of `table`'s capture function (shortened with a hash to fit 63 bytes)."""
    name = f"plutarc_capture_{table}"
    if len(name.encode()) <= 63:
        return name
    return f"plutarc_capture_{table.encode()[:30].decode(errors='ignore')}_{hashlib.sha1(table.encode()).hexdigest()[:10]}"


def install_capture_sql(
    table: str, routing_columns: Sequence[str], primary_key: Sequence[str] = (),
    partitions: Sequence[str] = (),
) -> str:
    """SQL that (re)creates the capture function and triggers of application table `table`
    (a public table's bare name, or "schema.name"), and of its `partitions`: a write through
    the partitioned table fires its own statement triggers, a write naming a partition fires
    the partition's; both notify under `table`, the name queries read.

    `routing_columns` may include the key columns; the notice carries key columns first.
    Needs CHUNKS_SQL to have run once (install_capture does both).
    """
    columns = [*primary_key, *(c for c in routing_columns if c not in primary_key)]
    old_obj, new_obj = _object("o", columns), _object("n", columns)
    if primary_key:
        first = _ident(primary_key[0])
        on = " AND ".join(f"o.{_ident(c)} = n.{_ident(c)}" for c in primary_key)
        # key columns are never null: a null key marks the missing side of the full join
        updated = (
            f"SELECT coalesce({_key('n', primary_key)}, {_key('o', primary_key)}),"
            f" CASE WHEN o.{first} IS NULL THEN NULL ELSE {old_obj} END,"
            f" CASE WHEN n.{first} IS NULL THEN NULL ELSE {new_obj} END"
            f" FROM old_rows o FULL JOIN new_rows n ON {on}"
        )
    else:
        updated = (
            f"SELECT NULL::text, {old_obj}, NULL::text FROM old_rows o UNION ALL"
            f" SELECT NULL::text, NULL::text, {new_obj} FROM new_rows n"
        )
    function = _ident(function_name(table))
    statements = [
        _TRIGGER_SQL.format(
            function=function,
            name=_literal(table),
            channel=CHANNEL,
            max_rows=MAX_ROWS,
            element=_ELEMENT,
            inserted=f"SELECT {_key('n', primary_key)}, NULL::text, {new_obj} FROM new_rows n",
            deleted=f"SELECT {_key('o', primary_key)}, {old_obj}, NULL::text FROM old_rows o",
            updated=updated,
        )
    ]
    for target in (qualified(table), *map(qualified, partitions)):
        statements.extend(_triggers(target, function))
    return "\n".join(statements)


def _triggers(target: str, function: str) -> list[str]:
    statements = []
    for event in TRIGGER_EVENTS:
        name = _ident(f"plutarc_capture_{event}")
        referencing = {
            "insert": " REFERENCING NEW TABLE AS new_rows",
            "update": " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "delete": " REFERENCING OLD TABLE AS old_rows",
            "truncate": "",
        }[event]
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {target};")
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON {target}{referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
        )
    return statements


async def install_capture(conn: asyncpg.Connection, table: str) -> None:
    """Install (or refresh) the capture function and triggers of one application table."""
    async with conn.transaction():
        await conn.execute(CHUNKS_SQL)
        await _install(conn, table)


async def _install(conn: asyncpg.Connection, table: str) -> None:
    info = await table_info(conn, table)
    parts = await partitions(conn, table)
    await conn.execute(install_capture_sql(table, info.routing, info.primary_key, parts))


async def install_capture_all(conn: asyncpg.Connection) -> list[str]:
    """Install capture on every application table (catalog.py); returns their names.

    Idempotent; the migrations call it after every run so tables added later are captured,
    and a table's function is regenerated so new routing columns are picked up.
    """
    tables = await application_tables(conn)
    async with conn.transaction():
        await conn.execute(CHUNKS_SQL)
        for table in tables:
            await _install(conn, table)
    return tables
