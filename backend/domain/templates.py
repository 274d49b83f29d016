"""Template validation through the strategy engine, with errors mapped to a 400 that names the
component and the field."""

from __future__ import annotations

from typing import Any

from backend.runtime import BadRequest
from strategy.template import TemplateError, validate_template


def describe(error: dict[str, Any]) -> str:
    """`signals[0] (ma_cross) field 'fast': must be < slow`."""
    where = error["path"] or "template"
    if error.get("component"):
        where += f" ({error['component']})"
    if error.get("field"):
        where += f" field '{error['field']}'"
    return f"{where}: {error['message']}"


def validated(template: dict[str, Any]) -> dict[str, Any]:
    """The normalised template JSON (defaults filled in) or BadRequest for its first problem
    (the message counts the others)."""
    try:
        return validate_template(template).to_json()
    except TemplateError as exc:
        first, rest = exc.errors[0], len(exc.errors) - 1
        message = "invalid template: " + describe(first)
        if rest:
            message += f" (and {rest} more problem{'s' if rest > 1 else ''}: "
            message += "; ".join(describe(e) for e in exc.errors[1:4]) + ")"
        path = first["path"]
        field = "template" + ("" if not path else ("" if path.startswith("[") else ".") + path)
        raise BadRequest(message, field=field) from None
