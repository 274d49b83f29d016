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


@dataclass(frozen=True, slots=True)
class Lookup:
    """The values of `column` in the rows of base table `table` that meet `constraint` - data,
    read in the query's own snapshot when its read set is computed (lookups.py). From a join:
    in `trades t JOIN bots b ON b.id = t.bot_id WHERE b.user_id = $1` the trades that matter
    have bot_id in (SELECT id FROM bots WHERE user_id = $1)."""

    table: str
    column: str
    constraint: Constraint


Source = Param | ParamArray | Const | Lookup
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

    @property
    def lookups(self) -> list[Lookup]:
        """The lookups its constraints use (each needs a read at bind time)."""
        return [
            source
            for access in self.accesses
            for constraint in access.constraints
            for _, sources in constraint
            for source in sources
            if isinstance(source, Lookup)
        ]
