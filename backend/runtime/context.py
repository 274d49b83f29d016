"""What a running function sees: `ctx.auth` (who calls), `ctx.db` (SQL), and for actions
`ctx.query` / `ctx.mutation` to call other functions as the same caller."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from backend.runtime.errors import Forbidden, Unauthorized
from backend.runtime.executor import Executor

if TYPE_CHECKING:
    from backend.runtime.jobs import JobQueue

AuthKind = Literal["anonymous", "user", "bot"]


@dataclass(frozen=True)
class Auth:
    """The caller: anonymous, a user session, or a bot token (scoped to one bot).

    `session_id` is the row of the credential used: `sessions.id` for a user,
    `bot_tokens.id` for a bot (so a live connection can be ended when it is revoked).
    """

    kind: AuthKind = "anonymous"
    user_id: int | None = None
    bot_id: int | None = None
    session_id: int | None = None

    @property
    def scope(self) -> str:
        """A stable key for sharing subscriptions between callers who see the same data."""
        if self.kind == "user":
            return f"user:{self.user_id}"
        if self.kind == "bot":
            return f"bot:{self.bot_id}"
        return "anonymous"

    def require_user(self) -> int:
        """The calling user's id; 401 when anonymous, 403 for a bot token."""
        if self.kind == "anonymous":
            raise Unauthorized("sign in first: this function needs a user session")
        if self.kind != "user" or self.user_id is None:
            raise Forbidden("this function is for users, not bots")
        return self.user_id

    def require_bot(self) -> int:
        """The calling bot's id; 401 when anonymous, 403 for a user session."""
        if self.kind == "anonymous":
            raise Unauthorized("a bot token is required")
        if self.kind != "bot" or self.bot_id is None:
            raise Forbidden("this function is for bots, not users")
        return self.bot_id


ANONYMOUS = Auth()

CallFn = Callable[[str, dict[str, Any] | None], Awaitable[Any]]


class NoScheduler:
    """The `ctx.scheduler` of queries and actions: scheduling happens in mutations, so that
    a job exists only if the write that wants it commits."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("only mutations can schedule: call a mutation that uses "
                           "ctx.scheduler")


@dataclass
class Ctx:
    """Passed as the first argument of every function.

    Inside actions `db` refuses every use (they hold no transaction); `query`/`mutation` are
    set only for actions; `scheduler` (backend/runtime/jobs.py) only for mutations.
    """

    auth: Auth
    db: Executor
    query: CallFn | None = None
    mutation: CallFn | None = None
    request_id: str = ""
    client: str = ""
    scheduler: JobQueue = field(default_factory=NoScheduler)  # type: ignore[assignment]


class NoTransaction:
    """The `ctx.db` of an action: any use is a programming error with a clear message."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("actions hold no transaction: use ctx.query / ctx.mutation")
