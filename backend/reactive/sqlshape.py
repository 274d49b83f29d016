"""The SQL analysis behind read sets: one pglast parse tree -> a `Shape`.

Implements the soundness rule stated in readset.py: which conjuncts bound which relation (the
FROM/JOIN walk), what subqueries see of their enclosing query, OR branches, and what makes a
shape depend on everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast, parse_sql
from pglast.enums import JoinType, SetOperation
from pglast.parser import ParseError

from backend.reactive.catalog import Catalog
from backend.reactive.shape import Access, Constraint, Shape
from backend.reactive.sqlterms import (
    Col,
    Eq,
    Opaque,
    Rel,
    Scope,
    accepts_null,
    bound,
    conjuncts,
    disjuncts,
    equalities,
    joined,
)


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


class _Analyzer:
    """Walks statements, collecting one `Access` per base-table FROM item and every function
    called. Raises Opaque for anything it cannot bound."""

    def __init__(self, catalog: Catalog | None) -> None:
        self.catalog = catalog
        self.accesses: list[Access] = []
        self.functions: set[str] = set()

    def _constraints(self, rel: Rel, scope: Scope, context: list[Eq]) -> tuple[Constraint, ...]:
        eqs = [e for c in rel.conjuncts for e in equalities(c, scope)] + context
        direct = bound(rel, eqs)
        if direct:
            return tuple(((column, sources),) for column, sources in direct)
        constraints = []
        for conjunct in rel.conjuncts:
            branches = disjuncts(conjunct) if not isinstance(conjunct, tuple) else [conjunct]
            if len(branches) < 2:
                continue
            picks = []
            for branch in branches:
                local = [e for c in conjuncts(branch) for e in equalities(c, scope)]
                found = bound(rel, eqs + local)
                if not found:
                    break
                picks.append(found[0])
            else:
                constraints.append(tuple(picks))
        if not constraints:  # bounded through a joined table's matching rows, if at all
            constraints = [((column, sources),) for column, sources in joined(rel, eqs)]
        return tuple(constraints)

    # -- FROM clause ----------------------------------------------------------------------

    def _from_item(
        self,
        node: Any,
        inherited: list[Any],
        always: list[Any] | None,
        scope: Scope,
        outer: Scope | None,
    ) -> list[Rel]:
        """Add the relations of one FROM item to `scope`; `inherited` bounds all of them;
        `always` (None under a nullable side) collects conjuncts true for every output row."""
        if isinstance(node, ast.RangeTableSample):
            for arg in (*(node.args or ()), node.repeatable):
                if arg is not None:
                    self._expressions(arg, scope, [])
            return self._from_item(node.relation, inherited, always, scope, outer)
        if isinstance(node, ast.RangeVar):
            alias = node.alias.aliasname if node.alias else None
            if node.schemaname is None and node.relname in scope.ctes:
                rel = Rel(alias or node.relname, None, scope.ctes[node.relname])
            else:
                table = (
                    node.relname
                    if node.schemaname in (None, "public")
                    else f"{node.schemaname}.{node.relname}"
                )
                columns = self.catalog.columns(table) if self.catalog is not None else None
                rel = Rel(alias or node.relname, table, columns, list(inherited))
            scope.rels.append(rel)
            return [rel]
        if isinstance(node, ast.RangeSubselect):
            self._select(node.subquery, scope if node.lateral else outer, [], scope.ctes)
            rel = Rel(
                node.alias.aliasname if node.alias else None,
                None,
                self._output_columns(node.subquery, node.alias),
            )
            scope.rels.append(rel)
            return [rel]
        if isinstance(node, ast.RangeFunction):
            self._expressions(
                node, scope if node.lateral else (outer or Scope([], None, scope.ctes)), []
            )
            names = (
                [c.sval for c in node.alias.colnames]
                if node.alias and node.alias.colnames
                else None
            )
            rel = Rel(
                node.alias.aliasname if node.alias else None,
                None,
                frozenset(names) if names else None,
            )
            scope.rels.append(rel)
            return [rel]
        if isinstance(node, ast.JoinExpr):
            return self._join(node, inherited, always, scope, outer)
        raise Opaque(f"FROM item {type(node).__name__}")

    def _join(
        self,
        node: ast.JoinExpr,
        inherited: list[Any],
        always: list[Any] | None,
        scope: Scope,
        outer: Scope | None,
    ) -> list[Rel]:
        on = conjuncts(node.quals)
        kind = node.jointype
        # what holds for the join's output rows bounds a nullable side's real rows only if
        # a null-extended row cannot satisfy it
        nullable_in = [c for c in inherited if not accepts_null(c)]
        if kind == JoinType.JOIN_INNER:
            left_in = right_in = inherited + on
            left_always = right_always = always
        elif kind == JoinType.JOIN_LEFT:
            left_in, right_in, left_always, right_always = inherited, nullable_in + on, always, None
        elif kind == JoinType.JOIN_RIGHT:
            left_in, right_in, left_always, right_always = nullable_in + on, inherited, None, always
        else:
            left_in = right_in = nullable_in
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
            scope.rels.append(Rel(node.alias.aliasname, None, frozenset(names) if names else None))
        return rels

    @staticmethod
    def _using_pairs(node: ast.JoinExpr, left: list[Rel], right: list[Rel]) -> list[Eq]:
        pairs: list[Eq] = []
        for name in node.usingClause or ():
            column = name.sval
            sides = []
            for rels in (left, right):
                owners = [r for r in rels if r.columns is not None and column in r.columns]
                if len(rels) == 1 and rels[0].columns is None:
                    owners = rels
                sides.append(owners)
            if len(sides[0]) == 1 and len(sides[1]) == 1:
                pairs.append((Col(sides[0][0], column), Col(sides[1][0], column)))
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
            elif isinstance(target.val, ast.ColumnRef) and isinstance(
                target.val.fields[-1], ast.String
            ):
                names.append(target.val.fields[-1].sval)
            else:
                return None  # `*` or an expression: names unknown
        return frozenset(names)

    # -- statements and expressions ------------------------------------------------------

    def _expressions(self, node: Any, scope: Scope, context: list[Eq]) -> None:
        """Record function calls and analyze subqueries (SubLinks) inside an expression."""
        if isinstance(node, tuple):
            for item in node:
                self._expressions(item, scope, context)
            return
        if isinstance(node, ast.FuncCall):
            self.functions.add(node.funcname[-1].sval.lower())
        if isinstance(node, ast.SubLink):
            self._select(node.subselect, scope, context, scope.ctes)
            if node.testexpr is not None:
                self._expressions(node.testexpr, scope, context)
            return
        for child in _children(node):
            self._expressions(child, scope, context)

    def _ctes(
        self, with_clause: Any, outer: Scope | None, ctes: dict[str, frozenset[str] | None]
    ) -> dict[str, frozenset[str] | None]:
        if with_clause is None:
            return ctes
        ctes = dict(ctes)
        for cte in with_clause.ctes:
            columns = (
                frozenset(c.sval for c in cte.aliascolnames)
                if cte.aliascolnames
                else self._output_columns(cte.ctequery, None)
            )
            if with_clause.recursive:
                ctes[cte.ctename] = columns
            if not isinstance(cte.ctequery, ast.SelectStmt):
                raise Opaque("data-modifying WITH")
            self._select(cte.ctequery, outer, [], ctes)
            ctes[cte.ctename] = columns
        return ctes

    def _select(
        self,
        select: Any,
        outer: Scope | None,
        context: list[Eq],
        ctes: dict[str, frozenset[str] | None],
    ) -> None:
        if not isinstance(select, ast.SelectStmt):
            raise Opaque(f"statement {type(select).__name__}")
        ctes = self._ctes(select.withClause, outer, ctes)
        if select.op != SetOperation.SETOP_NONE:
            self._select(select.larg, outer, context, ctes)
            self._select(select.rarg, outer, context, ctes)
            bare = Scope([], outer, ctes)
            for part in (select.sortClause, select.limitCount, select.limitOffset):
                for node in part if isinstance(part, tuple) else (part,):
                    if node is not None:
                        self._expressions(node, bare, [])
            return
        scope = Scope([], outer, ctes)
        where = conjuncts(select.whereClause)
        always = list(where)
        for item in select.fromClause or ():
            self._from_item(item, where, always, scope, outer)
        inner_context = context + [e for c in always for e in equalities(c, scope)]
        for rel in scope.rels:
            if rel.table is not None:
                self.accesses.append(Access(rel.table, self._constraints(rel, scope, context)))
        for part in (
            select.whereClause,
            select.targetList,
            select.havingClause,
            select.sortClause,
            select.groupClause,
            select.distinctClause,
            select.windowClause,
            select.limitCount,
            select.limitOffset,
        ):
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
    except (Opaque, ParseError):
        return Shape(everything=True)
    return Shape(tuple(analyzer.accesses), frozenset(analyzer.functions))
