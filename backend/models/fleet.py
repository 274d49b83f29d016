"""What the deployment supervisors share through the database: who acts on which bot (claims),
the exchange latency bots measured (samples) and its per-region roll-up."""

from tortoise import fields
from tortoise.models import Model


class BotClaim(Model):
    """A supervisor's lease on one bot: only the holder deploys, restarts or stops it.

    Invariant: at most one row per bot (UNIQUE bot_id); a claim whose `until` is past may be
    taken by any supervisor, a live one only by its holder (who renews it while it acts)."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField(
        "plutarc.Bot", related_name="claim", on_delete=fields.CASCADE, unique=True
    )
    supervisor = fields.CharField(max_length=64)
    until = fields.DatetimeField()

    class Meta:
        table = "bot_claims"


class LatencySample(Model):
    """One heartbeat's round trip to the exchange, kept an hour for the regional roll-up."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField(
        "plutarc.Bot", related_name="latency_samples", on_delete=fields.CASCADE
    )
    provider = fields.CharField(max_length=16)
    region = fields.CharField(max_length=64)
    exchange = fields.CharField(max_length=32)
    latency_ms = fields.IntField()
    at = fields.DatetimeField()

    class Meta:
        table = "latency_samples"
        indexes = (("at",),)


class RegionLatency(Model):
    """Measured exchange latency per (provider, region, exchange) over the recent window,
    written by the `regions:rollup` cron (a query cannot read the clock)."""

    id = fields.BigIntField(primary_key=True)
    provider = fields.CharField(max_length=16)
    region = fields.CharField(max_length=64)
    exchange = fields.CharField(max_length=32)
    p50_ms = fields.FloatField()
    p95_ms = fields.FloatField()
    samples = fields.IntField()
    bots = fields.IntField()
    window_s = fields.IntField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "region_latency"
        unique_together = (("provider", "region", "exchange"),)
