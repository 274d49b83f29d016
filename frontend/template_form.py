"""The strategy editor's model: a template (plain JSON) ↔ the rows of typed fields the editor
shows, generated from the engine's component catalogue (`strategies:catalogue`) and the
template's JSON schema — numbers with their bounds, choices as selects. Pure functions,
unit-tested; the page (frontend/pages/strategies.py) only renders rows and sends edits back.

A field is addressed by its path in the template, written as the engine writes error paths
(`signals[0].params.fast`, `risk.sizing.value`), so an error from the engine or the backend
lands next to the field it names.
"""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

from strategy.template import TemplateError, validate_template

SECTIONS = ("signals", "filters", "guards", "exits")
NAMED_SESSIONS = ("asia", "london", "new_york")
# the template-wide fields, in the editor's order: (path, label)
GENERAL = (
    ("name", "Name"), ("symbol", "Symbol"), ("timeframe", "Timeframe"),
    ("long_enabled", "Long entries"), ("short_enabled", "Short entries"),
    ("combination.mode", "Combination mode"), ("combination.threshold", "Threshold"),
    ("risk.sizing.mode", "Sizing mode"), ("risk.sizing.value", "Sizing value"),
    ("risk.leverage", "Leverage"), ("risk.max_open_positions", "Max open positions"),
    ("risk.daily_loss_limit.mode", "Daily loss limit mode"),
    ("risk.daily_loss_limit.value", "Daily loss limit"),
)
Row = dict[str, str]


def starter(catalogue: dict[str, Any]) -> dict[str, Any]:
    """A new template: one signal with its defaults, what a trader starts from."""
    first = "ma_cross" if "ma_cross" in catalogue["signals"] else next(iter(catalogue["signals"]))
    template: dict[str, Any] = {
        "schema_version": 1, "name": "My strategy", "symbol": "BTCUSDT", "timeframe": "1m",
        "long_enabled": True, "short_enabled": True, "signals": [], "filters": [],
        "guards": [], "exits": [], "combination": {"mode": "weighted_sum", "threshold": 1.0},
        "sessions": [], "risk": {"sizing": {"mode": "percent_equity", "value": 10},
                                 "leverage": 1, "max_open_positions": 1,
                                 "daily_loss_limit": None},
    }
    return add_component(template, catalogue, "signals", first)


def _split(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]


def get(template: dict[str, Any], path: str) -> Any:
    node: Any = template
    for part in _split(path):
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return node


