"""The decision journal's table: one compact record per bot and closed candle
(`strategy/journal.py` defines the record; kept as long as signal states, retention.py)."""

from tortoise import fields
from tortoise.models import Model


class DecisionRecord(Model):
    """Why one candle did or did not trade; `record` is `JournalRecord.to_json()` and
    `outcome` its outcome, a column so a timeline can be filtered by it."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="decisions", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("plutarc.User", related_name="decisions",
                                  on_delete=fields.CASCADE)
    candle_at = fields.DatetimeField()
    outcome = fields.CharField(max_length=64)
    record = fields.JSONField()

    class Meta:
        table = "decisions"
        unique_together = (("bot", "candle_at"),)
