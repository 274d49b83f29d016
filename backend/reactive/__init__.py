"""plutarc's reactive core: live queries that re-run only when a committed change can touch them.

Runtime-independent phases, one module each:

- `catalog`      what the schema says: application tables, keys, routing columns, opaque names.
- `capture`      statement-level triggers that `pg_notify` committed changes (keys only).
- `listener`     the one LISTEN connection per process; batches notices into `Change`s; fences.
- `keys`         one canonical text per routing value (JSON, parameters and literals meet).
- `readset`      read sets of executed SQL: `ReadSets` (cached shapes) and `bind`;
                 `shape`, `sqlshape` and `sqlterms` are the pglast analysis behind it.
- `invalidation` inverted index from routing keys to subscriptions.
- `diff`         keyed list diffs, JSON Patch, or the whole value - whichever is smaller.
- `version`      versions from PostgreSQL snapshots and transaction ids.

Built on them: `engine` (shared queries, fenced cycles), `session` (per-client state and
backpressure), `sync` (WebSocket), `sse`, `stats`. The wire protocol is docs/protocol.md.
"""