def _schema_spec(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """type/min/max/choices of a general field, read from the template's JSON schema."""
    node = schema
    for part in _split(path):
        props = node.get("properties")
        if props is None:  # daily_loss_limit: null or an object
            node = next(o for o in node.get("oneOf", []) if o.get("type") == "object")
            props = node["properties"]
        node = props[part]
    if "enum" in node:
        return {"type": "choice", "choices": [str(c) for c in node["enum"]]}
    spec: dict[str, Any] = {"type": node.get("type", "string")}
    for key, ours in (("minimum", "min"), ("exclusiveMinimum", "exclusive_min"),
                      ("maximum", "max")):
        if key in node:
            spec[ours] = node[key]
    return spec


def _row(path: str, label: str, spec: dict[str, Any], value: Any, errors: dict[str, str],
         description: str = "") -> Row:
    kind = "choice" if spec.get("choices") else spec.get("type", "string")
    bounds = []
    if "min" in spec:
        bounds.append(f"≥ {spec['min']}")
    if "exclusive_min" in spec:
        bounds.append(f"> {spec['exclusive_min']}")
    if "max" in spec:
        bounds.append(f"≤ {spec['max']}")
    return {
        "path": path, "label": label, "kind": kind,
        "value": _text(value), "choices": ",".join(spec.get("choices") or ()),
        "bounds": " ".join(bounds), "help": description,
        "error": errors.get(path, ""), "id": "f-" + re.sub(r"[^a-z0-9]+", "-", path.lower()),
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def general_rows(template: dict[str, Any], schema: dict[str, Any], errors: dict[str, str]
                 ) -> list[Row]:
    rows = []
    for path, label in GENERAL:
        spec = _schema_spec(schema, path)
        if path.startswith("risk.daily_loss_limit.") and path.endswith(".mode"):
            spec["choices"] = ["none", *spec["choices"]]
        value = get(template, path)
        if path == "risk.daily_loss_limit.mode" and value is None:
            value = "none"
        rows.append(_row(path, label, spec, value, errors))
    return rows


def component_rows(template: dict[str, Any], catalogue: dict[str, Any],
                   errors: dict[str, str]) -> tuple[dict[str, list[Row]], dict[str, list[Row]]]:
    """Per section, one row per component (its `key` such as `signals[0]`, type and
    description), and per component key the rows of its parameters (a signal's weight
    first)."""
    out: dict[str, list[Row]] = {}
    fields: dict[str, list[Row]] = {}
    for section in SECTIONS:
        out[section] = []
        for i, comp in enumerate(template.get(section) or []):
            key = f"{section}[{i}]"
            info = catalogue[section].get(comp.get("type"), {"params": [], "description": ""})
            params = [
                _row(f"{key}.params.{p['name']}", p["name"], p,
                     (comp.get("params") or {}).get(p["name"], p["default"]), errors,
                     p["description"])
                for p in info["params"]
            ]
            if section == "signals":
                params.insert(0, _row(f"{key}.weight", "weight", {"type": "number", "min": 0},
                                      comp.get("weight", 1.0), errors))
            out[section].append({
                "key": key, "section": section, "index": str(i), "type": comp.get("type", ""),
                "description": info["description"], "error": errors.get(key, ""),
                "id": f"c-{section}-{i}",
            })
            fields[key] = params
    return out, fields


def parse(kind: str, text: str) -> Any:
    """A field's text as the template holds it; a number that does not parse stays text, so
    the engine's message ("must be a number, got 'x'") names it."""
    text = text.strip()
    if kind == "boolean":
        return text == "true"
    if kind in ("integer", "number"):
        try:
            number = float(text)
        except ValueError:
            return text
        if kind == "integer" and math.isfinite(number) and number.is_integer():
            return int(number)
        return number
    return text


def set_value(template: dict[str, Any], path: str, kind: str, text: str) -> dict[str, Any]:
    """A copy of `template` with the field at `path` set from the editor's text."""
    out = copy.deepcopy(template)
    if path == "risk.daily_loss_limit.mode":
        risk = out.setdefault("risk", {})
        if text == "none":
            risk["daily_loss_limit"] = None
        else:
            risk["daily_loss_limit"] = {"mode": text,
                                        "value": get(template, "risk.daily_loss_limit.value")
                                        or (0.05 if text == "fraction" else 100)}
        return out
    parts = _split(path)
    node: Any = out
    for part in parts[:-1]:
        if isinstance(part, int):
            node = node[part]
        else:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
    node[parts[-1]] = parse(kind, text)
    return out


def add_component(template: dict[str, Any], catalogue: dict[str, Any], section: str,
                  kind: str) -> dict[str, Any]:
    if section not in SECTIONS or kind not in catalogue[section]:
        raise ValueError(f"no {section} component {kind!r}")
    out = copy.deepcopy(template)
    comp: dict[str, Any] = {"type": kind, "params": {
        p["name"]: p["default"] for p in catalogue[section][kind]["params"]}}
    if section == "signals":
        comp["weight"] = 1.0
    out.setdefault(section, []).append(comp)
    return out


def remove_component(template: dict[str, Any], section: str, index: int) -> dict[str, Any]:
    out = copy.deepcopy(template)
    del out[section][index]
    return out


def toggle_session(template: dict[str, Any], name: str) -> dict[str, Any]:
    out = copy.deepcopy(template)
    sessions = out.setdefault("sessions", [])
    if any(s.get("name") == name for s in sessions):
        out["sessions"] = [s for s in sessions if s.get("name") != name]
    else:
        sessions.append({"name": name})
    return out


def errors_of(template: dict[str, Any]) -> dict[str, str]:
    """The engine's problems with `template`, by path ("" for the template as a whole)."""
    try:
        validate_template(template)
    except TemplateError as exc:
        out: dict[str, str] = {}
        for e in exc.errors:
            out.setdefault(e["path"], e["message"])
        return out
    return {}


def backend_error_path(field: str | None) -> str:
    """The template path in a backend error's field (`template.signals[0].params.fast`)."""
    if not field or not field.startswith("template"):
        return ""
    return field[len("template"):].lstrip(".")


def diff(old: Any, new: Any, path: str = "") -> list[Row]:
    """What changed between two template versions: `{path, old, new}` per changed leaf."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            out += diff(old.get(key), new.get(key), sub)
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            out += diff(old[i] if i < len(old) else None, new[i] if i < len(new) else None,
                        f"{path}[{i}]")
        return out
    if old == new:
        return []
    return [{"path": path or "template", "old": _show(old), "new": _show(new)}]


def _show(value: Any) -> str:
    return "—" if value is None else json.dumps(value, sort_keys=True)
