"""`plutarc optimize`: grid or random search over template parameters, optionally walk-forward."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from strategy.candles_csv import CandleFileError, read_candles
from strategy.cli import (
    CandlesOpt,
    EquityOpt,
    QtyStepOpt,
    SlippageOpt,
    SpreadOpt,
    TakerFeeOpt,
    TemplateArg,
    backtest_config,
    load_template,
)
from strategy.kpis import Kpis
from strategy.optimize.params import SpecError, grid, parse_specs, sample
from strategy.optimize.search import RANK_KPIS, SearchResult, kpi_value, search
from strategy.optimize.walkforward import COLLAPSE_EFFICIENCY, WalkForward, folds, walk_forward

SHOWN_KPIS = {
    "net_pnl": "net PnL",
    "return_pct": "return %",
    "sharpe": "Sharpe",
    "profit_factor": "PF",
    "win_rate": "win %",
    "max_drawdown_pct": "max DD %",
}


def _short_names(specs: list) -> list[str]:
    """The last path segment of each spec (``fast``), the whole path where that is ambiguous."""
    last = [s.name.rsplit(".", 1)[-1] for s in specs]
    return [n if last.count(n) == 1 else s.name for n, s in zip(last, specs, strict=True)]


def _cell(kpis: Kpis | None, kpi: str) -> str:
    value = kpi_value(kpis, kpi)
    if value is None:
        return "-"
    return f"{value * 100:.1f}" if kpi == "win_rate" else f"{value:,.2f}"


def _results_table(result: SearchResult, top: int) -> Table:
    table = Table(
        title=f"best {min(top, len(result.ranked))} of {result.trials:,} trials by {result.kpi}"
    )
    for name in _short_names(result.specs):
        table.add_column(name, justify="right")
    for label in SHOWN_KPIS.values():
        table.add_column(label, justify="right")
    table.add_column("trades", justify="right")
    for trial in result.ranked[:top]:
        cells = [_cell(trial.kpis, k) for k in SHOWN_KPIS]
        trades = "-" if trial.kpis is None else f"{trial.kpis.trade_count:,}"
        table.add_row(*(str(v) for v in trial.values), *cells, trades)
    return table


def _walk_forward_table(wf: WalkForward) -> Table:
    table = Table(
        title=f"walk-forward: {len(wf.results)} folds, {wf.trials:,} trials in all, "
        f"ranked by {wf.kpi}"
    )
    table.add_column("train")
    table.add_column("test")
    for name in _short_names(wf.specs):
        table.add_column(name, justify="right")
    for side in ("IS", "OOS"):
        table.add_column(f"{side} {wf.kpi}", justify="right")
        table.add_column(f"{side} trades", justify="right")
    for r in wf.results:
        values = ["-"] * len(wf.specs) if r.values is None else [str(v) for v in r.values]
        cells = []
        for kpis in (r.in_sample, r.out_of_sample):
            cells += [_cell(kpis, wf.kpi), "-" if kpis is None else str(kpis.trade_count)]
        table.add_row(
            f"{r.fold.train[0]:,}–{r.fold.train[1]:,}",
            f"{r.fold.test[0]:,}–{r.fold.test[1]:,}",
            *values,
            *cells,
        )
    return table


def optimize(
    template: TemplateArg,
    candles: CandlesOpt,
    param: Annotated[
        list[str],
        typer.Option(
            help="PATH=START:STOP:STEP or PATH=a,b,c, e.g. signals.0.fast=5:50:5 "
            "(repeat for each parameter)."
        ),
    ],
    kpi: Annotated[str, typer.Option(help=f"KPI to rank by: {', '.join(RANK_KPIS)}.")] = "net_pnl",
    random: Annotated[
        int | None, typer.Option(help="Try N points drawn at random from the grid.", min=1)
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of --random.")] = 0,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: every core).", min=1)
    ] = None,
    top: Annotated[int, typer.Option(help="Rows of the results table.", min=1)] = 10,
    train: Annotated[
        int | None, typer.Option(help="Walk-forward: candles per training window.", min=1)
    ] = None,
    test: Annotated[
        int | None, typer.Option(help="Walk-forward: candles per test window.", min=1)
    ] = None,
    step: Annotated[
        int | None, typer.Option(help="Walk-forward: candles between folds (default --test).")
    ] = None,
    anchored: Annotated[
        bool, typer.Option(help="Walk-forward: every training window starts at candle 0.")
    ] = False,
    equity: EquityOpt = "10000",
    taker_fee: TakerFeeOpt = "0.00055",
    slippage_bps: SlippageOpt = "0",
    spread_bps: SpreadOpt = 0.0,
    qty_step: QtyStepOpt = None,
    json_out: Annotated[Path | None, typer.Option(help="Write every result here.")] = None,
) -> None:
    """Search template parameters over historical candles, ranked by a KPI.

    Every point is a full backtest (the same as `plutarc backtest`), run on every core. With
    --train and --test, walk-forward validation: optimise on each training window, test the
    winner on the next window, and compare in-sample with out-of-sample results.
    """
    console = Console()
    raw, tpl = load_template(template, console)
    if kpi not in RANK_KPIS:
        raise typer.BadParameter(f"choose one of {', '.join(RANK_KPIS)}", param_hint="--kpi")
    if (train is None) != (test is None):
        raise typer.BadParameter("walk-forward needs both --train and --test", param_hint="--train")
    try:
        specs = parse_specs(raw, param)
    except SpecError as exc:
        console.print(f"[red]--param {exc}")
        raise typer.Exit(2) from None
    points = sample(specs, random, seed) if random else list(grid(specs))
    config = backtest_config(equity, taker_fee, slippage_bps, spread_bps, qty_step)
    try:
        data = read_candles(candles, interval_ms=tpl.timeframe_ms)
    except CandleFileError as exc:
        console.print(str(exc), markup=False, style="red", soft_wrap=True)
        raise typer.Exit(2) from None
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    if train is None or test is None:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(
                f"{len(points):,} backtests of {len(data.close):,} candles", total=len(points)
            )
            result = search(
                raw,
                specs,
                points,
                data,
                config,
                kpi=kpi,
                workers=workers,
                progress=lambda done, _: bar.update(task, completed=done),
            )
        console.print(_results_table(result, top))
        console.print(
            f"{result.trials:,} trials: the more points tried, the likelier the best "
            "is luck; check it with walk-forward (--train/--test)"
        )
        skipped = sum(1 for t in result.ranked if t.skipped)
        if skipped:
            console.print(f"{skipped:,} points skipped: the template validator refused them")
        output = result.to_json()
    else:
        try:
            windows = folds(len(data.close), train, test, step, anchored)
        except ValueError as exc:
            console.print(f"[red]walk-forward: {exc}")
            raise typer.Exit(2) from None
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("walk-forward", total=len(points) * len(windows))

            def moved(fold: int, n: int, done: int, total: int) -> None:
                bar.update(
                    task,
                    completed=fold * total + done,
                    description=f"fold {fold + 1}/{n}: {total:,} backtests",
                )

            wf = walk_forward(
                raw, specs, points, data, windows, config, kpi=kpi, workers=workers, progress=moved
            )
        console.print(_walk_forward_table(wf))
        efficiency = wf.efficiency
        console.print(
            "walk-forward efficiency (OOS / IS return per candle): "
            + ("-" if efficiency is None else f"{efficiency:.2f}")
        )
        if wf.collapsed:
            console.print(
                f"[bold yellow]warning: the out-of-sample result collapses "
                f"(efficiency below {COLLAPSE_EFFICIENCY} or no out-of-sample "
                f"profit): the in-sample winner is likely overfit"
            )
        output = wf.to_json()
    if json_out is not None:
        json_out.write_text(json.dumps(output, indent=1, default=str))
        console.print(f"wrote {json_out}")
