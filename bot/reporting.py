"""What the bot tells the backend: trade records built from executions, and every report
queued through the on-disk outbox and delivered, in order, to the `bot:*` mutations.

Report ids are deterministic, derived from what the report is about, so a report re-made
after a crash or a retry is applied once by the backend:

| kind | mutation | report_id |
| --- | --- | --- |
| trade | bot:reportTrade | ``trade:<trade seq>`` (the seq inside every orderLinkId of the trade) |
| equity | bot:reportEquity | ``equity:<candle open ms>`` |
| signal | bot:reportSignalState | ``signal:<candle open ms>`` |
| positions | bot:reportPositions | ``positions:<candle open ms>`` |
| event | bot:reportEvent | ``event:<key>``: the order intent and status for order events, else ``<run>:<n>`` |

A trade (`OpenTrade`) is accounted from the exchange's executions only: quantity, volume-
weighted entry and exit prices, fees (the sum of ``execFee``) and PnL net of fees; MFE/MAE
are the most favourable/adverse excursions in quote currency, from the highs and lows of the
candles while the position was open (both reported as non-negative amounts).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from backend.client import ClientError
from bot.outbox import Outbox, Report

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


@dataclass
class OpenTrade:
    """One trade from its first entry execution to the execution that makes it flat."""

    seq: int
    side: str  # "long" | "short"
    entry_candle_ms: int  # open time of the candle in which the position was opened
    signal_state: dict[str, Any] = field(default_factory=dict)
    entry_qty: Decimal = ZERO
    entry_value: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_value: Decimal = ZERO
    fees: Decimal = ZERO
    entry_ms: int = 0
    exit_ms: int = 0
    high: Decimal | None = None
    low: Decimal | None = None
    exit_reason: str = ""
    exit_attempts: int = 0
    exec_ids: list[str] = field(default_factory=list)

    @property
    def open_qty(self) -> Decimal:
        return self.entry_qty - self.exit_qty

    @property
    def entry_side(self) -> str:
        return "Buy" if self.side == "long" else "Sell"

    @property
    def entry_price(self) -> Decimal:
        return money(self.entry_value / self.entry_qty) if self.entry_qty else ZERO

    @property
    def exit_price(self) -> Decimal:
        return money(self.exit_value / self.exit_qty) if self.exit_qty else ZERO

    @property
    def closed(self) -> bool:
        return self.entry_qty > 0 and self.open_qty <= 0

    def add_execution(self, row: dict[str, Any]) -> None:
        """Account one execution (entry when on the trade's side, else exit)."""
        if row["execId"] in self.exec_ids:
            return
        self.exec_ids.append(row["execId"])
        qty, price = Decimal(row["execQty"]), Decimal(row["execPrice"])
        self.fees += Decimal(row.get("execFee") or 0)
        when = int(row.get("execTime") or 0)
        if row["side"] == self.entry_side:
            self.entry_qty += qty
            self.entry_value += qty * price
            self.entry_ms = self.entry_ms or when
            self.observe(price, price)
        else:
            self.exit_qty += qty
            self.exit_value += qty * price
            self.exit_ms = max(self.exit_ms, when)

    def add_funding(self, row: dict[str, Any]) -> None:
        """Account one funding payment (execType "Funding"): execFee > 0 was paid, < 0
        received; it counts in the trade's fees, hence in its PnL."""
        if row["execId"] in self.exec_ids:
            return
        self.exec_ids.append(row["execId"])
        self.fees += Decimal(row.get("execFee") or 0)

    def observe(self, high: Decimal, low: Decimal) -> None:
        """Extend the price range seen while the position is open."""
        self.high = high if self.high is None else max(self.high, high)
        self.low = low if self.low is None else min(self.low, low)

    @property
    def best_price(self) -> Decimal | None:
        """The most favourable price since entry (the high of a long, the low of a short)."""
        return self.high if self.side == "long" else self.low

    @property
    def pnl(self) -> Decimal:
        """Realised PnL of the closed quantity, net of every fee of the trade."""
        if not self.entry_qty:
            return -self.fees
        entry_of_closed = self.entry_value * self.exit_qty / self.entry_qty
        gross = self.exit_value - entry_of_closed
        return money((gross if self.side == "long" else -gross) - self.fees)

    def excursions(self) -> tuple[Decimal, Decimal]:
        """(MFE, MAE) in quote currency over the entry quantity, both >= 0."""
        if self.high is None or self.low is None or not self.entry_qty:
            return ZERO, ZERO
        entry = self.entry_value / self.entry_qty
        up, down = (self.high - entry) * self.entry_qty, (entry - self.low) * self.entry_qty
        mfe, mae = (up, down) if self.side == "long" else (down, up)
        mfe, mae = max(ZERO, mfe), max(ZERO, mae)
        return money(mfe), money(mae)

    def report(self, symbol: str) -> dict[str, Any]:
        """The arguments of bot:reportTrade (without report_id)."""
        mfe, mae = self.excursions()
        return {
            "symbol": symbol,
            "side": self.side,
            "quantity": money(self.entry_qty),
            "entry_price": self.entry_price,
            "exit_price": self.exit_price,
            "entry_at": iso(self.entry_ms),
            "exit_at": iso(max(self.exit_ms, self.entry_ms)),
            "fees": money(self.fees),
            "pnl": self.pnl,
            "exit_reason": self.exit_reason[:64],
            "signal_state": json_safe(self.signal_state),
            "mfe": mfe,
            "mae": mae,
        }

    # the open trade survives a crash of the bot in its working directory -------------------

    def save(self, path: Path) -> None:
        data = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(json_safe(data)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> OpenTrade | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        decimals = ("entry_qty", "entry_value", "exit_qty", "exit_value", "fees", "high", "low")
        for name in decimals:
            if data.get(name) is not None:
                data[name] = Decimal(data[name])
        return cls(**data)


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

    def order_placed(self, link_id: str, view: dict[str, Any], what: str) -> str:
        fields = ("orderId", "orderLinkId", "side", "qty", "orderStatus", "avgPrice", "cumExecQty")
        return self.event(
            "order_placed",
            f"{what}: order {link_id} {view.get('orderStatus', 'New')}",
            data={k: view.get(k) for k in fields},
            key=f"order:{link_id}:placed",
        )

    def order_rejected(self, link_id: str, what: str, exc: Exception) -> str:
        return self.event(
            "order_rejected",
            f"{what} order {link_id} not placed: {exc}",
            level="warning",
            key=f"order:{link_id}:rejected",
        )

    def execution(self, row: dict[str, Any]) -> str:
        fields = (
            "orderId",
            "orderLinkId",
            "execId",
            "side",
            "execQty",
            "execPrice",
            "execFee",
            "execTime",
        )
        status = "filled" if Decimal(row.get("leavesQty") or 0) == 0 else "partially filled"
        return self.event(
            "order_filled",
            f"{row.get('orderLinkId') or row['orderId']} {status}: "
            f"{row['side']} {row['execQty']} @ {row['execPrice']} (fee {row['execFee']})",
            data={k: row.get(k) for k in fields},
            key=f"exec:{row['execId']}",
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
    """A dataclass (e.g. a Position) as a dict of strings, for an event's data."""
    if value is None or isinstance(value, (dict, list, str, int, float)):
        return value
    if hasattr(value, "__dataclass_fields__"):
        return {k: str(getattr(value, k)) for k in value.__dataclass_fields__}
    return str(value)


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
