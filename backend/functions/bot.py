"""Bot-facing functions (`bot:*`), called with a bot token: a bot reads and writes only itself.

`bot:config` is the live configuration the bot subscribes to. Every report carries a
client-generated `report_id`, unique per bot and stored with the row (UNIQUE(bot_id,
report_id)), so a retried report is applied once and answers the same. Positions and
heartbeats are snapshots: the latest applied `report_id`/`at` are kept, and a report that is
a repeat or older than the last applied one changes nothing.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from backend.domain import alerts, botversion, exchanges, lifecycle
from backend.domain.botstate import BOT_COLUMNS, add_event, set_lifecycle
from backend.domain.journal import record_decision
from backend.domain.kpis import record_equity, record_trade
from backend.domain.ratebudget import MAX_ENDPOINTS, rate_share, record_headroom
from backend.runtime import BadRequest, Ctx, NotFound, mutation, query
from backend.runtime.args import ReportJson

ReportId = Annotated[str, StringConstraints(min_length=1, max_length=100)]
# money bounded to 10^15: a KPI total (NUMERIC(36,12), 24 integer digits) can sum 10^9 of them
Money = Annotated[Decimal, Field(max_digits=27, decimal_places=12)]
Positive = Annotated[Decimal, Field(gt=0, max_digits=27, decimal_places=12)]
NonNegative = Annotated[Decimal, Field(ge=0, max_digits=27, decimal_places=12)]
Symbol = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,30}$")]
Side = Literal["long", "short"]
# a report dated further ahead than this is refused: snapshots keep the latest `at`, so one
# dated 9999 would make every later, true report look old and be ignored
MAX_CLOCK_AHEAD = timedelta(minutes=5)


def _not_future(at: datetime, field: str) -> None:
    if at > datetime.now(UTC) + MAX_CLOCK_AHEAD:
        raise BadRequest(f"{field}: more than {MAX_CLOCK_AHEAD} in the future "
                         "(check the bot's clock)", field=field)


async def _market_time_not_future(ctx: Ctx, bot: dict[str, Any], at: datetime,
                                  field: str) -> None:
    """`_not_future` for a time the bot takes from its exchange's market clock (candle
    closes): the local exchange's clock runs `speed` times the wall (60 under `plutarc up`),
    so its bots' market times are legitimately ahead and only real exchanges are checked."""
    exchange = await ctx.db.fetchval("SELECT exchange FROM api_keys WHERE id = $1",
                                     bot["api_key_id"])
    if exchange != "local":
        _not_future(at, field)


class PositionIn(BaseModel):
    """One open position in a positions report."""

    model_config = ConfigDict(extra="forbid")
    symbol: Symbol
    side: Side
    size: Positive
    entry_price: Positive
    unrealised_pnl: Money
    leverage: Annotated[Decimal, Field(gt=0, le=200, max_digits=10, decimal_places=2)]


class RateLimitIn(BaseModel):
    """What the exchange said last about one endpoint: `remaining` of `limit` per window."""

    model_config = ConfigDict(extra="forbid")
    path: Annotated[str, StringConstraints(pattern=r"^/v5/[a-z0-9/-]{1,90}$")]
    remaining: Annotated[int, Field(ge=0, le=1_000_000)]
    limit: Annotated[int, Field(ge=1, le=1_000_000)]


class ExchangeAccess(TypedDict):
    """The bot's exchange: URLs, CA, API key id and its secret sealed under the data key."""

    name: str
    testnet: bool
    rest_url: str | None
    ws_public_url: str | None
    ws_private_url: str | None
    ca_pem: str | None
    api_key: str
    wrapped_secret: str


class BotConfig(TypedDict):
    """What a bot runs: its strategy template (schema: `strategies:catalogue`) and state."""

    bot_id: int
    name: str
    symbol: str
    timeframe: str | None
    template: dict[str, Any] | None
    strategy_id: int | None
    template_version: int
    desired_state: str
    close_positions: bool
    lifecycle: str
    exchange: ExchangeAccess | None
    rate_share: float  # of the exchange account's per-UID rate limits this bot may use


class Reported(TypedDict):
    """The answer to a report: the stored row's id (the same for every retry)."""

    id: int
    report_id: str


class Acknowledged(TypedDict):
    """The answer to a snapshot report (positions, heartbeat)."""

    report_id: str


class HeartbeatAnswer(Acknowledged):
    """A heartbeat's answer; `refused` (only when this backend does not run the bot's
    version) is the reason, and the bot must exit."""

    refused: NotRequired[str]


async def _me(ctx: Ctx) -> dict[str, Any]:
    bot_id = ctx.auth.require_bot()
    bot = await ctx.db.fetchrow(f"SELECT {BOT_COLUMNS} FROM bots WHERE id = $1", bot_id)
    if bot is None:
        raise NotFound("this bot no longer exists")
    return bot


