"""`plutarc backtest`: run a template over a candle CSV and print the KPIs.

Bad input never prints a traceback: an unreadable or invalid template or candle file is
one clear message (the template's errors as a table naming component and field; the CSV's
first problem with its line and column) and exit code 2.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from strategy.backtest import BacktestConfig, BacktestResult, run_backtest
from strategy.candles_csv import CandleFileError, read_candles
from strategy.template import Template, TemplateError, validate_template


def _decimal(name: str, text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not a decimal number", param_hint=name) from None


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.4f}"
    return str(value)


def load_template(path: Path, console: Console) -> tuple[dict, Template]:
    """The template file as JSON and validated; prints what is wrong and exits 2 otherwise."""

    def fail(message: str) -> None:
        console.print(f"{path}: {message}", markup=False, style="red", soft_wrap=True)

    try:
        raw = json.loads(path.read_text())
        return raw, validate_template(raw)
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot be read ({exc})")
    except json.JSONDecodeError as exc:
        fail(f"not JSON: {exc}")
    except RecursionError:
        fail("JSON nested too deeply")
    except TemplateError as exc:
        errors = Table(title=f"{path}: invalid template", style="red")
        for col in ("path", "component", "field", "message"):
            errors.add_column(col)
        for e in exc.errors:
            errors.add_row(e["path"], e["component"] or "", e["field"] or "", e["message"])
        console.print(errors)
    raise typer.Exit(2)


def backtest_config(
    equity: str, taker_fee: str, slippage_bps: str, spread_bps: float, qty_step: str | None
) -> BacktestConfig:
    """The backtest options of the command line as a config (bad numbers: a usage error)."""
    return BacktestConfig(
        initial_equity=_decimal("--equity", equity),
        taker_fee=_decimal("--taker-fee", taker_fee),
        slippage_bps=_decimal("--slippage-bps", slippage_bps),
        spread_bps=spread_bps,
        qty_step=None if qty_step is None else _decimal("--qty-step", qty_step),
    )


# The options every command that backtests takes (``plutarc backtest`` and ``optimize``).
TemplateArg = Annotated[
    Path, typer.Argument(help="Strategy template JSON file.", exists=True, dir_okay=False)
]
CandlesOpt = Annotated[
    Path,
    typer.Option(
        "--candles",
        help="Candle CSV: open_time_ms,open,high,low,close,volume.",
        exists=True,
        dir_okay=False,
    ),
]
EquityOpt = Annotated[str, typer.Option(help="Initial equity in quote currency.")]
TakerFeeOpt = Annotated[str, typer.Option(help="Taker fee, fraction of notional.")]
SlippageOpt = Annotated[str, typer.Option(help="Slippage on market/stop fills, bps.")]
SpreadOpt = Annotated[float, typer.Option(help="Spread assumed by the spread filter, bps.")]
QtyStepOpt = Annotated[str | None, typer.Option(help="Lot size quantities round down to.")]


def _summary(result: BacktestResult) -> Table:
    k = result.kpis
    table = Table(
        title=f"{result.template_name}: {result.candles:,} candles, {k.trade_count:,} trades"
    )
    table.add_column("KPI")
    table.add_column("value", justify="right")
    hours = None if k.avg_hold_ms is None else k.avg_hold_ms / 3_600_000
    rows = [
        ("net PnL", _fmt(k.net_pnl)),
        ("return %", _fmt(k.return_pct)),
        ("win rate %", _fmt(None if k.win_rate is None else k.win_rate * 100)),
        ("profit factor", _fmt(k.profit_factor)),
        ("expectancy / trade", _fmt(k.expectancy)),
        ("Sharpe (daily, annualised)", _fmt(k.sharpe)),
        ("Sortino (daily, annualised)", _fmt(k.sortino)),
        ("max drawdown", f"{_fmt(k.max_drawdown)} ({k.max_drawdown_pct:.2f}%)"),
        ("average hold (h)", _fmt(hours)),
        ("fees", _fmt(k.fees)),
        ("exposure %", _fmt(k.exposure * 100)),
    ]
    reasons = Counter(t.exit_reason for t in result.trades)
    rows += [(f"exits: {reason}", f"{count:,}") for reason, count in reasons.most_common()]
    for name, value in rows:
        table.add_row(name, value)
    return table


def backtest(
    template: TemplateArg,
    candles: CandlesOpt,
    equity: EquityOpt = "10000",
    taker_fee: TakerFeeOpt = "0.00055",
    slippage_bps: SlippageOpt = "0",
    spread_bps: SpreadOpt = 0.0,
    qty_step: QtyStepOpt = None,
    json_out: Annotated[
        Path | None, typer.Option(help="Write trades, equity and KPIs here.")
    ] = None,
) -> None:
    """Backtest a strategy template over historical candles.

    Same decision rules as the live bot: signals on closed candles, fills at the next open.

    Stops and targets are checked inside candles; when both fit in one candle, the stop wins.

    Every fill is a market order (stops and targets are exchange-side market orders):
    taker fee and slippage on each.
    """
    console = Console()
    _, tpl = load_template(template, console)
    config = backtest_config(equity, taker_fee, slippage_bps, spread_bps, qty_step)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"reading {candles.name}", total=1.0)
        try:
            data = read_candles(candles, interval_ms=tpl.timeframe_ms)
        except CandleFileError as exc:
            progress.stop()
            console.print(str(exc), markup=False, style="red", soft_wrap=True)
            raise typer.Exit(2) from None
        progress.update(task, description=f"backtesting {len(data.close):,} candles", completed=0.0)
        result = run_backtest(
            tpl, data, config, progress=lambda done: progress.update(task, completed=done)
        )
    console.print(_summary(result))
    if json_out is not None:
        json_out.write_text(json.dumps(result.to_json(), indent=1))
        console.print(f"wrote {json_out}")
