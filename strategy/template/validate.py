"""validate_template: JSON in, a ``Template`` out, or a ``TemplateError`` naming every problem.

Each error is ``{"path": "signals[1].params.fast", "component": "ma_cross", "field": "fast",
"message": "..."}``; ``component`` is None for errors outside a component.  Order of checks:
non-finite numbers (NaN, Infinity: Python's ``json`` accepts them) and nesting deeper than
``MAX_DEPTH`` (walked without recursion), then the JSON Schema (structure, with upper bounds
on every open-ended number), then each component against the catalogue (known type, known
parameters, ranges, cross-field rules, indicator limits), then template-wide rules (among
them a threshold the combination can reach).
"""

from __future__ import annotations

import copy
import math
from typing import Any

from jsonschema import Draft202012Validator

from strategy.components.catalogue import COMPONENTS, KINDS
from strategy.indicators import INDICATORS
from strategy.sessions import DAYS, NAMED_SESSIONS, WEEKDAYS, SessionWindow
from strategy.template.model import Component, Template
from strategy.template.schema import TEMPLATE_SCHEMA

_VALIDATOR = Draft202012Validator(TEMPLATE_SCHEMA)
STOP_EXITS = ("stop_loss", "atr_stop")
MAX_DEPTH = 16  # a template is 5 levels deep; deeper input is refused before any recursion


