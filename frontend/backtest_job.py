"""Backtests run from the dashboard: the candles (an uploaded CSV, bounded in size, or the
exchange's history from `market:history`) and one job per browser tab that runs
`strategy.backtest.run_backtest` in a process of its own, reports its progress and can be
cancelled.

Why a process: the backtest holds the GIL for most of its run (measured by
bench/dashboard_backtest.py: in a thread, the dashboard's event loop stalled for the whole
backtest, p99 620 ms on 200,000 candles), and that loop serves every tab's live data. A
child process leaves the loop free and can be ended at once. It is started from a fork
server that has already imported the engine (never a fork of the threaded web server), and
the numba kernels come from their on-disk cache, so a job starts in a fraction of a second.
The child sends its progress (every 1 % of the candles) and its result through a pipe; the
tab's background event polls it. Cancel terminates the child. The API's event loop is
never involved (it only serves `market:history`). The numbers are those of
`plutarc backtest`: same CSV reader, same validation, same `BacktestConfig` defaults.

Invariant: `_jobs` holds at most one job per tab; starting a job cancels the tab's previous
one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import tempfile
import threading
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from strategy.backtest import BacktestConfig, run_backtest
from strategy.candles_csv import HEADER, read_candles
from strategy.indicators import Candles
from strategy.template import TemplateError, validate_template
from strategy.template.model import Template

MAX_CSV_BYTES = 8 * 1024 * 1024  # ~150k candles: a few seconds of backtest
MAX_CANDLES = 200_000


class BacktestError(Exception):
    """A readable reason a backtest cannot run."""


class Cancelled(Exception):
    """Raised by `Job.run` when the trader cancelled it."""


def csv_candles(data: bytes, name: str = "upload") -> Candles:
    """Candles from an uploaded CSV (`open_time_ms,open,high,low,close,volume`), read by the
    CLI's own reader; BacktestError past the size bound or on a malformed file."""
    if len(data) > MAX_CSV_BYTES:
        raise BacktestError(f"{name} is {len(data) / 1e6:.1f} MB; the limit is "
                            f"{MAX_CSV_BYTES / 1e6:.0f} MB (about 150,000 candles): cut it "
                            "or run `plutarc backtest` locally")
    with tempfile.NamedTemporaryFile(suffix=".csv") as f:
        f.write(data)
        f.flush()
        try:
            candles = read_candles(Path(f.name))
        except (ValueError, UnicodeDecodeError) as exc:
            message = str(exc).replace(f.name, name)
            if "header" in message:
                message = f"{name}: the first line must be {HEADER!r}"
            raise BacktestError(message) from None
    if len(candles.close) < 2:
        raise BacktestError(f"{name} holds {len(candles.close)} candle(s); a backtest needs more")
    if len(candles.close) > MAX_CANDLES:
        raise BacktestError(f"{name} holds {len(candles.close):,} candles; the limit is "
                            f"{MAX_CANDLES:,}")
    return candles


def history_candles(rows: list[dict[str, Any]]) -> Candles:
    """Candles from `market:history` rows (times in seconds, prices as decimals)."""
    cols = [[int(r["time"]) * 1000 for r in rows]]
    cols += [[float(r[k]) for r in rows] for k in ("open", "high", "low", "close", "volume")]
    return Candles.of(*cols)


def template_of(data: dict[str, Any]) -> Template:
    """The engine's Template, or BacktestError listing what is wrong."""
    try:
        return validate_template(data)
    except TemplateError as exc:
        raise BacktestError("; ".join(e["message"] for e in exc.errors)) from None


_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["strategy.backtest", "strategy.template"])
POLL_S = 0.05


def _child(conn: Connection, template: dict[str, Any], columns: tuple[Any, ...],
           config: BacktestConfig) -> None:
    """The job's process: ("progress", done) messages, then ("result", json) or ("error",
    message)."""
    try:
        result = run_backtest(validate_template(template), Candles.of(*columns), config,
                              lambda done: conn.send(("progress", done)))
        conn.send(("result", result.to_json()))
    except Exception as exc:  # the parent shows it; a traceback would help no trader
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class Job:
    """One running backtest: `progress` (0..1) follows the child's reports; `cancel()` makes
    `run` end the child and raise Cancelled."""

    def __init__(self) -> None:
        self.progress = 0.0
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    async def run(self, template: dict[str, Any], candles: Candles,
                  config: BacktestConfig | None = None) -> dict[str, Any]:
        """The result as `BacktestResult.to_json()` (`plutarc backtest`'s defaults unless
        `config`); raises Cancelled or BacktestError."""
        template_of(template)  # a readable refusal before any process starts
        receive, send = _CONTEXT.Pipe(duplex=False)
        child = _CONTEXT.Process(target=_child, daemon=True,
                                 args=(send, template, tuple(candles), config or BacktestConfig()))
        child.start()
        send.close()
        try:
            return await self._follow(child, receive)
        finally:
            if child.is_alive():
                child.terminate()
            await asyncio.to_thread(child.join, 10)
            receive.close()

    async def _follow(self, child: Any, receive: Connection) -> dict[str, Any]:
        while True:
            if self._cancel.is_set():
                raise Cancelled
            if receive.poll():
                try:
                    kind, value = await asyncio.to_thread(receive.recv)
                except EOFError:
                    raise BacktestError(f"the backtest process ended without a result "
                                        f"(exit code {child.exitcode})") from None
                if kind == "progress":
                    self.progress = value
                elif kind == "result":
                    self.progress = 1.0
                    return value
                else:
                    raise BacktestError(f"the backtest failed: {value}")
            else:
                await asyncio.sleep(POLL_S)


_jobs: dict[str, Job] = {}


def start(tab: str) -> Job:
    """A new job for `tab`, cancelling the tab's previous one."""
    previous = _jobs.pop(tab, None)
    if previous is not None:
        previous.cancel()
    _jobs[tab] = job = Job()
    return job


def cancel(tab: str) -> bool:
    """Cancel the tab's running job; False when it has none."""
    job = _jobs.pop(tab, None)
    if job is None:
        return False
    job.cancel()
    return True


def finish(tab: str, job: Job) -> None:
    if _jobs.get(tab) is job:
        del _jobs[tab]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def view(result: dict[str, Any], symbol: str) -> dict[str, Any]:
    """A backtest's result in the shapes the bot page's components take: KPIs as
    `bots:kpis`, trades as `bots:trades` items, equity as `bots:equity` points."""
    kpis = {**result["kpis"], "fees_paid": result["kpis"]["fees"]}
    trades = [{
        "id": i, "symbol": symbol, "side": t["side"], "quantity": t["quantity"],
        "entry_at": _iso(t["entry_time_ms"]), "exit_at": _iso(t["exit_time_ms"]),
        "entry_price": t["entry_price"], "exit_price": t["exit_price"], "fees": t["fees"],
        "pnl": t["pnl"], "hold_seconds": t["hold_ms"] // 1000, "exit_reason": t["exit_reason"],
        "mfe": t["mfe"], "mae": t["mae"], "signal_state": t["signal_state"],
    } for i, t in enumerate(result["trades"], 1)]
    equity = [{"at": _iso(ms), "equity": value} for ms, value in result["equity"]]
    return {"kpis": kpis, "trades": trades, "equity": equity}
