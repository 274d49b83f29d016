"""The invalidation index: a change re-runs exactly the subscriptions it can touch."""

from __future__ import annotations

import uuid
from decimal import Decimal

from backend.reactive.invalidation import InvalidationIndex
from backend.reactive.listener import Change
from backend.reactive.readset import EVERYTHING, ReadSet, ReadSets


def keyed(*keys: tuple[str, str, object], tables: tuple[str, ...] = ()) -> ReadSet:
    from backend.reactive.keys import routing_value

    return ReadSet(frozenset((t, c, routing_value(v)) for t, c, v in keys), frozenset(tables))


def upd(table: str, old: dict | None, new: dict | None) -> Change:
    return Change(table=table, op="U", xid=1, old=old, new=new)


def test_one_write_among_a_thousand_keys_touches_one_subscription() -> None:
    index = InvalidationIndex()
    for bot in range(1000):
        index.add(bot, keyed(("trades", "bot_id", bot)))
    assert index.affected([Change("trades", "I", 1, pk=1, new={"id": 1, "bot_id": 417})]) == {417}


def test_rows_leaving_and_entering_a_filter_both_count() -> None:
    index = InvalidationIndex()
    index.add("online", keyed(("bots", "status", "online")))
    index.add("paused", keyed(("bots", "status", "paused")))
    index.add("stopped", keyed(("bots", "status", "stopped")))
    change = upd("bots", {"id": 1, "status": "online"}, {"id": 1, "status": "paused"})
    assert index.affected([change]) == {"online", "paused"}


def test_table_wide_changes_touch_every_reader_of_the_table() -> None:
    index = InvalidationIndex()
    index.add(1, keyed(("trades", "bot_id", 1)))
    index.add(2, keyed(tables=("trades",)))
    index.add(3, keyed(("bots", "id", 1)))
    assert index.affected([Change("trades", "I", 5, whole_table=True)]) == {1, 2}
    assert index.affected([Change("trades", "D", 5, pk=9, old={"id": 9, "bot_id": 7})]) == {2}


def test_everything_subscriptions_see_every_change_but_not_an_empty_batch() -> None:
    index = InvalidationIndex()
    index.add("all", EVERYTHING)
    assert index.affected([upd("anything", {"id": 1}, None)]) == {"all"}
    assert index.affected([]) == set()


def test_a_change_without_the_keyed_column_touches_every_key_on_it() -> None:
    index = InvalidationIndex()
    index.add("named", keyed(("bots", "name", "alpha")))
    index.add("other", keyed(("bots", "user_id", 4)))
    # name is not a routing column, so notices never carry it
    assert index.affected([upd("bots", {"id": 1, "user_id": 3}, {"id": 1, "user_id": 3})]) == {
        "named"
    }
    # a change with neither side known is table-wide
    assert index.affected([Change("bots", "U", 1, pk=1)]) == {"named", "other"}


def test_values_compare_across_json_and_python_types() -> None:
    index = InvalidationIndex()
    ref = uuid.uuid4()
    index.add("int", keyed(("t", "n", Decimal(42))))
    index.add("uuid", keyed(("t", "ref", ref)))
    index.add("bool", keyed(("t", "flag", "t")))
    index.add("char", keyed(("t", "code", "ab")))
    miss = {"n": 41, "ref": str(uuid.uuid4()), "flag": False, "code": "x"}
    assert index.affected([upd("t", None, {**miss, "n": 42})]) == {"int"}
    assert index.affected([upd("t", None, {**miss, "ref": str(ref).upper()})]) == {"uuid"}
    assert index.affected([upd("t", None, {**miss, "flag": True})]) == {"bool"}
    assert index.affected([upd("t", None, {**miss, "code": "ab   "})]) == {"char"}
    assert index.affected([upd("t", None, miss)]) == set()


def test_remove_and_re_add_replace_the_index_entries() -> None:
    index = InvalidationIndex()
    index.add("s", keyed(("trades", "bot_id", 1), tables=("bots",)))
    index.add("s", keyed(("trades", "bot_id", 2)))
    assert index.affected([upd("trades", None, {"bot_id": 1})]) == set()
    assert index.affected([upd("bots", None, {"id": 1})]) == set()
    assert index.affected([upd("trades", None, {"bot_id": 2})]) == {"s"}
    index.remove("s")
    index.remove("s")
    assert len(index) == 0 and "s" not in index
    assert index.affected([upd("trades", None, {"bot_id": 2})]) == set()
    assert index._keys == {} and index._whole == {}


def test_read_sets_from_sql_drive_the_index() -> None:
    readsets = ReadSets()
    index = InvalidationIndex()
    sql = "SELECT * FROM trades t JOIN bots b ON b.id = t.bot_id WHERE b.id = $1"
    for bot in (1, 2, 3):
        index.add(bot, readsets.readset([(sql, (bot,))]))
    assert index.affected([upd("trades", {"id": 5, "bot_id": 1}, {"id": 5, "bot_id": 3})]) == {1, 3}
    assert index.affected([upd("bots", {"id": 2, "user_id": 1}, None)]) == {2}


def test_each_hit_is_told_what_caused_it() -> None:
    """The profiler's attribution (stats.Stats.hit): a key names table.column=value, a table-wide
    change or a whole-table reader names the table; subscriptions not hit are never told."""
    index = InvalidationIndex()
    index.add("bot 7", keyed(("trades", "bot_id", 7)))
    index.add("bot 8", keyed(("trades", "bot_id", 8)))
    index.add("all trades", keyed(tables=("trades",)))
    hits: list[tuple[str, frozenset]] = []
    record = lambda source, subs: hits.append((source, frozenset(subs)))
    moved = upd("trades", {"id": 1, "bot_id": 7}, {"id": 1, "bot_id": 9})
    assert index.affected([moved], record) == {"bot 7", "all trades"}
    assert sorted(hits) == [("trades", frozenset({"all trades"})),
                            ("trades.bot_id=7", frozenset({"bot 7"}))]
    hits.clear()
    assert index.affected([Change("trades", "U", 2, whole_table=True)], record) == {
        "bot 7", "bot 8", "all trades"}
    assert {source for source, _ in hits} == {"trades"}
    assert frozenset().union(*(subs for _, subs in hits)) == {"bot 7", "bot 8", "all trades"}
