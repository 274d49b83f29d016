"""Insights on a bot (`insights:*`), all live queries for its owner: the decision journal
(why each candle did or did not trade), trade analytics (one bot or the overview of all the
caller's bots) and the `reconciling` condition with both views of each difference.
Definitions: strategy/journal.py, backend/domain/analytics.py, backend/domain/reconciling.py;
user guide: docs/insights.md."""

from __future__ import annotations

from pydantic import AwareDatetime

from backend.domain import journal
from backend.domain.analytics import Analytics, trade_analytics
from backend.domain.botstate import owned_bot
from backend.domain.journal import DecisionRow
from backend.domain.reconciling import ReconcilingState, reconciling_state
from backend.runtime import Ctx, Id, query

BotId = Id["bots"]


@query
async def decisions(
    ctx: Ctx, bot_id: BotId, start: AwareDatetime, end: AwareDatetime
) -> list[DecisionRow]:
    """The decision journal of candles opened in [start, end) (at most 7 days): why each
    candle did or did not trade (strategy/journal.py)."""
    await owned_bot(ctx.db, bot_id, ctx.auth.require_user())
    return await journal.decisions(ctx.db, bot_id, start, end)


@query
async def analytics(
    ctx: Ctx, bot_id: BotId | None = None, start: AwareDatetime | None = None,
    end: AwareDatetime | None = None,
) -> Analytics:
    """Trade analytics of one bot, or of all the caller's bots (the overview), for trades
    that exited in [start, end) (backend/domain/analytics.py)."""
    user_id = ctx.auth.require_user()
    if bot_id is None:
        return await trade_analytics(ctx.db, "user_id", user_id, start, end)
    await owned_bot(ctx.db, bot_id, user_id)
    return await trade_analytics(ctx.db, "bot_id", bot_id, start, end)


@query
async def reconciliation(ctx: Ctx, bot_id: BotId) -> ReconcilingState:
    """Whether the bot is `reconciling` (its model and the exchange disagreed and no clean
    pass followed yet), with both views of each difference (backend/domain/reconciling.py)."""
    await owned_bot(ctx.db, bot_id, ctx.auth.require_user())
    return await reconciling_state(ctx.db, bot_id)
