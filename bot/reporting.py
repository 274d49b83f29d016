"""What the bot tells the backend: every report queued through the on-disk outbox and
delivered, in order, to the `bot:*` mutations (trade records come from `bot.trade`).

Report ids are deterministic, derived from what the report is about, so a report re-made
after a crash or a retry is applied once by the backend:

| kind | mutation | report_id |
| --- | --- | --- |
| trade | bot:reportTrade | ``trade:<trade seq>`` (the seq inside every orderLinkId of the trade) |
| equity | bot:reportEquity | ``equity:<candle open ms>`` |
| signal | bot:reportSignalState | ``signal:<candle open ms>`` |
| positions | bot:reportPositions | ``positions:<candle open ms>`` |
| event | bot:reportEvent | ``event:<key>``: the order intent and status for order events, else ``<run>:<n>`` |

"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from backend.client import ClientError
from bot.outbox import Outbox, Report
from bot.venue import Fill, Order

if TYPE_CHECKING:
    from bot.trade import OpenTrade

log = logging.getLogger(__name__)

MUTATIONS = {
    "trade": "bot:reportTrade",
    "positions": "bot:reportPositions",
    "equity": "bot:reportEquity",
    "signal": "bot:reportSignalState",
    "event": "bot:reportEvent",
}
PLACES = Decimal("1e-12")  # the backend stores NUMERIC(36, 12)
ZERO = Decimal(0)

Send = Callable[[str, dict[str, Any]], Awaitable[object]]


def iso(ms: int) -> str:
    """An aware ISO-8601 timestamp of Unix milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def money(value: Decimal) -> Decimal:
    """``value`` with at most 12 decimal places, trailing zeros dropped."""
    if value == value.quantize(PLACES):
        return value.normalize() if value else ZERO
    return value.quantize(PLACES).normalize()


def json_safe(value: Any) -> Any:
    """A JSON value PostgreSQL accepts: non-finite floats become null, numpy scalars plain."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes, Decimal)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Reporter:
    """Queues reports durably and delivers them in order; see the module docstring."""

    def __init__(self, outbox: Outbox, send: Send, run_tag: str) -> None:
        self.outbox = outbox
        self._send = send
        self._run_tag = run_tag
        self._events = 0
        self._wake = asyncio.Event()
        self.delivered = 0
        self.dropped = 0
        self.backend_ok = True

    # what is reported ----------------------------------------------------------------------

    def _queue(self, kind: str, report_id: str, payload: dict[str, Any]) -> str:
        self.outbox.append(kind, payload, report_id)
        self._wake.set()
        return report_id

    def trade(self, symbol: str, trade: OpenTrade) -> str:
        """A closed trade (`bot.trade.OpenTrade.report`)."""
        return self._queue("trade", f"trade:{trade.seq}", trade.report(symbol))

    def equity(self, candle_open_ms: int, at_ms: int, equity: Decimal, balance: Decimal) -> str:
        return self._queue(
            "equity",
            f"equity:{candle_open_ms}",
            {"at": iso(at_ms), "equity": money(equity), "balance": money(balance)},
        )

    def signal(self, candle_open_ms: int, state: dict[str, Any]) -> str:
        return self._queue(
            "signal",
            f"signal:{candle_open_ms}",
            {"candle_at": iso(candle_open_ms), "state": json_safe(state)},
        )

    def positions(self, candle_open_ms: int, at_ms: int, rows: list[dict[str, Any]]) -> str:
        return self._queue(
            "positions", f"positions:{candle_open_ms}", {"at": iso(at_ms), "positions": rows}
        )

    def event(
        self,
        kind: str,
        message: str,
        *,
        level: str = "info",
        data: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> str:
        """An activity-feed event; ``key`` makes its id deterministic (e.g. an order intent)."""
        if key is None:
            self._events += 1
            key = f"{self._run_tag}:{self._events}"
        payload = {
            "kind": kind[:32],
            "message": message[:2000],
            "level": level,
            "data": json_safe(data) if data else None,
            "at": datetime.now(UTC).isoformat(),
        }
        log.info("event %s: %s", kind, message)
        return self._queue("event", f"event:{key}"[:100], payload)

    def order_placed(self, link_id: str, order: Order, what: str) -> str:
        return self.event(
            "order_placed",
            f"{what}: order {link_id} {order.status}",
            data=_plain(order),
            key=f"order:{link_id}:placed",
        )

    def order_rejected(self, link_id: str, what: str, exc: Exception) -> str:
        return self.event(
            "order_rejected",
            f"{what} order {link_id} not placed: {exc}",
            level="warning",
            key=f"order:{link_id}:rejected",
        )

    def execution(self, fill: Fill) -> str:
        status = "filled" if fill.leaves_qty == 0 else "partially filled"
        return self.event(
            "order_filled",
            f"{fill.link_id or fill.order_id} {status}: "
            f"{fill.side} {fill.qty} @ {fill.price} (fee {fill.fee})",
            data=_plain(fill),
            key=f"exec:{fill.exec_id}",
        )

    def reconciliation(self, why: str, diff: Any) -> str:
        """A difference between the stream-fed model and REST, with both views."""
        return self.event(
            "reconciliation",
            f"{why}: {diff.kind} {diff.key} differed; adopted the exchange's REST view",
            level="warning",
            data={
                "kind": diff.kind,
                "key": diff.key,
                "stream": _plain(diff.stream),
                "rest": _plain(diff.rest),
            },
        )

    # delivery ------------------------------------------------------------------------------

    async def _deliver(self, report: Report) -> None:
        try:
            await self._send(
                MUTATIONS[report.kind], {**report.payload, "report_id": report.report_id}
            )
        except ClientError as exc:
            if exc.status in (400, 409, 422):
                # The backend will never accept it: keeping it would block every later report.
                log.error("report %s refused for good (%s); dropped", report.report_id, exc)
                self.dropped += 1
                return
            raise
        self.delivered += 1

    async def flush(self) -> int:
        """Deliver what is queued, in order; raises on the first delivery that fails."""
        return await self.outbox.flush(self._deliver)

    async def run(self, stop: asyncio.Event, retry_s: float = 0.5) -> None:
        """Deliver reports as they are queued; while the backend is unreachable, keep them on
        disk and try again every ``retry_s`` seconds."""
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.flush()
                self.backend_ok = True
            except (httpx.HTTPError, ClientError, OSError) as exc:
                if self.backend_ok:
                    log.warning("reports held on disk (%d queued): %s", len(self.outbox), exc)
                self.backend_ok = False
                await _wait(stop, retry_s)
                continue
            await _wait_any(stop, self._wake)

    async def drain(self, timeout_s: float) -> bool:
        """Try to deliver everything within ``timeout_s``; True when the outbox is empty."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(self.outbox):
            try:
                await asyncio.wait_for(self.flush(), max(0.1, deadline - _now()))
            except (httpx.HTTPError, ClientError, OSError, TimeoutError):
                if _now() >= deadline:
                    return False
                await asyncio.sleep(0.2)
        return True


def _plain(value: Any) -> Any:
    """A dataclass (a position, an order, a fill) as a dict of strings, for an event's data."""
    if value is None or isinstance(value, (dict, list, str, int, float)):
        return value
    if hasattr(value, "__dataclass_fields__"):
        return {k: _text(getattr(value, k)) for k in value.__dataclass_fields__}
    return str(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _now() -> float:
    return asyncio.get_running_loop().time()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
