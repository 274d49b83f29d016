"""Deterministic client order ids (Bybit ``orderLinkId``) for every order intent.

An id is derived from the bot, the trade sequence number and the leg, so every retry of an
intent — and a restarted bot re-deriving it — sends the same id and the exchange refuses a
duplicate. Format: ``<bot tag>-<trade seq>-<leg>[-<revision>]``, at most 36 characters of
``[A-Za-z0-9_-]`` as Bybit requires. The bot tag is a short hash of the bot id, so ids of
different bots sharing one account never collide while an id stays short.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MAX_LEN = 36
_TAG_LEN = 10
_LEG = re.compile(r"^[A-Za-z0-9_]{1,8}$")
_ID = re.compile(
    r"^(?P<tag>[a-z0-9]{10})-(?P<seq>\d+)-(?P<leg>[A-Za-z0-9_]{1,8})(?:-(?P<rev>\d+))?$"
)


@dataclass(frozen=True)
class OrderIntent:
    """What an orderLinkId stands for."""

    bot_tag: str
    trade_seq: int
    leg: str
    revision: int = 0


def bot_tag(bot_id: str) -> str:
    """Ten lowercase base-32 characters identifying ``bot_id``."""
    digest = hashlib.sha256(bot_id.encode()).digest()
    value = int.from_bytes(digest[:8])
    alphabet = "0123456789abcdefghijklmnopqrstuv"
    return "".join(alphabet[(value >> (5 * i)) & 31] for i in range(_TAG_LEN))


def order_link_id(bot_id: str, trade_seq: int, leg: str, revision: int = 0) -> str:
    """The orderLinkId of one order intent; ``revision`` separates deliberate re-submissions
    (e.g. a second exit attempt after the first was cancelled), never retries."""
    if trade_seq < 0 or revision < 0:
        raise ValueError("trade_seq and revision must be non-negative")
    if not _LEG.match(leg):
        raise ValueError(f"leg {leg!r} must be 1-8 characters of [A-Za-z0-9_]")
    link_id = f"{bot_tag(bot_id)}-{trade_seq}-{leg}" + (f"-{revision}" if revision else "")
    if len(link_id) > MAX_LEN:
        raise ValueError(f"orderLinkId {link_id!r} exceeds {MAX_LEN} characters")
    return link_id


def parse_order_link_id(link_id: str) -> OrderIntent | None:
    """The intent behind an id this module made, or None for anyone else's id."""
    match = _ID.match(link_id or "")
    if match is None:
        return None
    return OrderIntent(match["tag"], int(match["seq"]), match["leg"], int(match["rev"] or 0))


def is_own(link_id: str, bot_id: str) -> bool:
    """True when ``link_id`` was made for ``bot_id`` (used to find this bot's orphans)."""
    intent = parse_order_link_id(link_id)
    return intent is not None and intent.bot_tag == bot_tag(bot_id)