class TemplateError(ValueError):
    """An invalid template; ``errors`` lists every problem found (see the module docstring)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors))


def _path(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _error(data: Any, parts: list[Any], message: str) -> dict[str, Any]:
    component = None
    if len(parts) >= 2 and parts[0] in KINDS and isinstance(parts[1], int):
        try:
            component = data[parts[0]][parts[1]].get("type")
        except (AttributeError, IndexError, KeyError, TypeError):
            component = None
    field = next((p for p in reversed(parts) if isinstance(p, str)), None)
    if field in KINDS and component is not None:
        field = None
    return {"path": _path(parts), "component": component, "field": field, "message": message}


def _value_errors(data: Any) -> list[dict[str, Any]]:
    """NaN/Infinity anywhere, and nesting deeper than MAX_DEPTH (iterative walk)."""
    errors = []
    stack: list[tuple[Any, list[Any]]] = [(data, [])]
    while stack:
        value, parts = stack.pop()
        if len(parts) > MAX_DEPTH:
            where = _path(parts[:MAX_DEPTH]) or "the template"
            errors.append(
                {
                    "path": _path(parts[:MAX_DEPTH]),
                    "component": None,
                    "field": None,
                    "message": f"nested deeper than {MAX_DEPTH} levels at {where}",
                }
            )
            break
        if isinstance(value, float) and not math.isfinite(value):
            errors.append(_error(data, parts, f"must be a finite number, got {value}"))
        elif isinstance(value, dict):
            stack.extend((v, [*parts, k]) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, [*parts, i]) for i, v in enumerate(value))
    return sorted(errors, key=lambda e: e["path"])


def _schema_errors(data: Any) -> list[dict[str, Any]]:
    errors = []
    for e in sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        parts = list(e.absolute_path)
        if e.validator == "required" and isinstance(e.instance, dict):
            for name in e.validator_value:
                if name not in e.instance:
                    errors.append(_error(data, [*parts, name], f"'{name}' is required"))
            continue
        if e.validator == "additionalProperties" and isinstance(e.instance, dict):
            allowed = set(e.schema.get("properties", {}))
            for name in sorted(set(e.instance) - allowed):
                errors.append(_error(data, [*parts, name], f"unknown field '{name}'"))
            continue
        if e.validator == "enum" and parts and parts[-1] == "type" and parts[0] in KINDS:
            message = f"unknown {KINDS[parts[0]]} type {e.instance!r}"
        else:
            message = e.message
        errors.append(_error(data, parts, message))
    return errors


def _component_errors(data: dict[str, Any], section: str, index: int) -> list[dict[str, Any]]:
    item = data[section][index]
    kind = COMPONENTS[item["type"]]
    base = [section, index, "params"]
    params = item.setdefault("params", {})
    errors = [
        _error(data, [*base, name], f"unknown parameter '{name}' for {kind.type}")
        for name in sorted(set(params) - {p.name for p in kind.params})
    ]
    for p in kind.params:
        if p.name in params and (problem := p.problem(params[p.name])) is not None:
            errors.append(_error(data, [*base, p.name], problem))
    if errors:
        return errors
    full = kind.with_defaults(params)
    errors += [_error(data, [*base, f], message) for f, message in kind.check(full)]
    for need in [] if errors else kind.needs(full):
        try:
            INDICATORS[need.indicator].resolve(dict(need.params))
        except ValueError as exc:
            errors.append(_error(data, base, f"indicator {need.indicator}: {exc}"))
    item["params"] = full
    return errors


def _template_errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    errors = []
    if not (data["long_enabled"] or data["short_enabled"]):
        errors.append(_error(data, ["long_enabled"], "enable long or short entries (or both)"))
    seen: dict[str, int] = {}
    for i, item in enumerate(data["exits"]):
        if item["type"] in seen:
            errors.append(
                _error(
                    data,
                    ["exits", i, "type"],
                    f"{item['type']} is already configured at exits[{seen[item['type']]}]",
                )
            )
        seen.setdefault(item["type"], i)
    sizing = data["risk"]["sizing"]
    if sizing["mode"] == "risk_per_trade" and not set(seen) & set(STOP_EXITS):
        errors.append(
            _error(
                data,
                ["risk", "sizing", "mode"],
                "risk_per_trade sizing needs a stop_loss or atr_stop exit",
            )
        )
    if sizing["mode"] in ("percent_equity", "risk_per_trade") and sizing["value"] > 100:
        errors.append(_error(data, ["risk", "sizing", "value"], "a percentage must be <= 100"))
    limit = data["risk"]["daily_loss_limit"]
    if limit is not None and limit["mode"] == "fraction" and limit["value"] > 1:
        errors.append(
            _error(data, ["risk", "daily_loss_limit", "value"], "a fraction of equity must be <= 1")
        )
    if data["combination"]["mode"] == "weighted_average" and not any(
        s.get("weight", 1.0) > 0 for s in data["signals"]
    ):
        errors.append(_error(data, ["signals"], "weighted_average needs a positive weight"))
    combination = data["combination"]
    reachable = (
        sum(s.get("weight", 1.0) for s in data["signals"])
        if combination["mode"] == "weighted_sum"
        else 1.0
    )
    if combination["threshold"] > reachable:
        errors.append(
            _error(
                data,
                ["combination", "threshold"],
                f"threshold {combination['threshold']} can never be reached: "
                f"{combination['mode']} scores at most {reachable}",
            )
        )
    for i, s in enumerate(data["sessions"]):
        if "start" in s and s["start"] == s["end"]:
            errors.append(_error(data, ["sessions", i, "end"], "end must differ from start"))
    return errors


def _fill_defaults(data: dict[str, Any]) -> None:
    data.setdefault("long_enabled", True)
    data.setdefault("short_enabled", False)
    for section in ("filters", "guards", "exits", "sessions"):
        data.setdefault(section, [])
    for s in data["signals"]:
        s.setdefault("weight", 1.0)
    risk = data["risk"]
    risk.setdefault("leverage", 1)
    risk.setdefault("max_open_positions", 1)
    risk.setdefault("daily_loss_limit", None)


def _session(item: dict[str, Any]) -> SessionWindow:
    if "name" in item:
        start, end = NAMED_SESSIONS[item["name"]]
        return SessionWindow(tuple(item.get("days", WEEKDAYS)), start, end, item["name"])
    return SessionWindow(tuple(item.get("days", DAYS)), item["start"], item["end"])


def validate_template(data: Any) -> Template:
    """Validate template JSON (a dict) and build the ``Template``; raise ``TemplateError``."""
    errors = _value_errors(data) or _schema_errors(data)
    if errors:
        raise TemplateError(errors)
    data = copy.deepcopy(data)
    _fill_defaults(data)
    for section in KINDS:  # the schema already restricts each section to its own types
        for i in range(len(data[section])):
            errors += _component_errors(data, section, i)
    if not errors:
        errors = _template_errors(data)
    if errors:
        raise TemplateError(errors)

    def built(section: str) -> tuple[Component, ...]:
        return tuple(
            Component(c["type"], c["params"], float(c.get("weight", 1.0))) for c in data[section]
        )

    return Template(
        data=data,
        signals=built("signals"),
        filters=built("filters"),
        guards=built("guards"),
        exits=built("exits"),
        sessions=tuple(_session(s) for s in data["sessions"]),
    )
