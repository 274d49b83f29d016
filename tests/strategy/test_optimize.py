"""Parameter search and walk-forward: every point equals a plain backtest of its template,
specs are refused with a clear message, and no fold tests on candles it trained on."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from strategy.backtest import run_backtest
from strategy.backtest.synthetic import random_walk
from strategy.candles_csv import write_candles
from strategy.indicators import Candles
from strategy.kpis import Kpis
from strategy.optimize import SpecError, folds, grid, parse_specs, sample, search, walk_forward
from strategy.optimize.cli import optimize
from strategy.optimize.params import with_values
from strategy.optimize.walkforward import Fold, FoldResult, WalkForward
from strategy.template import validate_template

EXAMPLE = json.loads(
    (Path(__file__).parents[2] / "examples" / "templates" / "ma_cross.json").read_text()
)
CANDLES = random_walk(4000, seed=5, trend=0.3)


def test_every_point_equals_a_plain_backtest_of_its_template_on_two_processes() -> None:
    specs = parse_specs(EXAMPLE, ["signals.0.fast=3:7:2", "signals.0.slow=15:25:10",
                                  "exits.0.pct=0.5,1.5"])
    points = list(grid(specs))
    assert len(points) == 12 and points[:2] == [(3, 15, 0.5), (3, 15, 1.5)]
    result = search(EXAMPLE, specs, points, CANDLES, kpi="sharpe", workers=2)
    assert result.trials == 12 and len(result.ranked) == 12
    for trial in result.ranked:
        alone = run_backtest(validate_template(with_values(EXAMPLE, specs, trial.values)), CANDLES)
        assert trial.kpis == alone.kpis, trial.values  # Decimal money: equal to the last unit
    scores = [t.score("sharpe") for t in result.ranked]
    assert scores == sorted(scores, reverse=True)
    assert result.best_template(EXAMPLE)["signals"][0]["params"]["fast"] == result.best.values[0]


def test_points_the_validator_refuses_are_skipped_with_the_reason() -> None:
    specs = parse_specs(EXAMPLE, ["signals.0.fast=10:30:10"])  # slow is 20: fast 20, 30 refused
    result = search(EXAMPLE, specs, list(grid(specs)), CANDLES, workers=1)
    skipped = [t for t in result.ranked if t.skipped]
    assert [t.values for t in skipped] == [(20,), (30,)]
    assert all("fast" in t.skipped for t in skipped) and result.ranked[0].values == (10,)


def test_lower_drawdown_ranks_first() -> None:
    specs = parse_specs(EXAMPLE, ["signals.0.fast=3:9:3"])
    result = search(EXAMPLE, specs, list(grid(specs)), CANDLES, kpi="max_drawdown", workers=1)
    drawdowns = [t.kpis.max_drawdown for t in result.ranked]
    assert drawdowns == sorted(drawdowns)


def test_random_search_draws_distinct_points_of_the_grid_reproducibly() -> None:
    specs = parse_specs(EXAMPLE, ["signals.0.fast=2:10:1", "signals.0.slow=20:60:5"])
    drawn = sample(specs, 15, seed=3)
    assert len(set(drawn)) == 15 and set(drawn) <= set(grid(specs))
    assert drawn == sample(specs, 15, seed=3) != sample(specs, 15, seed=4)
    assert len(sample(specs, 10_000, seed=1)) == 81  # never more than the grid


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("signals.0.fast", "expected PATH=START:STOP:STEP or PATH=a,b,c"),
        ("signals.0.fast=5:50", "a range is START:STOP:STEP"),
        ("signals.0.fast=5:x:5", "'x' is not a number"),
        ("signals.0.fast=5:50:0", "STEP must be > 0"),
        ("signals.0.fast=50:5:5", "START 50 is above STOP 5"),
        ("signals.3.fast=1,2", "the template has 1 signals, no index 3"),
        ("signals.0.speed=1,2", "has no parameter 'speed'; its parameters: fast, ma, mode, slow"),
        ("signals.fast=1,2", "a component value is signals.INDEX.PARAM"),
        ("risk.nothing=1,2", "'risk.nothing' is not a value of the template"),
        ("risk.sizing=1,2", "'risk.sizing' is a section, not a value"),
        ("signals.0.fast=0:4:2", "value 0: signals[0].params.fast: must be >= 2, got 0"),
        ("signals.0.ma=ema,hma", "value 'hma': signals[0].params.ma: must be one of"),
        ("signals.0.fast=3,3", "a value is listed twice"),
        ("signals.0.fast=1:100000:1", "at most 10,000 per parameter"),
    ],
)
def test_a_bad_spec_is_refused_naming_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(SpecError) as raised:
        parse_specs(EXAMPLE, [spec])
    assert message in str(raised.value) and str(raised.value).startswith(spec)


def test_a_parameter_searched_twice_and_a_huge_grid_are_refused() -> None:
    with pytest.raises(SpecError, match="searched twice"):
        parse_specs(EXAMPLE, ["signals.0.fast=2,3", "signals.0.fast=4,5"])
    with pytest.raises(SpecError, match="at most 1,000,000"):
        parse_specs(EXAMPLE, ["signals.0.fast=2:1001:1", "signals.0.slow=1002:3001:1"])
    with pytest.raises(SpecError, match="no --param"):
        parse_specs(EXAMPLE, [])


def test_decimal_steps_land_on_the_stop() -> None:
    (spec,) = parse_specs(EXAMPLE, ["exits.0.pct=0.1:0.5:0.1"])
    assert spec.values == (0.1, 0.2, 0.3, 0.4, 0.5)


@given(st.integers(1, 3000), st.integers(1, 500), st.integers(1, 500), st.integers(0, 300),
       st.booleans())
def test_walk_forward_windows_never_test_on_training_candles(
    n: int, train: int, test: int, extra: int, anchored: bool
) -> None:
    try:
        windows = folds(n, train, test, test + extra, anchored)
    except ValueError as exc:
        assert n < train + test and "hold no fold" in str(exc)
        return
    for fold in windows:
        assert fold.train[1] <= fold.test[0] and fold.test[1] <= n
        assert fold.test[1] - fold.test[0] == test
    for a, b in itertools.pairwise(windows):
        assert a.test[1] <= b.test[0]  # every out-of-sample candle counted once


def test_overlapping_test_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="test windows would overlap"):
        folds(1000, 200, 100, step=50)


def test_walk_forward_tests_each_winner_on_its_test_window_only() -> None:
    specs = parse_specs(EXAMPLE, ["signals.0.fast=3:7:2"])
    points = list(grid(specs))
    windows = folds(len(CANDLES.close), 1500, 1000)
    wf = walk_forward(EXAMPLE, specs, points, CANDLES, windows, workers=2)
    assert len(wf.results) == 2 and wf.trials == 2 * len(points)
    for r in wf.results:
        train = Candles(*(c[r.fold.train[0] : r.fold.train[1]] for c in CANDLES))
        test = Candles(*(c[r.fold.test[0] : r.fold.test[1]] for c in CANDLES))
        tpl = validate_template(with_values(EXAMPLE, specs, r.values))
        assert r.in_sample == run_backtest(tpl, train).kpis
        assert r.out_of_sample == run_backtest(tpl, test).kpis
        best_by_search = search(EXAMPLE, specs, points, train, workers=1).best.values
        assert r.values == best_by_search


def test_walk_forward_top_tests_each_folds_best_points_out_of_sample() -> None:
    specs = parse_specs(EXAMPLE, ["signals.0.fast=3:9:2"])
    points = list(grid(specs))
    windows = folds(len(CANDLES.close), 2500, 1500)
    [r] = walk_forward(EXAMPLE, specs, points, CANDLES, windows, workers=1, top=3).results
    train = Candles(*(c[:2500] for c in CANDLES))
    test = Candles(*(c[2500:4000] for c in CANDLES))
    ranked = search(EXAMPLE, specs, points, train, workers=1).ranked[:3]
    assert [leader.values for leader in r.leaders] == [t.values for t in ranked]
    assert (r.values, r.in_sample, r.out_of_sample) == (
        r.leaders[0].values, r.leaders[0].in_sample, r.leaders[0].out_of_sample)
    for leader, trial in zip(r.leaders, ranked, strict=True):
        tpl = validate_template(with_values(EXAMPLE, specs, leader.values))
        assert leader.in_sample == trial.kpis
        assert leader.out_of_sample == run_backtest(tpl, test).kpis


def _kpis(return_pct: str) -> Kpis:
    value = Decimal(return_pct)
    return Kpis(value * 100, value, None, None, None, None, None, Decimal(0), 0.0, None,
                Decimal(0), 1, 0.0)


@pytest.mark.parametrize(
    ("in_sample", "out_of_sample", "collapsed"),
    [("10", "4", False), ("10", "1.5", False), ("10", "1", True), ("10", "-1", True),
     ("-5", "-5", False)],
)
def test_the_collapse_rule(in_sample: str, out_of_sample: str, collapsed: bool) -> None:
    # train windows are 4x the test windows: per candle, OOS 4 % over IS 10 % is efficiency
    # 1.6, 1.5 % is 0.6, 1 % is 0.4 (below 0.5: collapsed)
    fold = Fold((0, 400), (400, 500))
    wf = WalkForward([], "net_pnl", [FoldResult(fold, (), _kpis(in_sample),
                                                 _kpis(out_of_sample), 1)])
    assert wf.collapsed is collapsed


def app() -> typer.Typer:
    a = typer.Typer()
    a.command()(optimize)
    return a


def test_optimize_command_prints_the_ranked_table_and_writes_json(tmp_path: Path) -> None:
    csv, out, tpl = tmp_path / "c.csv", tmp_path / "r.json", tmp_path / "t.json"
    write_candles(csv, CANDLES)
    tpl.write_text(json.dumps(EXAMPLE))
    args = [str(tpl), "--candles", str(csv), "--param", "signals.0.fast=3:5:1",
            "--workers", "1", "--json-out", str(out)]
    result = CliRunner().invoke(app(), args, terminal_width=160)
    assert result.exit_code == 0, result.output
    assert "best 3 of 3 trials by net_pnl" in result.output
    data = json.loads(out.read_text())
    assert data["trials"] == 3 and len(data["results"]) == 3


def test_optimize_command_refuses_a_bad_spec_with_exit_2(tmp_path: Path) -> None:
    csv, tpl = tmp_path / "c.csv", tmp_path / "t.json"
    write_candles(csv, random_walk(50))
    tpl.write_text(json.dumps(EXAMPLE))
    result = CliRunner().invoke(
        app(), [str(tpl), "--candles", str(csv), "--param", "signals.0.fast=9:1:1"],
        terminal_width=160)
    assert result.exit_code == 2
    assert "START 9 is above STOP 1" in result.output and "Traceback" not in result.output
