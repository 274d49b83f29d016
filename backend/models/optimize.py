"""Parameter searches run from the dashboard (`optimize:*`): one row per run, with its spec,
its live progress and, once done, its ranked results (backend/functions/optimize.py)."""

from tortoise import fields
from tortoise.models import Model


class OptimizationRun(Model):
    """A user's parameter search over one strategy version.

    `status` moves queued (its process starting) → running → done | failed | cancelled and
    never back; a row that has ended has `finished_at`. `host`/`api_pid` name the API process that follows the
    search (a restarted process fails the runs it left); `beat_at` is refreshed while it
    runs, so a run whose process died is failed by any process after `optimize.STALE_S`.
    """

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "plutarc.User", related_name="optimization_runs", on_delete=fields.CASCADE
    )
    strategy = fields.ForeignKeyField(
        "plutarc.Strategy", related_name="optimization_runs", on_delete=fields.CASCADE
    )
    strategy_version = fields.IntField()
    params = fields.JSONField()  # the parameter specs as given: ["signals.0.fast=5:50:5", ...]
    kind = fields.CharField(max_length=8)  # grid | random
    samples = fields.IntField(null=True)  # random: points drawn from the grid
    seed = fields.IntField(default=0)
    kpi = fields.CharField(max_length=32)
    top = fields.IntField()
    candles = fields.IntField()  # candles searched over (the exchange's history)
    walk_forward = fields.JSONField()  # {train, test, step, anchored, folds}
    status = fields.CharField(max_length=16)
    done = fields.IntField(default=0)  # trials run so far
    total = fields.IntField()  # trials in all: points x folds
    trials = fields.IntField(null=True)  # trials evaluated, once done
    ranked = fields.JSONField(null=True)  # the last fold's top N, in- and out-of-sample
    folds = fields.JSONField(null=True)  # each fold's winner, in- and out-of-sample
    efficiency = fields.FloatField(null=True)
    warning = fields.TextField(null=True)
    error = fields.TextField(null=True)
    host = fields.CharField(max_length=255)
    api_pid = fields.IntField()
    worker_pid = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    beat_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "optimization_runs"
