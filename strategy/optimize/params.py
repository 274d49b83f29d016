"""Parameter specs for a search: ``PATH=START:STOP:STEP`` or ``PATH=a,b,c``, parsed and checked.

``PATH`` names a value of the template JSON.  Inside a component list the ``params`` level
may be left out: ``signals.0.fast`` is ``signals[0].params.fast``; ``signals.0.weight`` is the
component's weight.  Anything else is a plain path of keys and list indices
(``combination.threshold``, ``risk.sizing.value``).  A range includes STOP when the steps land
on it; it is integer when START, STOP and STEP are all integers.

Every mistake is a :class:`SpecError` naming the spec and what is wrong: bad syntax, a path
that is not in the template, a parameter the component does not have, a range that is empty
or too long, and values outside the parameter's own type, bounds or choices (the message
names the component and field).  A value that only clashes with another (fast >= slow) is
not an error: the points where it clashes are skipped, with the validator's reason.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from strategy.components.catalogue import COMPONENTS
from strategy.template import TemplateError, validate_template

COMPONENT_LISTS = ("signals", "filters", "guards", "exits")
MAX_VALUES_PER_PARAM = 10_000
MAX_POINTS = 1_000_000  # a grid larger than this is refused before anything runs

Value = int | float | str | bool


class SpecError(ValueError):
    """A parameter spec that cannot be searched; the message says which and why."""


@dataclass(frozen=True)
class ParamSpec:
    """One searched parameter: where it lives in the template and the values to try."""

    text: str  # the spec as given, for messages
    path: tuple[str | int, ...]  # keys and indices into the template JSON
    values: tuple[Value, ...]

    @property
    def name(self) -> str:
        return self.text.split("=", 1)[0]


def _number(text: str, spec: str) -> int | Decimal:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SpecError(f"{spec}: {text!r} is not a number") from None
    if not value.is_finite():
        raise SpecError(f"{spec}: {text!r} is not a finite number")
    return value


def _range(body: str, spec: str) -> tuple[Value, ...]:
    parts = body.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise SpecError(f"{spec}: a range is START:STOP:STEP, e.g. 5:50:5")
    start, stop, step = (_number(p.strip(), spec) for p in parts)
    if step <= 0:
        raise SpecError(f"{spec}: STEP must be > 0, got {step}")
    if start > stop:
        raise SpecError(f"{spec}: START {start} is above STOP {stop}")
    count = int((stop - start) // step) + 1
    if count > MAX_VALUES_PER_PARAM:
        raise SpecError(f"{spec}: {count:,} values; at most {MAX_VALUES_PER_PARAM:,} per parameter")
    exact = [start + step * i for i in range(count)]  # Decimal steps: 0.1 stays 0.1
    if all(isinstance(v, int) for v in (start, stop, step)):
        return tuple(int(v) for v in exact)
    return tuple(float(v) for v in exact)


def _choice(text: str) -> Value:
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def _resolve(template: dict[str, Any], dotted: str, spec: str) -> tuple[str | int, ...]:
    """The full path of ``dotted`` in the template JSON, checked to exist."""
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    if not all(str(p) for p in parts):
        raise SpecError(f"{spec}: empty segment in the path {dotted!r}")
    if parts[0] in COMPONENT_LISTS:
        if len(parts) != 3 or not isinstance(parts[1], int):
            raise SpecError(
                f"{spec}: a component value is {parts[0]}.INDEX.PARAM, e.g. {parts[0]}.0.period"
            )
        section, index, field = parts
        components = template.get(section) or []
        if index >= len(components):
            raise SpecError(f"{spec}: the template has {len(components)} {section}, no index {index}")
        kind = components[index].get("type")
        if field == "weight":
            return (section, index, "weight")
        known = {p.name for p in COMPONENTS[kind].params} if kind in COMPONENTS else set()
        if field not in known:
            names = ", ".join(sorted(known)) or "none"
            raise SpecError(f"{spec}: {section}[{index}] ({kind}) has no parameter {field!r}; "
                            f"its parameters: {names}")
        return (section, index, "params", field)
    node: Any = template
    for part in parts:
        ok = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node))
        if not ok:
            raise SpecError(f"{spec}: {dotted!r} is not a value of the template")
        node = node[part]
    if isinstance(node, dict | list):
        raise SpecError(f"{spec}: {dotted!r} is a section, not a value")
    return tuple(parts)


def set_value(template: dict[str, Any], path: tuple[str | int, ...], value: Value) -> None:
    """Set ``value`` at ``path`` in the template JSON, in place."""
    node: Any = template
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    node[path[-1]] = value


def with_values(template: dict[str, Any], specs: list[ParamSpec], values: tuple) -> dict:
    """A copy of the template JSON with each spec's value applied."""
    out = copy.deepcopy(template)
    for spec, value in zip(specs, values, strict=True):
        set_value(out, spec.path, value)
    return out


