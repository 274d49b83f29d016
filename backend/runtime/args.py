"""Argument declaration and validation, from a function's signature (pydantic underneath).

A function declares its arguments as typed parameters after `ctx`: plain types, `X | None`
for optional, defaults, nested pydantic models or TypedDicts, `list[...]`, `Decimal` for
money, and `Id["table"]` for the id of a row of a table. Unknown arguments are refused.

Before pydantic sees them, raw arguments pass `jsonin.check` (depth, 64-bit integers, no NUL
or lone surrogate: a 400 naming the field, never a 500 from the database). A plain `int`
parameter is bounded to a signed 64-bit column in its schema too; `ReportJson` is a JSON
object a client stores, bounded in size; `PlainText` marks a name people read.
"""

from __future__ import annotations

import inspect
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any, get_type_hints

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model

from backend.limits import INT64_MAX, get_limits
from backend.runtime import jsonin
from backend.runtime.errors import BadRequest

Int64 = Annotated[int, Field(ge=-INT64_MAX - 1, le=INT64_MAX)]


class Id:
    """`Id["bots"]`: a positive integer id of a row in table `bots` (recorded in the schema)."""

    def __class_getitem__(cls, table: str) -> Any:
        return Annotated[int, Field(gt=0, le=INT64_MAX, json_schema_extra={"x-table": table})]


def _bounded_report(value: dict[str, Any]) -> dict[str, Any]:
    limit = get_limits().report_field_bytes
    if (size := jsonin.encoded_size(value)) > limit:
        raise ValueError(f"{size} bytes of JSON; at most {limit} are stored")
    return value


ReportJson = Annotated[dict[str, Any], AfterValidator(_bounded_report)]


def plain_text(value: str) -> str:
    """For names people read: no control, format (bidi overrides such as U+202E, zero-width
    characters), surrogate, private-use or unassigned characters."""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in value):
        raise ValueError("control and invisible characters are not allowed")
    return value


PlainText = AfterValidator(plain_text)


class ArgsSpec:
    """The validated argument model of one function."""

    def __init__(self, fn: Callable[..., Any], model_name: str) -> None:
        hints = get_type_hints(fn, include_extras=True)
        params = list(inspect.signature(fn).parameters.values())[1:]  # after ctx
        fields: dict[str, Any] = {}
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{model_name}: *args/**kwargs are not allowed in functions")
            annotation = hints.get(p.name, Any)
            if annotation is int:
                annotation = Int64
            default = ... if p.default is inspect.Parameter.empty else p.default
            fields[p.name] = (annotation, default)
        self.names = [p.name for p in params]
        self.model: type[BaseModel] = create_model(  # type: ignore[call-overload]
            model_name, __config__=ConfigDict(extra="forbid"), **fields
        )

    def validate(self, raw: Any) -> dict[str, Any]:
        """Return the arguments as keyword values, or raise BadRequest naming the field path."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise BadRequest("args must be a JSON object", field="args")
        jsonin.check(raw, get_limits().json_depth, "")
        try:
            parsed = self.model.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "args"
            raise BadRequest(f"{field}: {first['msg']}", field=field) from None
        return {name: getattr(parsed, name) for name in self.names}
