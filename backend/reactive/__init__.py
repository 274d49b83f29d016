"""plutarc's reactive core: live queries that re-run only when a committed change can touch them.

Phases, one module each:

- `catalog`      what the database schema says: application tables, primary keys, routing
                 columns, views and functions (read once from pg_catalog).
- `capture`      statement-level triggers that `pg_notify` committed changes (keys only).
- `listener`     the one LISTEN connection per process; batches notices into `Change`s.
- `readset`      parses each SQL text once (pglast) into the rows it can read.
- `invalidation` inverted index from routing keys to subscriptions.
- `diff`         keyed list diffs, JSON Patch, or the whole value - whichever is smaller.
- `version`      versions derived from PostgreSQL snapshots and transaction ids.

The wire protocol built on these is specified in docs/protocol.md.
"""
