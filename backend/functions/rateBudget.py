"""The rate budget of each exchange account (`rateBudget:*`): how much of its per-UID
limits its bots had left when last seen (backend/domain/ratebudget.py)."""

from __future__ import annotations

from backend.domain.ratebudget import KeyHeadroom
from backend.domain.ratebudget import headroom as key_headroom
from backend.runtime import Ctx, query


@query
async def headroom(ctx: Ctx) -> list[KeyHeadroom]:
    """Per API key of the caller: the running bots sharing its account's limits and each
    endpoint's requests left (of its limit per window) as the exchange last said."""
    return await key_headroom(ctx.db, ctx.auth.require_user())
