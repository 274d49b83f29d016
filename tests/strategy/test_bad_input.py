"""Bad candle files and bad templates: each refused with its exact message, and
`plutarc backtest` answers every one with that message and exit code 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from strategy.candles_csv import HEADER, CandleFileError, read_candle_rows, read_candles
from strategy.cli import backtest
from strategy.template import TemplateError, validate_template

EXAMPLE = Path(__file__).parents[2] / "examples" / "templates" / "ma_cross.json"
T0 = 1_704_067_200_000
GOOD = [f"{T0 + i * 60_000},100,101,99,100.5,3" for i in range(3)]


def _csv(tmp_path: Path, header: str, rows: list[str]) -> Path:
    path = tmp_path / "c.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


CSV_CASES = {
    "missing column": (
        "open_time_ms,open,high,low,close",
        GOOD,
        "line 1: missing column(s) volume; the header must be "
        "'open_time_ms,open,high,low,close,volume', got 'open_time_ms,open,high,low,close'",
    ),
    "extra column": (
        HEADER + ",turnover",
        GOOD,
        "line 1: unknown column(s) turnover; the header must be "
        "'open_time_ms,open,high,low,close,volume', "
        "got 'open_time_ms,open,high,low,close,volume,turnover'",
    ),
    "columns out of order": (
        "open_time_ms,high,open,low,close,volume",
        GOOD,
        "line 1: columns out of order; the header must be "
        "'open_time_ms,open,high,low,close,volume', got 'open_time_ms,high,open,low,close,volume'",
    ),
    "short row": (
        HEADER,
        [GOOD[0], f"{T0 + 60_000},100,101,99,100"],
        "line 3: expected 6 columns, got 5",
    ),
    "empty cell": (
        HEADER,
        [GOOD[0], f"{T0 + 60_000},100,101,,100,3"],
        "line 3: column low is empty",
    ),
    "text in a number": (
        HEADER,
        [f"{T0},100,101,99,abc,3"],
        "line 2: column close: 'abc' is not a number",
    ),
    "NaN": (
        HEADER,
        [GOOD[0], f"{T0 + 60_000},100,101,99,nan,3"],
        "line 3: column close: nan is not a finite number",
    ),
    "infinity": (
        HEADER,
        [f"{T0},inf,101,99,100,3"],
        "line 2: column open: inf is not a finite number",
    ),
    "fractional time": (
        HEADER,
        [f"{T0}.5,100,101,99,100,3"],
        f"line 2: column open_time_ms: {T0}.5 is not an integer",
    ),
    "zero price": (
        HEADER,
        [GOOD[0], f"{T0 + 60_000},0,101,99,100,3"],
        "line 3: column open: price must be > 0, got 0",
    ),
    "negative price": (
        HEADER,
        [f"{T0},100,101,-1,100,3"],
        "line 2: column low: price must be > 0, got -1",
    ),
    "high below low": (HEADER, [f"{T0},100,98,99,100,3"], "line 2: high 98 is below low 99"),
    "high below close": (
        HEADER,
        [f"{T0},100,101,99,102,3"],
        "line 2: high 101 is below open 100 or close 102",
    ),
    "low above open": (
        HEADER,
        [f"{T0},98,101,99,100,3"],
        "line 2: low 99 is above open 98 or close 100",
    ),
    "negative volume": (
        HEADER,
        [GOOD[0], f"{T0 + 60_000},100,101,99,100,-2"],
        "line 3: column volume: must be >= 0, got -2",
    ),
    "duplicate time": (HEADER, [GOOD[0], GOOD[0]], f"line 3: open_time_ms {T0} repeats line 2"),
    "time going back": (
        HEADER,
        [GOOD[1], GOOD[0]],
        f"line 3: open_time_ms {T0} is before line 2's {T0 + 60_000} (oldest first)",
    ),
    "another interval": (
        HEADER,
        [f"{T0 + i * 300_000},100,101,99,100.5,3" for i in range(3)],
        "candles are at least 300000 ms apart: another interval than the expected 60000 ms",
    ),
    "off the grid": (
        HEADER,
        [f"{T0 + 30_000},100,101,99,100.5,3"],
        f"line 2: open_time_ms {T0 + 30_000} is not on the 60000 ms candle grid",
    ),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_a_bad_candle_file_is_refused_naming_line_and_column(tmp_path, case):
    header, rows, message = CSV_CASES[case]
    path = _csv(tmp_path, header, rows)
    for read in (read_candles, read_candle_rows):
        with pytest.raises(CandleFileError) as err:
            read(path, interval_ms=60_000)
        expected = f"{path}, {message}" if message.startswith("line") else f"{path}: {message}"
        assert str(err.value) == expected


def test_the_reader_keeps_good_rows_and_their_text(tmp_path):
    path = _csv(tmp_path, HEADER, GOOD)
    rows = read_candle_rows(path, interval_ms=60_000)
    assert [str(r.close) for r in rows] == ["100.5"] * 3
    assert list(read_candles(path).close) == [100.5] * 3


def _template(**changes) -> dict:
    data = json.loads(EXAMPLE.read_text())
    for path, value in changes.items():
        target = data
        *parents, last = path.split("/")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return data


TEMPLATE_CASES = {
    "NaN threshold": (
        _template(**{"combination/threshold": float("nan")}),
        ("combination.threshold", None, "threshold", "must be a finite number, got nan"),
    ),
    "infinite parameter": (
        _template(**{"signals/0/params/fast": float("inf")}),
        ("signals[0].params.fast", "ma_cross", "fast", "must be a finite number, got inf"),
    ),
    "negative infinite weight": (
        _template(**{"signals/0/weight": float("-inf")}),
        ("signals[0].weight", "ma_cross", "weight", "must be a finite number, got -inf"),
    ),
    "absurd threshold": (
        _template(**{"combination/threshold": 1e300}),
        ("combination.threshold", None, "threshold", "1e+300 is greater than the maximum of 1000"),
    ),
    "unreachable threshold": (
        _template(**{"combination/threshold": 5}),
        (
            "combination.threshold",
            None,
            "threshold",
            "threshold 5 can never be reached: weighted_sum scores at most 1.0",
        ),
    ),
    "absurd sizing": (
        _template(**{"risk/sizing": {"mode": "fixed_quantity", "value": 1e20}}),
        (
            "risk.sizing.value",
            None,
            "value",
            "1e+20 is greater than the maximum of 1000000000000.0",
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(TEMPLATE_CASES))
def test_a_bad_template_is_refused_naming_component_and_field(case):
    data, (path, component, field, message) = TEMPLATE_CASES[case]
    with pytest.raises(TemplateError) as err:
        validate_template(data)
    assert err.value.errors == [
        {"path": path, "component": component, "field": field, "message": message}
    ]


def test_a_deeply_nested_template_is_refused_without_recursing():
    data = _template()
    deep: list = []
    data["extra"] = deep
    for _ in range(100_000):
        deep.append([])
        deep = deep[0]
    with pytest.raises(TemplateError) as err:
        validate_template(data)
    assert (
        err.value.errors[0]["message"]
        == "nested deeper than 16 levels at extra[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
    )


def _app() -> typer.Typer:
    a = typer.Typer()
    a.command()(backtest)
    return a


def _run(template: Path, candles: Path):
    return CliRunner().invoke(
        _app(), [str(template), "--candles", str(candles)], terminal_width=400
    )


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_backtest_exits_2_with_the_message_for_a_bad_candle_file(tmp_path, case):
    header, rows, message = CSV_CASES[case]
    result = _run(EXAMPLE, _csv(tmp_path, header, rows))
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", "")
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not JSON"),
        ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
        ('{"schema_version": NaN}', "schema_version"),  # a table naming the field
    ],
)
def test_backtest_exits_2_for_a_template_that_is_not_usable(tmp_path, text, message):
    path = tmp_path / "t.json"
    path.write_text(text)
    result = _run(path, _csv(tmp_path, HEADER, GOOD))
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", "")
