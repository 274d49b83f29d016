"""Parameter search over strategy templates (grid, random) and walk-forward validation."""

from strategy.optimize.params import ParamSpec, SpecError, grid, parse_specs, sample
from strategy.optimize.search import RANK_KPIS, SearchResult, Trial, search
from strategy.optimize.walkforward import Fold, Leader, WalkForward, folds, walk_forward

__all__ = [
    "RANK_KPIS",
    "Fold",
    "Leader",
    "ParamSpec",
    "SearchResult",
    "SpecError",
    "Trial",
    "WalkForward",
    "folds",
    "grid",
    "parse_specs",
    "sample",
    "search",
    "walk_forward",
]
