"""Strategy templates and their immutable versions (the template JSON is the engine's schema)."""

from tortoise import fields
from tortoise.models import Model


class Strategy(Model):
    """A user's strategy; `version` is its newest version. Removing it archives it."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField(
        "plutarc.User", related_name="strategies", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    symbol = fields.CharField(max_length=30)
    timeframe = fields.CharField(max_length=8)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now_add=True)
    archived_at = fields.DatetimeField(null=True)

    class Meta:
        table = "strategies"


class StrategyVersion(Model):
    """One saved, validated template of a strategy; never changed once written."""

    id = fields.BigIntField(primary_key=True)
    strategy = fields.ForeignKeyField(
        "plutarc.Strategy", related_name="versions", on_delete=fields.CASCADE
    )
    user = fields.ForeignKeyField(
        "plutarc.User", related_name="strategy_versions", on_delete=fields.CASCADE
    )
    version = fields.IntField()
    template = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "strategy_versions"
        unique_together = (("strategy", "version"),)