async def _insert_once(ctx: Ctx, table: str, bot: dict[str, Any], report_id: str,
                       values: dict[str, Any]) -> tuple[Reported, bool]:
    """Insert a reported row unless this bot already reported `report_id`. Returns the
    answer `{id, report_id}` (the same for the first call and every retry) and whether this
    call inserted the row."""
    cols = ["bot_id", "user_id", "report_id", *values]
    params = [bot["id"], bot["user_id"], report_id, *values.values()]
    marks = ", ".join(f"${i}" for i in range(1, len(params) + 1))
    row_id = await ctx.db.fetchval(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) "
        "ON CONFLICT (bot_id, report_id) DO NOTHING RETURNING id",
        *params,
    )
    applied = row_id is not None
    if not applied:
        row_id = await ctx.db.fetchval(
            f"SELECT id FROM {table} WHERE bot_id = $1 AND report_id = $2", bot["id"], report_id
        )
    return {"id": row_id, "report_id": report_id}, applied


@query
async def config(ctx: Ctx) -> BotConfig:
    """The calling bot's configuration: strategy template and version, desired state, its
    exchange (URLs, CA, API key id and the secret sealed under its data key) and its share of
    the exchange account's rate limits (1/n for n running bots on its key)."""
    bot = await _me(ctx)
    template = await ctx.db.fetchval(
        "SELECT template FROM strategy_versions WHERE strategy_id = $1 AND version = $2",
        bot["strategy_id"], bot["strategy_version"],
    )
    key = await ctx.db.fetchrow(
        "SELECT exchange, testnet, api_key, secret_ciphertext FROM api_keys WHERE id = $1",
        bot["api_key_id"],
    )
    exchange: ExchangeAccess | None = None
    if key is not None:
        exchange = {
            "name": key["exchange"], "testnet": key["testnet"],
            **await exchanges.endpoint(ctx.db, key["exchange"], key["testnet"]),
            "api_key": key["api_key"],
            "wrapped_secret": base64.b64encode(bytes(key["secret_ciphertext"])).decode(),
        }
    return {
        "bot_id": bot["id"], "name": bot["name"], "symbol": bot["symbol"],
        "timeframe": (template or {}).get("timeframe"), "template": template,
        "strategy_id": bot["strategy_id"], "template_version": bot["strategy_version"],
        "desired_state": bot["desired_state"], "close_positions": bot["close_positions"],
        "lifecycle": bot["lifecycle"], "exchange": exchange,
        "rate_share": await rate_share(ctx.db, bot["api_key_id"]),
    }


@mutation
async def reportTrade(
    ctx: Ctx, report_id: ReportId, symbol: Symbol, side: Side, quantity: Positive,
    entry_price: Positive, exit_price: Positive, entry_at: AwareDatetime, exit_at: AwareDatetime,
    fees: NonNegative, pnl: Money, exit_reason: Annotated[str, Field(max_length=64)] = "",
    signal_state: ReportJson | None = None, mfe: Money | None = None,
    mae: Money | None = None,
) -> Reported:
    """A closed trade; `pnl` is net of `fees` (hold time = exit_at − entry_at)."""
    bot = await _me(ctx)
    if exit_at < entry_at:
        raise BadRequest("exit_at is before entry_at", field="exit_at")
    hold = int((exit_at - entry_at).total_seconds())
    answer, applied = await _insert_once(ctx, "trades", bot, report_id, {
        "symbol": symbol, "side": side, "quantity": quantity, "entry_price": entry_price,
        "exit_price": exit_price, "entry_at": entry_at, "exit_at": exit_at,
        "hold_seconds": hold, "fees": fees, "pnl": pnl, "exit_reason": exit_reason,
        "signal_state": signal_state, "mfe": mfe, "mae": mae, "created_at": datetime.now(UTC),
    })
    if applied:
        await record_trade(ctx.db, bot, {"id": answer["id"], "entry_at": entry_at,
                                         "exit_at": exit_at, "pnl": pnl, "fees": fees,
                                         "hold_seconds": hold})
    return answer


@mutation
async def reportPositions(
    ctx: Ctx, report_id: ReportId, at: AwareDatetime,
    positions: Annotated[list[PositionIn], Field(max_length=100)],
) -> Acknowledged:
    """The bot's open positions now (a full snapshot replacing the previous one)."""
    bot = await _me(ctx)
    await _market_time_not_future(ctx, bot, at, "at")
    last = await ctx.db.fetchrow(
        "SELECT positions_report_id, positions_at FROM bot_connections WHERE bot_id = $1",
        bot["id"],
    )
    if last and (last["positions_report_id"] == report_id
                 or (last["positions_at"] is not None and at <= last["positions_at"])):
        return {"report_id": report_id}
    await ctx.db.execute("DELETE FROM positions WHERE bot_id = $1", bot["id"])
    await ctx.db.executemany(
        "INSERT INTO positions (bot_id, user_id, report_id, symbol, side, size, entry_price, "
        "unrealised_pnl, leverage, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        [(bot["id"], bot["user_id"], report_id, p.symbol, p.side, p.size, p.entry_price,
          p.unrealised_pnl, p.leverage, at) for p in positions],
    )
    await ctx.db.execute(
        "UPDATE bot_connections SET positions_report_id = $2, positions_at = $3 "
        "WHERE bot_id = $1", bot["id"], report_id, at,
    )
    return {"report_id": report_id}


