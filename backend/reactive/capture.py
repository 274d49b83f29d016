"""Change capture: statement-level triggers that `pg_notify` committed changes as small JSON.

One PL/pgSQL function, `plutarc_capture()`, serves every table. Each captured table gets four
AFTER ... FOR EACH STATEMENT triggers (PostgreSQL allows transition tables only on
single-event triggers): INSERT (new_rows), UPDATE (old_rows + new_rows), DELETE (old_rows) and
TRUNCATE. The trigger arguments are the primary key and the routing columns, computed from the
catalog at install time (`catalog.table_info`). Notices go to channel `plutarc_changes` and are
delivered by PostgreSQL after commit, in commit order; a rolled-back write sends nothing.

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

from collections.abc import Sequence

import asyncpg

from backend.reactive.catalog import application_tables, table_info

CHANNEL = "plutarc_changes"
MAX_PAYLOAD_BYTES = 7900
MAX_ROWS = 1000
MAX_CHUNKS = 10
TRIGGER_EVENTS = ("insert", "update", "delete", "truncate")

FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION plutarc_capture() RETURNS trigger
LANGUAGE plpgsql AS $plutarc$
DECLARE
    npk int := TG_ARGV[0]::int;
    pk text[] := coalesce(TG_ARGV[1:npk], '{{}}');
    cols text[] := coalesce(TG_ARGV[1:TG_NARGS - 1], '{{}}');
    head text := '{{"t":' || to_json(CASE WHEN TG_TABLE_SCHEMA = 'public' THEN TG_TABLE_NAME
                                      ELSE TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME END)::text
                 || ',"op":"' || left(TG_OP, 1) || '","x":"' || pg_current_xact_id()::text || '"';
    whole text := head || ',"all":true}}';
    n bigint;
    o_cols text;
    n_cols text;
    o_pk text;
    n_pk text;
    src text;
    elems text[];
    total bigint;
    biggest int;
    e text;
    buf text := '';
    buflen int := 0;
    payload text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('{CHANNEL}', whole);
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
    IF n > {MAX_ROWS} THEN
        PERFORM pg_notify('{CHANNEL}', whole);
        RETURN NULL;
    END IF;

    -- SQL expressions rendering one side's routing values / key as compact JSON text
    SELECT '''{{''||' || coalesce(string_agg(
               quote_literal(to_json(c)::text || ':') || '||coalesce(to_json(o.' || quote_ident(c)
               || ')::text,''null'')', '||'',''||' ORDER BY i), '''''') || '||''}}''',
           '''{{''||' || coalesce(string_agg(
               quote_literal(to_json(c)::text || ':') || '||coalesce(to_json(n.' || quote_ident(c)
               || ')::text,''null'')', '||'',''||' ORDER BY i), '''''') || '||''}}'''
      INTO o_cols, n_cols FROM unnest(cols) WITH ORDINALITY AS u(c, i);
    SELECT CASE npk WHEN 0 THEN 'NULL::text'
                    WHEN 1 THEN 'to_json(o.' || quote_ident(pk[1]) || ')::text'
                    ELSE '''[''||' || string_agg('to_json(o.' || quote_ident(c) || ')::text',
                                                 '||'',''||' ORDER BY i) || '||'']''' END,
           CASE npk WHEN 0 THEN 'NULL::text'
                    WHEN 1 THEN 'to_json(n.' || quote_ident(pk[1]) || ')::text'
                    ELSE '''[''||' || string_agg('to_json(n.' || quote_ident(c) || ')::text',
                                                 '||'',''||' ORDER BY i) || '||'']''' END
      INTO o_pk, n_pk FROM unnest(pk) WITH ORDINALITY AS u(c, i);

    IF TG_OP = 'INSERT' THEN
        src := 'SELECT ' || n_pk || ', NULL::text, ' || n_cols || ' FROM new_rows n';
    ELSIF TG_OP = 'DELETE' THEN
        src := 'SELECT ' || o_pk || ', ' || o_cols || ', NULL::text FROM old_rows o';
    ELSIF npk = 0 THEN
        src := 'SELECT NULL::text, ' || o_cols || ', NULL::text FROM old_rows o UNION ALL '
               || 'SELECT NULL::text, NULL::text, ' || n_cols || ' FROM new_rows n';
    ELSE
        -- key columns are never null, so a null key marks the missing side of the full join
        src := 'SELECT coalesce(' || n_pk || ', ' || o_pk || '), '
               || 'CASE WHEN o.' || quote_ident(pk[1]) || ' IS NULL THEN NULL ELSE ' || o_cols || ' END, '
               || 'CASE WHEN n.' || quote_ident(pk[1]) || ' IS NULL THEN NULL ELSE ' || n_cols || ' END '
               || 'FROM old_rows o FULL JOIN new_rows n ON '
               || (SELECT string_agg('o.' || quote_ident(c) || ' = n.' || quote_ident(c), ' AND ')
                   FROM unnest(pk) AS c);
    END IF;

    EXECUTE 'SELECT array_agg(e), coalesce(sum(octet_length(e)), 0), coalesce(max(octet_length(e)), 0) '
            || 'FROM (SELECT ''{{"pk":'' || coalesce(p, ''null'') '
            || '|| CASE WHEN ov IS NOT NULL AND ov IS DISTINCT FROM nv THEN '',"old":'' || ov ELSE '''' END '
            || '|| CASE WHEN nv IS NOT NULL THEN '',"new":'' || nv ELSE '''' END || ''}}'' AS e '
            || 'FROM (' || src || ') AS r(p, ov, nv)) AS s'
      INTO elems, total, biggest;

    -- a chunk is head || ',"rows":[' || buf || ']}}': 11 bytes besides head and buf
    IF octet_length(head) + 11 + biggest >= {MAX_PAYLOAD_BYTES}
       OR total > {MAX_PAYLOAD_BYTES * MAX_CHUNKS} THEN
        PERFORM pg_notify('{CHANNEL}', whole);
        RETURN NULL;
    END IF;
    FOREACH e IN ARRAY elems LOOP
        IF buflen > 0 AND octet_length(head) + 11 + buflen + 1 + octet_length(e) >= {MAX_PAYLOAD_BYTES} THEN
            payload := head || ',"rows":[' || buf || ']}}';
            IF octet_length(payload) >= {MAX_PAYLOAD_BYTES} THEN
                payload := whole;
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
        payload := whole;
    END IF;
    PERFORM pg_notify('{CHANNEL}', payload);
    RETURN NULL;
END
$plutarc$;
"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def install_capture_sql(
    table: str, routing_columns: Sequence[str], primary_key: Sequence[str] = ()
) -> str:
    """SQL that (re)creates the capture triggers of public table `table`.

    `routing_columns` may include the key columns; the notice carries key columns first.
    Run FUNCTION_SQL once before (install_capture does both).
    """
    others = [c for c in routing_columns if c not in primary_key]
    args = ", ".join(_literal(a) for a in [str(len(primary_key)), *primary_key, *others])
    target = f"public.{_ident(table)}"
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
            f" FOR EACH STATEMENT EXECUTE FUNCTION plutarc_capture({args});"
        )
    return "\n".join(statements)


async def install_capture(conn: asyncpg.Connection, table: str) -> None:
    """Install (or refresh) the capture function and the triggers of one public table."""
    info = await table_info(conn, table)
    async with conn.transaction():
        await conn.execute(FUNCTION_SQL)
        await conn.execute(install_capture_sql(table, info.routing, info.primary_key))


async def install_capture_all(conn: asyncpg.Connection) -> list[str]:
    """Install capture on every application table of the public schema; returns their names.

    Idempotent; the migrations call it after every run so tables added later are captured.
    """
    tables = await application_tables(conn)
    async with conn.transaction():
        await conn.execute(FUNCTION_SQL)
        for table in tables:
            info = await table_info(conn, table)
            await conn.execute(install_capture_sql(table, info.routing, info.primary_key))
    return tables
