"""The function runtime: declare `@query` / `@mutation` / `@action` functions, validate their
arguments, run them in the right transaction with `ctx`, and record every SQL statement.

    from backend.runtime import Ctx, Id, query

    BotId = Id["bots"]

    @query
    async def get(ctx: Ctx, bot_id: BotId) -> dict:
        user_id = ctx.auth.require_user()
        return await ctx.db.fetchrow("SELECT * FROM bots WHERE id = $1 AND user_id = $2",
                                     bot_id, user_id)
"""

from backend.runtime.args import Id
from backend.runtime.context import Auth, Ctx
from backend.runtime.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from backend.runtime.registry import action, mutation, query

__all__ = [
    "ApiError",
    "Auth",
    "BadRequest",
    "Conflict",
    "Ctx",
    "Forbidden",
    "Id",
    "NotFound",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "action",
    "mutation",
    "query",
]
