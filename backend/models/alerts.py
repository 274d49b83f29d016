"""Alerts' tables: in-app notifications and each user's optional webhook
(backend/domain/alerts.py owns the rules; backend/functions/alerts.py the functions)."""

from tortoise import fields
from tortoise.models import Model


class Notification(Model):
    """One alert for a user. `read_at` is null until read. `webhook_state`: null (no webhook
    when raised), `pending` (to be queued by `alerts:dispatch`), `queued`, `delivered`."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("plutarc.User", related_name="notifications",
                                  on_delete=fields.CASCADE)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="notifications",
                                 on_delete=fields.CASCADE, null=True)
    kind = fields.CharField(max_length=32)
    level = fields.CharField(max_length=8)
    message = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)
    webhook_state = fields.CharField(max_length=16, null=True)

    class Meta:
        table = "notifications"
        indexes = (("user_id", "id"), ("webhook_state",))


class AlertSettings(Model):
    """A user's webhook: where alerts are POSTed and the secret that signs them (never
    returned after `alerts:setWebhook` answered it once)."""

    id = fields.BigIntField(primary_key=True)
    user = fields.OneToOneField("plutarc.User", related_name="alert_settings",
                                on_delete=fields.CASCADE)
    webhook_url = fields.CharField(max_length=2000, null=True)
    webhook_secret = fields.CharField(max_length=100, null=True)

    class Meta:
        table = "alert_settings"
