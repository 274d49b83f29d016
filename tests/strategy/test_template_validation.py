"""validate_template: valid templates load; invalid ones name the component and the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from strategy.components.catalogue import CATALOGUE
from strategy.template import TEMPLATE_SCHEMA, TemplateError, validate_template

EXAMPLE = Path(__file__).parents[2] / "examples" / "templates" / "ma_cross.json"
BASE = {
    "schema_version": 1,
    "name": "t",
    "symbol": "BTCUSDT",
    "timeframe": "5m",
    "signals": [
        {"type": "ma_cross", "params": {"fast": 5, "slow": 20}},
        {"type": "rsi_reversal", "weight": 0.5},
    ],
    "filters": [{"type": "trend_strength", "params": {"min_adx": 20}}],
    "guards": [{"type": "cooldown_after_loss"}],
    "exits": [{"type": "stop_loss", "params": {"pct": 1.5}}],
    "combination": {"mode": "weighted_sum", "threshold": 1},
    "sessions": [{"name": "new_york"}, {"days": ["sat", "sun"], "start": "10:00", "end": "14:00"}],
    "risk": {"sizing": {"mode": "risk_per_trade", "value": 1}, "leverage": 3},
}


def errors_of(change) -> list[dict]:
    data = copy.deepcopy(BASE)
    change(data)
    with pytest.raises(TemplateError) as info:
        validate_template(data)
    return info.value.errors


def test_schema_and_catalogue_are_plain_json_and_a_valid_schema():
    Draft202012Validator.check_schema(TEMPLATE_SCHEMA)
    assert json.loads(json.dumps(CATALOGUE)) == CATALOGUE
    assert set(CATALOGUE) == {"signals", "filters", "guards", "exits"}
    fast = CATALOGUE["signals"]["ma_cross"]["params"][0]
    assert fast == {
        "name": "fast",
        "type": "integer",
        "default": 10,
        "min": 2,
        "max": 5000,
        "description": "Fast moving-average period (candles)",
    }


def test_a_valid_template_gets_its_defaults_filled_in():
    tpl = validate_template(BASE)
    assert tpl.signals[0].params == {"fast": 5, "slow": 20, "ma": "sma", "mode": "cross"}
    assert tpl.signals[1].weight == 0.5
    assert tpl.guards[0].params == {"bars": 10}
    assert tpl.data["risk"]["daily_loss_limit"] is None
    assert (tpl.long_enabled, tpl.short_enabled, tpl.timeframe_ms) == (True, False, 300_000)
    assert validate_template(tpl.to_json()) == tpl


def test_the_example_template_is_valid():
    assert validate_template(json.loads(EXAMPLE.read_text())).signals[0].type == "ma_cross"


def test_fast_not_below_slow_names_the_component_and_field():
    (e,) = errors_of(lambda d: d["signals"][0]["params"].update(fast=30))
    assert e["path"] == "signals[0].params.fast"
    assert (e["component"], e["field"]) == ("ma_cross", "fast")
    assert "smaller than slow" in e["message"]


def test_out_of_range_and_unknown_params_are_all_reported():
    def change(d):
        d["filters"][0]["params"]["min_adx"] = 150
        d["exits"][0]["params"]["pcts"] = 2
        d["signals"][1]["params"] = {"period": 1.5}

    errors = {e["path"]: e for e in errors_of(change)}
    assert set(errors) == {
        "filters[0].params.min_adx",
        "exits[0].params.pcts",
        "signals[1].params.period",
    }
    assert errors["filters[0].params.min_adx"]["component"] == "trend_strength"
    assert "<= 100" in errors["filters[0].params.min_adx"]["message"]
    assert errors["exits[0].params.pcts"]["field"] == "pcts"
    assert errors["signals[1].params.period"]["component"] == "rsi_reversal"


def test_unknown_component_type_names_the_section_and_type():
    (e,) = errors_of(lambda d: d["signals"].append({"type": "astrology"}))
    assert e["path"] == "signals[2].type"
    assert (e["component"], e["field"]) == ("astrology", "type")
    assert e["message"] == "unknown signal type 'astrology'"


def test_a_filter_type_in_the_signals_list_is_rejected():
    (e,) = errors_of(lambda d: d["signals"].append({"type": "volume"}))
    assert e["path"] == "signals[2].type"


def test_structural_errors_name_the_field():
    def change(d):
        del d["symbol"]
        d["timeframe"] = "7m"
        d["combination"]["threshold"] = 0

    paths = {e["path"] for e in errors_of(change)}
    assert paths == {"symbol", "timeframe", "combination.threshold"}


def test_risk_per_trade_needs_a_stop_exit():
    (e,) = errors_of(lambda d: d.update(exits=[{"type": "take_profit"}]))
    assert e["path"] == "risk.sizing.mode"
    assert "stop_loss or atr_stop" in e["message"]


def test_template_wide_rules():
    def change(d):
        d["long_enabled"] = False
        d["exits"].append({"type": "stop_loss"})
        d["sessions"][1]["end"] = "10:00"

    paths = {e["path"] for e in errors_of(change)}
    assert paths == {"long_enabled", "exits[1].type", "sessions[1].end"}


def test_cross_field_rules_of_exits_and_filters():
    def change(d):
        d["exits"].append({"type": "break_even", "params": {"trigger_pct": 0.5, "offset_pct": 0.5}})
        d["filters"].append({"type": "volatility_band", "params": {"min_pct": 2, "max_pct": 1}})

    errors = {(e["component"], e["field"]) for e in errors_of(change)}
    assert errors == {("break_even", "offset_pct"), ("volatility_band", "min_pct")}


def test_wrong_schema_version_is_rejected():
    (e,) = errors_of(lambda d: d.update(schema_version=2))
    assert e["path"] == "schema_version"
