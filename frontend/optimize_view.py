"""How the optimize page shows a parameter search (`optimize:run`): the ranked table and the
fold table as formatted rows, with each row's in-sample and out-of-sample KPIs side by side,
the progress and summary lines, and the template's searchable parameters as hints. Pure
functions of the backend's JSON values."""

from __future__ import annotations

from typing import Any

from frontend import fmt

# (key, label, formatter of a KpiSet value): the KPIs shown in- and out-of-sample
SHOWN = (
    ("net_pnl", "net PnL", lambda v, ccy: fmt.money(v, ccy, signed=True)),
    ("return_pct", "return", lambda v, ccy: fmt.percent(v, already_percent=True, signed=True)),
    ("sharpe", "Sharpe", lambda v, ccy: fmt.ratio(v)),
    ("max_drawdown_pct", "max DD", lambda v, ccy: fmt.percent(v, already_percent=True)),
    ("trade_count", "trades", lambda v, ccy: fmt.number(v, 0)),
)
COMPONENT_LISTS = ("signals", "filters", "guards", "exits")
STATUS = {"running": "Running", "done": "Done", "failed": "Failed", "cancelled": "Cancelled",
          "queued": "Queued"}


def columns(first: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The table's columns: `first`, then each shown KPI in-sample and out-of-sample."""
    out = list(first)
    for key, label, _ in SHOWN:
        out += [(f"is_{key}", f"IS {label}"), (f"oos_{key}", f"OOS {label}")]
    return out


def _kpi_cells(is_kpis: dict[str, Any] | None, oos_kpis: dict[str, Any] | None, ccy: str
               ) -> dict[str, str]:
    cells = {}
    for side, kpis in (("is", is_kpis), ("oos", oos_kpis)):
        for key, _, show in SHOWN:
            value = None if kpis is None else kpis.get(key)
            cells[f"{side}_{key}"] = show(value, ccy)
            cells[f"{side}_{key}_tone"] = fmt.tone(value) if key in ("net_pnl", "return_pct") \
                else "gray"
    return cells


def values_text(params: list[str], values: list[Any] | None) -> str:
    """`fast=12, slow=60`: each searched value after the last segment of its path."""
    if values is None:
        return "no valid point"
    names = [p.split("=", 1)[0].rsplit(".", 1)[-1] for p in params]
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


def ranked_rows(run: dict[str, Any], ccy: str) -> list[dict[str, str]]:
    return [{"row_id": f"rank-{i}", "rank": str(i), "values": values_text(run["params"],
                                                                          r["values"]),
             **_kpi_cells(r["in_sample"], r["out_of_sample"], ccy)}
            for i, r in enumerate(run["ranked"], 1)]


def fold_rows(run: dict[str, Any], ccy: str) -> list[dict[str, str]]:
    return [{"row_id": f"fold-{i}", "fold": str(i),
             "windows": f"{f['train'][0]:,}–{f['train'][1]:,} → {f['test'][0]:,}–"
                        f"{f['test'][1]:,}",
             "values": values_text(run["params"], f["values"]),
             **_kpi_cells(f["in_sample"], f["out_of_sample"], ccy)}
            for i, f in enumerate(run["folds"], 1)]


def progress_pct(run: dict[str, Any]) -> int:
    return int(100 * run["done"] / run["total"]) if run["total"] else 0


def status_line(run: dict[str, Any]) -> str:
    """`Running: 1,200 of 4,000 trials (30 %)`, or how the run ended."""
    status = STATUS.get(run["status"], run["status"])
    wf = run["walk_forward"]
    where = (f"{run['candles']:,} candles, {wf['folds']} fold{'s' if wf['folds'] > 1 else ''} "
             f"(train {wf['train']:,} → test {wf['test']:,})")
    if run["status"] == "queued":
        return f"{status}: starting the search process · {where}"
    if run["status"] == "running":
        return (f"{status}: {run['done']:,} of {run['total']:,} trials "
                f"({progress_pct(run)} %) · {where}")
    if run["status"] == "done":
        efficiency = ("—" if run["efficiency"] is None else f"{run['efficiency']:.2f}")
        return (f"{status}: {run['trials']:,} trials ranked by {run['kpi']} · {where} · "
                f"walk-forward efficiency {efficiency}")
    return f"{status} after {run['done']:,} of {run['total']:,} trials · {where}"


def run_rows(runs: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"row_id": f"run-{r['id']}", "id": str(r["id"]), "started": fmt.utc(r["created_at"]),
             "status": STATUS.get(r["status"], r["status"]), "kpi": r["kpi"],
             "trials": f"{r['done']:,} / {r['total']:,}",
             "params": "; ".join(r["params"])} for r in runs]


def param_hints(template: dict[str, Any]) -> list[str]:
    """Every searchable component parameter with its current value: `signals.0.fast = 10`."""
    hints = []
    for section in COMPONENT_LISTS:
        for i, comp in enumerate(template.get(section) or []):
            for name, value in (comp.get("params") or {}).items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    hints.append(f"{section}.{i}.{name} = {value} ({comp.get('type')})")
    return hints


def suggested_params(template: dict[str, Any]) -> str:
    """A starting spec: the first two numeric parameters, from half to twice their value."""
    lines = []
    for hint in param_hints(template)[:2]:
        path, rest = hint.split(" = ", 1)
        value = float(rest.split(" ", 1)[0])
        if value == int(value) and value >= 2:
            low, high = max(1, int(value) // 2), int(value) * 2
            lines.append(f"{path}={low}:{high}:{max(1, (high - low) // 10)}")
    return "\n".join(lines)
