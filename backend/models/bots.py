"""Bots: a user's strategy deployed against an exchange account, their connection state,
deployments and event log."""

from tortoise import fields
from tortoise.models import Model


class Bot(Model):
    """A trading bot owned by one user; `lifecycle` moves only as backend/domain/lifecycle.py
    allows, `desired_state` is what the bot obeys."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("plutarc.User", related_name="bots", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    strategy = fields.ForeignKeyField(
        "plutarc.Strategy", related_name="bots", on_delete=fields.RESTRICT, null=True
    )
    strategy_version = fields.IntField(default=1)
    symbol = fields.CharField(max_length=30, default="")
    api_key = fields.ForeignKeyField(
        "plutarc.ApiKey", related_name="bots", on_delete=fields.SET_NULL, null=True
    )
    region = fields.CharField(max_length=64, default="local")
    provider = fields.CharField(max_length=16, default="local")
    lifecycle = fields.CharField(max_length=16, default="stopped")
    desired_state = fields.CharField(max_length=8, default="stop")
    close_positions = fields.BooleanField(default=True)
    error_message = fields.TextField(null=True)
    updated_at = fields.DatetimeField(auto_now_add=True)
    # set by bots:remove: the configuration is gone from every list; trades stay readable
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "bots"


class BotConnection(Model):
    """Heartbeat-derived connection state, one row per bot (kept apart from `bots` so that
    heartbeats do not re-run every query that reads a bot's configuration)."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField(
        "plutarc.Bot", related_name="connection", on_delete=fields.CASCADE, unique=True
    )
    user = fields.ForeignKeyField(
        "plutarc.User", related_name="bot_connections", on_delete=fields.CASCADE
    )
    status = fields.CharField(max_length=16, default="never")
    connected_since = fields.DatetimeField(null=True)
    last_seen_at = fields.DatetimeField(null=True)
    heartbeat_report_id = fields.CharField(max_length=100, null=True)
    heartbeat_at = fields.DatetimeField(null=True)
    positions_report_id = fields.CharField(max_length=100, null=True)
    positions_at = fields.DatetimeField(null=True)
    exchange_latency_ms = fields.IntField(null=True)

    class Meta:
        table = "bot_connections"


class Deployment(Model):
    """One start of a bot on a provider: where, which instance, when, and how it ended."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="deployments", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField(
        "plutarc.User", related_name="deployments", on_delete=fields.CASCADE
    )
    region = fields.CharField(max_length=64)
    provider = fields.CharField(max_length=16)
    instance_id = fields.CharField(max_length=200, null=True)
    started_at = fields.DatetimeField(auto_now_add=True)
    ended_at = fields.DatetimeField(null=True)
    outcome = fields.CharField(max_length=16, null=True)
    detail = fields.TextField(null=True)

    class Meta:
        table = "deployments"


class BotEvent(Model):
    """The bot's event log (lifecycle changes, deployments, connection, bot-reported events);
    `report_id` is set for events the bot reported."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="events", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("plutarc.User", related_name="bot_events", on_delete=fields.CASCADE)
    report_id = fields.CharField(max_length=100, null=True)
    kind = fields.CharField(max_length=32)
    level = fields.CharField(max_length=8, default="info")
    message = fields.TextField()
    data = fields.JSONField(null=True)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bot_events"
        unique_together = (("bot", "report_id"),)
        indexes = (("user_id", "id"),)
