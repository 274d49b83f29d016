"""`plutarc backtest` as a typer command: summary table, JSON output, template errors."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from strategy.backtest.synthetic import random_walk
from strategy.candles_csv import write_candles
from strategy.cli import backtest

EXAMPLE = Path(__file__).parents[2] / "examples" / "templates" / "ma_cross.json"


def app() -> typer.Typer:
    a = typer.Typer()
    a.command()(backtest)
    return a


def test_backtest_prints_kpis_and_writes_json(tmp_path):
    csv = tmp_path / "c.csv"
    write_candles(csv, random_walk(3000, seed=2, trend=0.5))
    out = tmp_path / "result.json"
    result = CliRunner().invoke(
        app(),
        [str(EXAMPLE), "--candles", str(csv), "--json-out", str(out), "--taker-fee", "0.001"],
        terminal_width=150,
    )
    assert result.exit_code == 0, result.output
    assert "net PnL" in result.output and "profit factor" in result.output
    data = json.loads(out.read_text())
    assert data["kpis"]["trade_count"] == len(data["trades"]) > 10
    assert data["config"]["taker_fee"] == "0.001"
    assert data["trades"][0]["signal_state"]["signals"][0]["type"] == "ma_cross"
    assert len(data["equity"]) <= 1001


def test_invalid_template_exits_2_naming_component_and_field(tmp_path):
    bad = json.loads(EXAMPLE.read_text())
    bad["signals"][0]["params"]["fast"] = 50
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    csv = tmp_path / "c.csv"
    write_candles(csv, random_walk(10))
    result = CliRunner().invoke(app(), [str(path), "--candles", str(csv)], terminal_width=200)
    assert result.exit_code == 2
    assert "signals[0].params.fast" in result.output and "ma_cross" in result.output
