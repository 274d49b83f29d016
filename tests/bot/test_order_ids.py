"""orderLinkIds are deterministic, short, Bybit-legal and recognisable as our own."""

import re

import pytest

from bot.order_ids import MAX_LEN, is_own, order_link_id, parse_order_link_id

UUID = "2b7d6c1e-1234-4f00-9a6b-0d5c8f1e2a33"


def test_same_intent_gives_the_same_id_every_time():
    assert order_link_id(UUID, 7, "entry") == order_link_id(UUID, 7, "entry")


def test_ids_differ_by_bot_trade_leg_and_revision():
    ids = {
        order_link_id(UUID, 7, "entry"),
        order_link_id(UUID, 8, "entry"),
        order_link_id(UUID, 7, "exit"),
        order_link_id(UUID, 7, "exit", 1),
        order_link_id("another-bot", 7, "entry"),
    }
    assert len(ids) == 5


def test_longest_id_fits_bybit_rules():
    link = order_link_id(UUID, 10**10 - 1, "takeprof", 9999)  # 10-digit trade sequence
    assert len(link) <= MAX_LEN and re.fullmatch(r"[A-Za-z0-9_-]+", link)


def test_too_long_or_illegal_parts_are_refused():
    with pytest.raises(ValueError):
        order_link_id(UUID, 10**30, "entry", 10**6)
    with pytest.raises(ValueError):
        order_link_id(UUID, 1, "bad leg")


def test_ids_parse_back_and_identify_their_bot():
    link = order_link_id(UUID, 42, "exit", 2)
    intent = parse_order_link_id(link)
    assert (intent.trade_seq, intent.leg, intent.revision) == (42, "exit", 2)
    assert is_own(link, UUID) and not is_own(link, "someone-else")
    assert parse_order_link_id("manual-order") is None