def parse_specs(template: dict[str, Any], texts: list[str]) -> list[ParamSpec]:
    """Parse and check every ``--param``; each value alone must give a valid template."""
    if not texts:
        raise SpecError("no --param given: name at least one parameter to search")
    specs: list[ParamSpec] = []
    for text in texts:
        dotted, sep, body = text.partition("=")
        if not sep or not dotted.strip() or not body.strip():
            raise SpecError(f"{text}: expected PATH=START:STOP:STEP or PATH=a,b,c")
        path = _resolve(template, dotted.strip(), text)
        if any(s.path == path for s in specs):
            raise SpecError(f"{text}: {dotted.strip()} is searched twice")
        values = _range(body, text) if ":" in body else tuple(_choice(v) for v in body.split(","))
        if len(set(values)) != len(values):
            raise SpecError(f"{text}: a value is listed twice")
        for value in values:
            if problem := _value_problem(template, path, value):
                raise SpecError(f"{text}: value {value!r}: {problem}")
        specs.append(ParamSpec(text, path, values))
    size = math.prod(len(s.values) for s in specs)
    if size > MAX_POINTS:
        raise SpecError(f"the grid has {size:,} points; at most {MAX_POINTS:,} (narrow a range, "
                        "or use --random N)")
    return specs


def _value_problem(template: dict[str, Any], path: tuple[str | int, ...], value: Value) -> str | None:
    """Why ``value`` can never be valid at ``path``: the parameter's own type and bounds (a
    cross-field rule such as fast < slow only skips the points that break it)."""
    if len(path) == 4:  # (section, index, "params", field)
        section, index, _, field = path
        kind = COMPONENTS[template[section][index]["type"]]
        param = next(p for p in kind.params if p.name == field)
        problem = param.problem(value)
        return None if problem is None else f"{_text(path)}: {problem}"
    try:
        validate_template(with_values(template, [ParamSpec("", path, ())], (value,)))
    except TemplateError as exc:
        mine = [e for e in exc.errors if e["path"] == _text(path)]
        return f"{mine[0]['path']}: {mine[0]['message']}" if mine else None
    return None


def _text(path: tuple[str | int, ...]) -> str:
    """``signals[0].params.fast``: a path as the template validator names it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def grid(specs: list[ParamSpec]) -> Iterator[tuple]:
    """Every combination, the last spec varying fastest (neighbours share indicators)."""
    return itertools.product(*(s.values for s in specs))


def sample(specs: list[ParamSpec], count: int, seed: int) -> list[tuple]:
    """``count`` distinct points drawn uniformly from the grid (all of it if smaller), sorted
    so that points sharing values run next to each other."""
    size = math.prod(len(s.values) for s in specs)
    rng = random.Random(seed)
    picks = sorted(rng.sample(range(size), min(count, size)))
    points = []
    for flat in picks:
        point = []
        for s in reversed(specs):
            flat, j = divmod(flat, len(s.values))
            point.append(s.values[j])
        points.append(tuple(reversed(point)))
    return points