@mutation
async def reportEquity(
    ctx: Ctx, report_id: ReportId, at: AwareDatetime, equity: Money, balance: Money | None = None
) -> Reported:
    """An equity snapshot (typically one per candle)."""
    bot = await _me(ctx)
    await _market_time_not_future(ctx, bot, at, "at")
    answer, applied = await _insert_once(ctx, "equity_snapshots", bot, report_id,
                                         {"at": at, "equity": equity, "balance": balance})
    if applied:
        await record_equity(ctx.db, bot, at, equity)
    return answer


@mutation
async def reportSignalState(
    ctx: Ctx, report_id: ReportId, candle_at: AwareDatetime, state: ReportJson
) -> Reported:
    """The evaluated signals, filters and score of one closed candle (with the evaluator's
    `action` and `reason`, it is also that candle's decision journal record)."""
    bot = await _me(ctx)
    answer, applied = await _insert_once(ctx, "signal_states", bot, report_id,
                                         {"candle_at": candle_at, "state": state,
                                          "created_at": datetime.now(UTC)})
    if applied:
        await record_decision(ctx.db, bot, candle_at, state)
    return answer


@mutation
async def reportEvent(
    ctx: Ctx, report_id: ReportId, kind: Annotated[str, Field(min_length=1, max_length=32)],
    message: Annotated[str, Field(max_length=2000)],
    level: Literal["info", "warning", "error"] = "info", data: ReportJson | None = None,
    at: AwareDatetime | None = None,
) -> Reported:
    """An event for the bot's activity feed."""
    bot = await _me(ctx)
    answer, applied = await _insert_once(ctx, "bot_events", bot, report_id, {
        "kind": kind, "level": level, "message": message, "data": data,
        "at": at or datetime.now(UTC),
    })
    if applied:
        await alerts.on_event(ctx.db, bot, kind, level, message)
    return answer


async def _latency_sample(ctx: Ctx, bot: dict[str, Any], latency_ms: int) -> None:
    """Keep the heartbeat's latency for the per-region roll-up (`regions:rollup`)."""
    await ctx.db.execute(
        "INSERT INTO latency_samples (bot_id, provider, region, exchange, latency_ms, at) "
        "SELECT $1, $2, $3, k.exchange, $5, now() FROM api_keys k WHERE k.id = $4",
        bot["id"], bot["provider"], bot["region"], bot["api_key_id"], latency_ms,
    )


@mutation
async def heartbeat(
    ctx: Ctx, report_id: ReportId, at: AwareDatetime,
    exchange_latency_ms: Annotated[float, Field(ge=0, le=3_600_000)] | None = None,
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+(\.[\w.+-]+)?$")] | None = None,
    rate_limits: Annotated[list[RateLimitIn], Field(max_length=MAX_ENDPOINTS)] | None = None,
) -> HeartbeatAnswer:
    """The bot is alive (with its round trip to the exchange, if measured, its version, and
    the exchange's latest rate-limit status per endpoint): connection online (uptime counts
    from the first heartbeat after a gap); a deploying bot becomes online (or paused, if so
    desired). A bot whose version this backend does not run gets `refused` with the reason
    (and an event) and goes to error: it must exit."""
    _not_future(at, "at")
    bot = await _me(ctx)
    if refused := botversion.refusal(version):
        if bot["lifecycle"] not in ("stopped", "error"):
            await set_lifecycle(ctx.db, bot, "error", refused, error_message=refused)
        return {"report_id": report_id, "refused": refused}
    if rate_limits and bot["api_key_id"] is not None:
        await record_headroom(ctx.db, bot, at, [r.model_dump() for r in rate_limits])
    conn = await ctx.db.fetchrow(
        "SELECT status, heartbeat_report_id, heartbeat_at FROM bot_connections "
        "WHERE bot_id = $1", bot["id"],
    )
    if conn is None:
        raise NotFound("this bot has no connection record")
    if conn["heartbeat_report_id"] == report_id or (
        conn["heartbeat_at"] is not None and at <= conn["heartbeat_at"]
    ):
        return {"report_id": report_id}
    await ctx.db.execute(
        "UPDATE bot_connections SET status = 'online', last_seen_at = now(), "
        "connected_since = CASE WHEN status = 'online' THEN connected_since ELSE now() END, "
        "heartbeat_report_id = $2, heartbeat_at = $3, exchange_latency_ms = $4 "
        "WHERE bot_id = $1",
        bot["id"], report_id, at,
        round(exchange_latency_ms) if exchange_latency_ms is not None else None,
    )
    if exchange_latency_ms is not None:
        await _latency_sample(ctx, bot, round(exchange_latency_ms))
    if conn["status"] != "online":
        message = "connection restored" if conn["status"] == "stale" else "connected"
        await add_event(ctx.db, bot, "connection", message)
    if target := lifecycle.on_heartbeat(bot["lifecycle"], bot["desired_state"]):
        await set_lifecycle(ctx.db, bot, target, "first heartbeat")
    return {"report_id": report_id}
