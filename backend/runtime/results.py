"""Result types: what a function declares it returns (its return annotation), the JSON
schema of that for the OpenAPI document, and the check of actual results in tests/dev mode.

Declare results with TypedDicts or pydantic models; `Decimal` money is sent as a string that
keeps its digits, times as ISO 8601 strings (backend/runtime/jsonvalue.py), and the schema
says so (pydantic's serialization mode). The check forbids undeclared keys, so a column
added to a SELECT cannot leak unseen: the schema stays the truth about the result.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any, TypedDict, get_type_hints

from pydantic import ConfigDict, PydanticUserError, TypeAdapter, ValidationError

CHECK_ENV = "PLUTARC_CHECK_RESULTS"


def checking_by_default() -> bool:
    """Results are checked when PLUTARC_CHECK_RESULTS=1 (tests and `plutarc dev` set it)."""
    return os.environ.get(CHECK_ENV, "") == "1"


class ResultTypeError(TypeError):
    """A function returned something other than its declared result type (a bug: 500)."""


class ResultSpec:
    """The declared result type of one function."""

    def __init__(self, fn: Callable[..., Any], path: str) -> None:
        if inspect.signature(fn).return_annotation is inspect.Signature.empty:
            raise TypeError(f"{path}: declare the result type (`-> SomeTypedDict`)")
        self.path = path
        self.annotation = get_type_hints(fn, include_extras=True).get("return", type(None))
        self.adapter: TypeAdapter[Any] = TypeAdapter(self.annotation)
        self.adapter.json_schema(mode="serialization")  # fails now if a type is undefined
        try:
            self._strict: TypeAdapter[Any] = TypeAdapter(
                self.annotation, config=ConfigDict(extra="forbid"))
        except PydanticUserError:  # a model with its own config decides for itself
            self._strict = self.adapter

    def check(self, value: Any) -> None:
        """Raise ResultTypeError naming the first wrong field if `value` does not conform."""
        try:
            self._strict.validate_python(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "result"
            raise ResultTypeError(
                f"{self.path} returned a result that does not match its declared type: "
                f"{where}: {first['msg']}") from None


class Ok(TypedDict):
    """The result of a function that only confirms it did its job."""

    ok: bool
