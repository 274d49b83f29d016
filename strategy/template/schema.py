"""TEMPLATE_SCHEMA: the template's structure as a JSON Schema (draft 2020-12).

The schema checks shape and types; component parameters are checked against the catalogue
by ``validate_template`` (the schema lists the valid component type names per section).
"""

from __future__ import annotations

from typing import Any

from strategy.components.catalogue import CATALOGUE
from strategy.sessions import DAYS, NAMED_SESSIONS
from strategy.template.model import COMBINATION_MODES, SCHEMA_VERSION, SIZING_MODES, TIMEFRAMES

_HHMM = {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"}
_DAYS = {"type": "array", "items": {"enum": list(DAYS)}, "minItems": 1, "uniqueItems": True}


def _component(section: str, weighted: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {
        "type": {"enum": sorted(CATALOGUE[section]), "description": f"a {section[:-1]} type"},
        "params": {"type": "object", "default": {}},
    }
    if weighted:
        props["weight"] = {"type": "number", "minimum": 0, "maximum": 1000, "default": 1.0}
    return {
        "type": "object",
        "required": ["type"],
        "properties": props,
        "additionalProperties": False,
    }


TEMPLATE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://plutarc.dev/schemas/strategy-template-v1.json",
    "title": "plutarc strategy template",
    "type": "object",
    "required": ["schema_version", "name", "symbol", "timeframe", "signals", "combination", "risk"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "symbol": {"type": "string", "pattern": "^[A-Z0-9]{2,30}$"},
        "timeframe": {"enum": list(TIMEFRAMES)},
        "long_enabled": {"type": "boolean", "default": True},
        "short_enabled": {"type": "boolean", "default": False},
        "signals": {"type": "array", "minItems": 1, "items": _component("signals", True)},
        "filters": {"type": "array", "default": [], "items": _component("filters")},
        "guards": {"type": "array", "default": [], "items": _component("guards")},
        "exits": {"type": "array", "default": [], "items": _component("exits")},
        "combination": {
            "type": "object",
            "required": ["mode", "threshold"],
            "additionalProperties": False,
            "properties": {
                "mode": {"enum": list(COMBINATION_MODES)},
                "threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
            },
        },
        "sessions": {
            "type": "array",
            "default": [],
            "description": "Entry windows (UTC); empty = always. Named sessions default to "
            "mon-fri, custom windows to every day.",
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["name"],
                        "additionalProperties": False,
                        "properties": {"name": {"enum": list(NAMED_SESSIONS)}, "days": _DAYS},
                    },
                    {
                        "type": "object",
                        "required": ["start", "end"],
                        "additionalProperties": False,
                        "properties": {"days": _DAYS, "start": _HHMM, "end": _HHMM},
                    },
                ]
            },
        },
        "risk": {
            "type": "object",
            "required": ["sizing"],
            "additionalProperties": False,
            "properties": {
                "sizing": {
                    "type": "object",
                    "required": ["mode", "value"],
                    "additionalProperties": False,
                    "properties": {
                        "mode": {"enum": list(SIZING_MODES)},
                        "value": {"type": "number", "exclusiveMinimum": 0, "maximum": 1e12},
                    },
                },
                "leverage": {"type": "number", "minimum": 1, "maximum": 200, "default": 1},
                "max_open_positions": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1000,
                    "default": 1,
                },
                "daily_loss_limit": {
                    "default": None,
                    "oneOf": [
                        {"type": "null"},
                        {
                            "type": "object",
                            "required": ["mode", "value"],
                            "additionalProperties": False,
                            "properties": {
                                "mode": {"enum": ["fraction", "amount"]},
                                "value": {"type": "number", "exclusiveMinimum": 0, "maximum": 1e12},
                            },
                        },
                    ],
                },
            },
        },
    },
}
