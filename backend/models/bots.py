"""Bots: a user's strategy deployed against an exchange account."""

from tortoise import fields
from tortoise.models import Model


class Bot(Model):
    """A trading bot owned by one user."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("plutarc.User", related_name="bots", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bots"
