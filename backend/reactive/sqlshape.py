"""The SQL analysis behind read sets: one pglast parse tree -> a `Shape`.

Implements the soundness rule stated in readset.py: which conjuncts bound which relation,
equality chains through joins and correlated subqueries, OR branches, and what makes a shape
depend on everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType, JoinType, NullTestType, SetOperation
from pglast.parser import ParseError

from backend.reactive.catalog import Catalog


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


class _Opaque(Exception):
    """The statement uses something the analysis cannot bound."""


@dataclass(eq=False)
class _Rel:
    """A FROM item of one SELECT: a base table (`table`) or a derived relation (None)."""

    name: str | None  # the name it is referenced by (alias, or table name); None if hidden
    table: str | None
    columns: frozenset[str] | None  # None: unknown
    conjuncts: list[Any] = field(default_factory=list)  # AST nodes or _Eq bounding its rows


@dataclass(frozen=True)
class _Col:
    """A column of one relation (equal when the relation object and name are)."""

    rel: _Rel
    column: str


@dataclass(frozen=True, eq=False)
class _AnyOf:
    """One of several values. Identity-compared: two IN lists must never join their columns
    into one equality class (a IN (1, 2) AND b IN (1, 2) does not make a = b)."""

    sources: tuple[Source, ...]


_Value = Param | ParamArray | Const | _AnyOf
_Term = _Col | _Value
_Eq = tuple[_Term, _Term]


@dataclass
class _Scope:
    rels: list[_Rel]
    parent: _Scope | None
    ctes: dict[str, frozenset[str] | None]


def _sources(value: _Value) -> tuple[Source, ...]:
    return value.sources if isinstance(value, _AnyOf) else (value,)


def _children(node: Any) -> Iterator[Any]:
    for name in node.__slots__:
        value = getattr(node, name, None)
        if isinstance(value, ast.Node):
            yield value
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, ast.Node):
                    yield item
                elif isinstance(item, tuple):  # RangeFunction.functions: (call, coldefs) pairs
                    yield from (i for i in item if isinstance(i, ast.Node))


def _conjuncts(node: Any) -> list[Any]:
    if node is None:
        return []
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        return [c for arg in node.args for c in _conjuncts(arg)]
    return [node]


def _disjuncts(node: Any) -> list[Any]:
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.OR_EXPR:
        return [d for arg in node.args for d in _disjuncts(arg)]
    return [node]


def _const(node: ast.A_Const) -> Const:
    if node.isnull or node.val is None:
        return Const(None)
    val = node.val
    for attr in ("ival", "fval", "sval", "boolval", "bsval"):
        if hasattr(val, attr):
            return Const(getattr(val, attr))
    raise _Opaque(f"unknown constant {val!r}")


def _value(node: Any) -> _Value | None:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.ParamRef):
        return Param(node.number)
    if isinstance(node, ast.A_Const):
        return _const(node)
    return None


class _Analyzer:
    def __init__(self, catalog: Catalog | None) -> None:
        self.catalog = catalog
        self.accesses: list[Access] = []
        self.functions: set[str] = set()

    # -- column resolution -------------------------------------------------------------

    def _resolve(self, ref: ast.ColumnRef, scope: _Scope) -> _Col | None:
        fields = ref.fields
        if not fields or not all(isinstance(f, ast.String) for f in fields):
            return None
        names = [f.sval for f in fields]
        column = names[-1]
        if len(names) == 1:
            return self._resolve_unqualified(column, scope)
        qualifier = names[-2] if len(names) == 2 or names[0] == "public" else ".".join(names[:-1])
        s: _Scope | None = scope
        while s is not None:
            matches = [r for r in s.rels if r.name == qualifier]
            if matches:
                return _Col(matches[0], column) if len(matches) == 1 else None
            s = s.parent
        return None

    def _resolve_unqualified(self, column: str, scope: _Scope) -> _Col | None:
        s: _Scope | None = scope
        while s is not None:
            visible = [r for r in s.rels if r.name is not None]
            definite = [r for r in visible if r.columns is not None and column in r.columns]
            maybe = [r for r in visible if r.columns is None]
            if len(definite) == 1 and not maybe:
                return _Col(definite[0], column)
            if definite or maybe:
                # an outermost single relation must own it, or the SQL would not run
                if s.parent is None and len(visible) == 1:
                    return _Col(visible[0], column)
                return None
            s = s.parent
        return None

    def _term(self, node: Any, scope: _Scope) -> _Term | None:
        if isinstance(node, ast.ColumnRef):
            return self._resolve(node, scope)
        return _value(node)

    # -- equalities ----------------------------------------------------------------------

    def _equalities(self, conjunct: Any, scope: _Scope) -> list[_Eq]:
        if isinstance(conjunct, tuple):  # a USING pair made during the join walk
            return [conjunct]
        if isinstance(conjunct, ast.ColumnRef):  # WHERE active
            col = self._resolve(conjunct, scope)
            return [(col, Const(True))] if col else []
        if isinstance(conjunct, ast.BoolExpr) and conjunct.boolop == BoolExprType.NOT_EXPR:
            (arg,) = conjunct.args
            col = self._resolve(arg, scope) if isinstance(arg, ast.ColumnRef) else None
            return [(col, Const(False))] if col else []
        if isinstance(conjunct, ast.NullTest) and conjunct.nulltesttype == NullTestType.IS_NULL:
            col = self._resolve(conjunct.arg, scope) if isinstance(conjunct.arg, ast.ColumnRef) else None
            return [(col, Const(None))] if col else []
        if not isinstance(conjunct, ast.A_Expr) or not conjunct.name:
            return []
        op = conjunct.name[-1]
        if not isinstance(op, ast.String) or op.sval != "=":
            return []
        kind = conjunct.kind
        left = self._term(conjunct.lexpr, scope)
        if kind in (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_NOT_DISTINCT):
            if isinstance(conjunct.lexpr, ast.RowExpr) and isinstance(conjunct.rexpr, ast.RowExpr):
                pairs = zip(conjunct.lexpr.args, conjunct.rexpr.args, strict=False)
                if len(conjunct.lexpr.args) != len(conjunct.rexpr.args):
                    return []
                terms = [(self._term(a, scope), self._term(b, scope)) for a, b in pairs]
                return [(a, b) for a, b in terms if a is not None and b is not None]
            right = self._term(conjunct.rexpr, scope)
            return [(left, right)] if left is not None and right is not None else []
        if not isinstance(left, _Col):
            return []
        if kind == A_Expr_Kind.AEXPR_IN and isinstance(conjunct.rexpr, tuple):
            values = [_value(v) for v in conjunct.rexpr]
            if all(isinstance(v, (Param, Const)) for v in values):
                return [(left, _AnyOf(tuple(values)))]  # type: ignore[arg-type]
            return []
        if kind == A_Expr_Kind.AEXPR_OP_ANY:
            right = conjunct.rexpr
            while isinstance(right, ast.TypeCast):
                right = right.arg
            if isinstance(right, ast.ParamRef):
                return [(left, _AnyOf((ParamArray(right.number),)))]
            if isinstance(right, ast.A_ArrayExpr):
                values = [_value(v) for v in right.elements or ()]
                if all(isinstance(v, (Param, Const)) for v in values):
                    return [(left, _AnyOf(tuple(values)))]  # type: ignore[arg-type]
        return []

    def _bound(self, rel: _Rel, eqs: list[_Eq]) -> list[tuple[str, tuple[Source, ...]]]:
        """(column, values) pairs bounding `rel`'s rows, by equality chains through `eqs`."""
        parent: dict[Any, Any] = {}

        def find(x: Any) -> Any:
            parent.setdefault(x, x)
            while parent[x] != x:
                x = parent[x]
            return x

        for a, b in eqs:
            parent[find(a)] = find(b)
        values: dict[Any, list[_Value]] = {}
        for term in list(parent):
            if not isinstance(term, _Col):
                values.setdefault(find(term), []).append(term)
        bound = []
        for term in list(parent):
            if isinstance(term, _Col) and term.rel is rel:
                for value in values.get(find(term), []):
                    bound.append((term.column, _sources(value)))
        return bound

    def _constraints(self, rel: _Rel, scope: _Scope, context: list[_Eq]) -> tuple[Constraint, ...]:
        eqs = [e for c in rel.conjuncts for e in self._equalities(c, scope)] + context
        bound = self._bound(rel, eqs)
        if bound:
            return tuple(((column, sources),) for column, sources in bound)
        constraints = []
        for conjunct in rel.conjuncts:
            branches = _disjuncts(conjunct) if not isinstance(conjunct, tuple) else [conjunct]
            if len(branches) < 2:
                continue
            picks = []
            for branch in branches:
                local = [e for c in _conjuncts(branch) for e in self._equalities(c, scope)]
                found = self._bound(rel, eqs + local)
                if not found:
                    break
                picks.append(found[0])
            else:
                constraints.append(tuple(picks))
        return tuple(constraints)

    # -- FROM clause ----------------------------------------------------------------------

    def _from_item(self, node: Any, inherited: list[Any], always: list[Any] | None,
                   scope: _Scope, outer: _Scope | None) -> list[_Rel]:
        """Add the relations of one FROM item to `scope`; `inherited` bounds all of them;
        `always` (None under a nullable side) collects conjuncts true for every output row."""
        if isinstance(node, ast.RangeTableSample):
            return self._from_item(node.relation, inherited, always, scope, outer)
        if isinstance(node, ast.RangeVar):
            alias = node.alias.aliasname if node.alias else None
            if node.schemaname is None and node.relname in scope.ctes:
                rel = _Rel(alias or node.relname, None, scope.ctes[node.relname])
            else:
                table = node.relname if node.schemaname in (None, "public") else f"{node.schemaname}.{node.relname}"
                columns = self.catalog.columns(table) if self.catalog is not None else None
                rel = _Rel(alias or node.relname, table, columns, list(inherited))
            scope.rels.append(rel)
            return [rel]
        if isinstance(node, ast.RangeSubselect):
            self._select(node.subquery, scope if node.lateral else outer, [], scope.ctes)
            rel = _Rel(node.alias.aliasname if node.alias else None, None, self._output_columns(node.subquery, node.alias))
            scope.rels.append(rel)
            return [rel]
        if isinstance(node, ast.RangeFunction):
            self._expressions(node, scope if node.lateral else (outer or _Scope([], None, scope.ctes)), [])
            names = [c.sval for c in node.alias.colnames] if node.alias and node.alias.colnames else None
            rel = _Rel(node.alias.aliasname if node.alias else None, None, frozenset(names) if names else None)
            scope.rels.append(rel)
            return [rel]
        if isinstance(node, ast.JoinExpr):
            return self._join(node, inherited, always, scope, outer)
        raise _Opaque(f"FROM item {type(node).__name__}")

    def _join(self, node: ast.JoinExpr, inherited: list[Any], always: list[Any] | None,
              scope: _Scope, outer: _Scope | None) -> list[_Rel]:
        on = _conjuncts(node.quals)
        kind = node.jointype
        if kind == JoinType.JOIN_INNER:
            left_in = right_in = inherited + on
            left_always = right_always = always
        elif kind == JoinType.JOIN_LEFT:
            left_in, right_in, left_always, right_always = inherited, inherited + on, always, None
        elif kind == JoinType.JOIN_RIGHT:
            left_in, right_in, left_always, right_always = inherited + on, inherited, None, always
        else:
            left_in = right_in = inherited
            left_always = right_always = None
        left = self._from_item(node.larg, left_in, left_always, scope, outer)
        right = self._from_item(node.rarg, right_in, right_always, scope, outer)
        rels = left + right
        if kind == JoinType.JOIN_INNER:
            using = self._using_pairs(node, left, right)
            for rel in rels:
                rel.conjuncts.extend(using)
            if always is not None:
                always.extend(on + using)
        # ON may hold subqueries; they see no enclosing equalities (conservative)
        for conjunct in on:
            self._expressions(conjunct, scope, [])
        if node.alias is not None:
            for rel in rels:
                rel.name = None
            names = [c.sval for c in node.alias.colnames] if node.alias.colnames else None
            scope.rels.append(_Rel(node.alias.aliasname, None, frozenset(names) if names else None))
        return rels

    @staticmethod
    def _using_pairs(node: ast.JoinExpr, left: list[_Rel], right: list[_Rel]) -> list[_Eq]:
        pairs: list[_Eq] = []
        for name in node.usingClause or ():
            column = name.sval
            sides = []
            for rels in (left, right):
                owners = [r for r in rels if r.columns is not None and column in r.columns]
                if len(rels) == 1 and rels[0].columns is None:
                    owners = rels
                sides.append(owners)
            if len(sides[0]) == 1 and len(sides[1]) == 1:
                pairs.append((_Col(sides[0][0], column), _Col(sides[1][0], column)))
        return pairs

    @staticmethod
    def _output_columns(select: Any, alias: Any) -> frozenset[str] | None:
        if alias is not None and alias.colnames:
            return frozenset(c.sval for c in alias.colnames)
        while isinstance(select, ast.SelectStmt) and select.op != SetOperation.SETOP_NONE:
            select = select.larg
        targets = getattr(select, "targetList", None)
        if not targets:
            return None
        names = []
        for target in targets:
            if target.name:
                names.append(target.name)
            elif isinstance(target.val, ast.ColumnRef) and isinstance(target.val.fields[-1], ast.String):
                names.append(target.val.fields[-1].sval)
            else:
                return None  # `*` or an expression: names unknown
        return frozenset(names)

    # -- statements and expressions ------------------------------------------------------

    def _expressions(self, node: Any, scope: _Scope, context: list[_Eq]) -> None:
        """Record function calls and analyze subqueries (SubLinks) inside an expression."""
        if isinstance(node, ast.FuncCall):
            self.functions.add(node.funcname[-1].sval.lower())
        if isinstance(node, ast.SubLink):
            self._select(node.subselect, scope, context, scope.ctes)
            if node.testexpr is not None:
                self._expressions(node.testexpr, scope, context)
            return
        for child in _children(node):
            self._expressions(child, scope, context)

    def _ctes(self, with_clause: Any, outer: _Scope | None,
              ctes: dict[str, frozenset[str] | None]) -> dict[str, frozenset[str] | None]:
        if with_clause is None:
            return ctes
        ctes = dict(ctes)
        for cte in with_clause.ctes:
            columns = (frozenset(c.sval for c in cte.aliascolnames) if cte.aliascolnames
                       else self._output_columns(cte.ctequery, None))
            if with_clause.recursive:
                ctes[cte.ctename] = columns
            if not isinstance(cte.ctequery, ast.SelectStmt):
                raise _Opaque("data-modifying WITH")
            self._select(cte.ctequery, outer, [], ctes)
            ctes[cte.ctename] = columns
        return ctes

    def _select(self, select: Any, outer: _Scope | None, context: list[_Eq],
                ctes: dict[str, frozenset[str] | None]) -> None:
        if not isinstance(select, ast.SelectStmt):
            raise _Opaque(f"statement {type(select).__name__}")
        ctes = self._ctes(select.withClause, outer, ctes)
        if select.op != SetOperation.SETOP_NONE:
            self._select(select.larg, outer, context, ctes)
            self._select(select.rarg, outer, context, ctes)
            return
        scope = _Scope([], outer, ctes)
        where = _conjuncts(select.whereClause)
        always = list(where)
        for item in select.fromClause or ():
            self._from_item(item, where, always, scope, outer)
        inner_context = context + [e for c in always for e in self._equalities(c, scope)]
        for rel in scope.rels:
            if rel.table is not None:
                self.accesses.append(Access(rel.table, self._constraints(rel, scope, context)))
        for part in (select.whereClause, select.targetList, select.havingClause,
                     select.sortClause, select.groupClause, select.distinctClause,
                     select.windowClause, select.limitCount, select.limitOffset):
            for node in part if isinstance(part, tuple) else (part,):
                if node is not None:
                    self._expressions(node, scope, inner_context)
        for row in select.valuesLists or ():
            self._expressions(row, scope, [])


def analyze(sql: str, catalog: Catalog | None = None) -> Shape:
    """The shape of every statement in `sql` (uncached; see readset.ReadSets)."""
    analyzer = _Analyzer(catalog)
    try:
        for raw in parse_sql(sql):
            stmt = raw.stmt
            if isinstance(stmt, ast.VariableSetStmt | ast.VariableShowStmt):
                continue
            analyzer._select(stmt, None, [], {})
    except (_Opaque, ParseError):
        return Shape(everything=True)
    return Shape(tuple(analyzer.accesses), frozenset(analyzer.functions))
