"""The function runtime: declare `@query` / `@mutation` / `@action` functions, validate their
arguments, run them in the right transaction with `ctx`, and record every SQL statement.

    from backend.runtime import Ctx, Id, query

    BotId = Id["bots"]

    class Bot(TypedDict):
        id: int
        name: str

    @query
    async def get(ctx: Ctx, bot_id: BotId) -> Bot | None:
        user_id = ctx.auth.require_user()
        return await ctx.db.fetchrow("SELECT id, name FROM bots WHERE id = $1 AND user_id = $2",
                                     bot_id, user_id)

Functions are gathered into the set an app serves by `discover()` / `Functions`; see
docs/functions.md for the whole guide.
"""

from backend.runtime.args import Id
from backend.runtime.context import Auth, Ctx
from backend.runtime.crons import cron
from backend.runtime.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from backend.runtime.pagination import Keyset, Page, paginate
from backend.runtime.registry import Functions, action, discover, mutation, query
from backend.runtime.results import Ok

__all__ = [
    "ApiError",
    "Auth",
    "BadRequest",
    "Conflict",
    "Ctx",
    "Forbidden",
    "Functions",
    "Id",
    "Keyset",
    "NotFound",
    "Ok",
    "Page",
    "TooManyRequests",
    "Unauthorized",
    "action",
    "cron",
    "discover",
    "mutation",
    "paginate",
    "query",
]
