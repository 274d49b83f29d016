"""The rate-limit headroom of each exchange account (API key), as its bots last saw it
(`X-Bapi-Limit-Status` per endpoint, reported with their heartbeats)."""

from tortoise import fields
from tortoise.models import Model


class RateHeadroom(Model):
    """Requests left (`remaining` of `window_limit` per window) on one endpoint of one key's account,
    from the latest heartbeat that reported it (`at`, by `bot`)."""

    id = fields.BigIntField(primary_key=True)
    api_key = fields.ForeignKeyField("plutarc.ApiKey", related_name="headroom",
                                     on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("plutarc.User", related_name="headroom",
                                  on_delete=fields.CASCADE)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="headroom", on_delete=fields.CASCADE)
    path = fields.CharField(max_length=100)
    remaining = fields.IntField()
    window_limit = fields.IntField()
    at = fields.DatetimeField()

    class Meta:
        table = "rate_headroom"
        unique_together = (("api_key", "path"),)
