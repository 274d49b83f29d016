"""The read pattern of one SQL text, independent of parameter values: which base tables it
reads and, for each read, the equality constraints that bound the rows that matter.

Produced by sqlshape.analyze, bound to parameter values by readset.bind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Param:
    """The value of parameter $number."""

    number: int


@dataclass(frozen=True, slots=True)
class ParamArray:
    """Each element of array parameter $number (`col = ANY($n)`)."""

    number: int


@dataclass(frozen=True, slots=True)
class Const:
    """A literal (None for NULL)."""

    value: Any


Source = Param | ParamArray | Const
# "the row's column c is one of these values" for some (c, values) in the tuple (an OR)
Constraint = tuple[tuple[str, tuple[Source, ...]], ...]


@dataclass(frozen=True, slots=True)
class Access:
    """One read of a base table. Each constraint alone bounds every row of it that can
    influence the result; no constraint means the whole table."""

    table: str
    constraints: tuple[Constraint, ...]


@dataclass(frozen=True, slots=True)
class Shape:
    """The parameter-independent read pattern of one SQL text."""

    accesses: tuple[Access, ...] = ()
    functions: frozenset[str] = frozenset()
    everything: bool = False
