"""The vocabulary of the read-set analysis: relations in scope, column resolution, the
equalities a predicate states, and equality chains (union-find) between columns and values.

Internal to sqlshape; the rules it implements are stated in readset.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, NullTestType

from backend.reactive.shape import Const, Lookup, Param, ParamArray, Source


class Opaque(Exception):
    """The statement uses something the analysis cannot bound."""


@dataclass(eq=False)
class Rel:
    """A FROM item of one SELECT: a base table (`table`) or a derived relation (None)."""

    name: str | None  # the name it is referenced by (alias, or table name); None if hidden
    table: str | None
    columns: frozenset[str] | None  # None: unknown
    conjuncts: list[Any] = field(default_factory=list)  # AST nodes or Eq bounding its rows


@dataclass(frozen=True)
class Col:
    """A column of one relation (equal when the relation object and name are)."""

    rel: Rel
    column: str


@dataclass(frozen=True, eq=False)
class AnyOf:
    """One of several values. Identity-compared: two IN lists must never join their columns
    into one equality class (a IN (1, 2) AND b IN (1, 2) does not make a = b)."""

    sources: tuple[Source, ...]


Value = Param | ParamArray | Const | AnyOf
Term = Col | Value
Eq = tuple[Term, Term]


@dataclass
class Scope:
    """The FROM items of one SELECT, its enclosing SELECT's scope, and the visible CTEs (name ->
    output columns, None if unknown)."""

    rels: list[Rel]
    parent: Scope | None
    ctes: dict[str, frozenset[str] | None]


def sources_of(value: Value) -> tuple[Source, ...]:
    return value.sources if isinstance(value, AnyOf) else (value,)


def conjuncts(node: Any) -> list[Any]:
    if node is None:
        return []
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        return [c for arg in node.args for c in conjuncts(arg)]
    return [node]


def disjuncts(node: Any) -> list[Any]:
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.OR_EXPR:
        return [d for arg in node.args for d in disjuncts(arg)]
    return [node]


def accepts_null(conjunct: Any) -> bool:
    """Whether a null-extended row (all columns NULL) can satisfy the conjunct: then it does
    not bound the real rows of a nullable side (`LEFT JOIN t ... WHERE t.id IS NULL`)."""
    if isinstance(conjunct, ast.NullTest):
        return conjunct.nulltesttype == NullTestType.IS_NULL
    if isinstance(conjunct, ast.A_Expr):
        return conjunct.kind == A_Expr_Kind.AEXPR_NOT_DISTINCT
    if isinstance(conjunct, ast.BoolExpr):
        if conjunct.boolop == BoolExprType.NOT_EXPR:  # NOT col rejects NULL; assume others may not
            return not isinstance(conjunct.args[0], ast.ColumnRef)
        return any(accepts_null(arg) for arg in conjunct.args)
    return False


def _const(node: ast.A_Const) -> Const:
    if node.isnull or node.val is None:
        return Const(None)
    val = node.val
    for attr in ("ival", "fval", "sval", "boolval", "bsval"):
        if hasattr(val, attr):
            return Const(getattr(val, attr))
    raise Opaque(f"unknown constant {val!r}")


def _value(node: Any) -> Value | None:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.ParamRef):
        return Param(node.number)
    if isinstance(node, ast.A_Const):
        return _const(node)
    return None


def resolve(ref: ast.ColumnRef, scope: Scope) -> Col | None:
    fields = ref.fields
    if not fields or not all(isinstance(f, ast.String) for f in fields):
        return None
    names = [f.sval for f in fields]
    column = names[-1]
    if len(names) == 1:
        return _resolve_unqualified(column, scope)
    qualifier = names[-2] if len(names) == 2 or names[0] == "public" else ".".join(names[:-1])
    s: Scope | None = scope
    while s is not None:
        matches = [r for r in s.rels if r.name == qualifier]
        if matches:
            return Col(matches[0], column) if len(matches) == 1 else None
        s = s.parent
    return None


def _resolve_unqualified(column: str, scope: Scope) -> Col | None:
    s: Scope | None = scope
    while s is not None:
        visible = [r for r in s.rels if r.name is not None]
        definite = [r for r in visible if r.columns is not None and column in r.columns]
        maybe = [r for r in visible if r.columns is None]
        if len(definite) == 1 and not maybe:
            return Col(definite[0], column)
        if definite or maybe:
            # a single relation must own it when no enclosing one can (or the SQL fails)
            if len(visible) == 1 and not _may_own(column, s.parent):
                return Col(visible[0], column)
            return None
        s = s.parent
    return None


def _may_own(column: str, scope: Scope | None) -> bool:
    while scope is not None:
        for rel in scope.rels:
            if rel.name is not None and (rel.columns is None or column in rel.columns):
                return True
        scope = scope.parent
    return False


def _term(node: Any, scope: Scope) -> Term | None:
    if isinstance(node, ast.ColumnRef):
        return resolve(node, scope)
    return _value(node)


def equalities(conjunct: Any, scope: Scope) -> list[Eq]:
    if isinstance(conjunct, tuple):  # a USING pair made during the join walk
        return [conjunct]
    if isinstance(conjunct, ast.ColumnRef):  # WHERE active
        col = resolve(conjunct, scope)
        return [(col, Const(True))] if col else []
    if isinstance(conjunct, ast.BoolExpr) and conjunct.boolop == BoolExprType.NOT_EXPR:
        (arg,) = conjunct.args
        col = resolve(arg, scope) if isinstance(arg, ast.ColumnRef) else None
        return [(col, Const(False))] if col else []
    if isinstance(conjunct, ast.NullTest) and conjunct.nulltesttype == NullTestType.IS_NULL:
        col = resolve(conjunct.arg, scope) if isinstance(conjunct.arg, ast.ColumnRef) else None
        return [(col, Const(None))] if col else []
    if not isinstance(conjunct, ast.A_Expr) or not conjunct.name:
        return []
    op = conjunct.name[-1]
    if not isinstance(op, ast.String) or op.sval != "=":
        return []
    kind = conjunct.kind
    left = _term(conjunct.lexpr, scope)
    if kind in (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_NOT_DISTINCT):
        if isinstance(conjunct.lexpr, ast.RowExpr) and isinstance(conjunct.rexpr, ast.RowExpr):
            pairs = zip(conjunct.lexpr.args, conjunct.rexpr.args, strict=False)
            if len(conjunct.lexpr.args) != len(conjunct.rexpr.args):
                return []
            terms = [(_term(a, scope), _term(b, scope)) for a, b in pairs]
            return [(a, b) for a, b in terms if a is not None and b is not None]
        right = _term(conjunct.rexpr, scope)
        return [(left, right)] if left is not None and right is not None else []
    if not isinstance(left, Col):
        return []
    if kind == A_Expr_Kind.AEXPR_IN and isinstance(conjunct.rexpr, tuple):
        values = [_value(v) for v in conjunct.rexpr]
        if all(isinstance(v, (Param, Const)) for v in values):
            return [(left, AnyOf(tuple(values)))]  # type: ignore[arg-type]
        return []
    if kind == A_Expr_Kind.AEXPR_OP_ANY:
        right = conjunct.rexpr
        while isinstance(right, ast.TypeCast):
            right = right.arg
        if isinstance(right, ast.ParamRef):
            return [(left, AnyOf((ParamArray(right.number),)))]
        if isinstance(right, ast.A_ArrayExpr):
            values = [_value(v) for v in right.elements or ()]
            if all(isinstance(v, (Param, Const)) for v in values):
                return [(left, AnyOf(tuple(values)))]  # type: ignore[arg-type]
    return []


def _classes(eqs: list[Eq]) -> tuple[list[Any], Any]:
    """Union-find over `eqs`: the terms, and `find` (a term -> its class representative)."""
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in eqs:
        parent[find(a)] = find(b)
    return list(parent), find


def bound(rel: Rel, eqs: list[Eq]) -> list[tuple[str, tuple[Source, ...]]]:
    """(column, values) pairs bounding `rel`'s rows, by equality chains through `eqs`."""
    terms, find = _classes(eqs)
    values: dict[Any, list[Value]] = {}
    for term in terms:
        if not isinstance(term, Col):
            values.setdefault(find(term), []).append(term)
    bound = []
    for term in terms:
        if isinstance(term, Col) and term.rel is rel:
            for value in values.get(find(term), []):
                bound.append((term.column, sources_of(value)))
    return bound


def joined(rel: Rel, eqs: list[Eq]) -> list[tuple[str, tuple[Source, ...]]]:
    """(column, (Lookup,)) pairs: a column of `rel` equals, by an equality chain, a column of
    another base table whose rows `eqs` bound directly - so `rel`'s rows that matter have that
    column among the other table's matching values (read at bind time)."""
    terms, find = _classes(eqs)
    columns = [t for t in terms if isinstance(t, Col)]
    found = []
    for mine in columns:
        if mine.rel is not rel:
            continue
        for other in columns:
            if other.rel is rel or other.rel.table is None or find(other) != find(mine):
                continue
            for column, sources in bound(other.rel, eqs)[:1]:
                lookup = Lookup(other.rel.table, other.column, ((column, sources),))
                found.append((mine.column, (lookup,)))
    return found
