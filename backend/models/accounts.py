"""Who can call the backend: users, their login sessions, failed logins, and bot tokens."""

from tortoise import fields
from tortoise.models import Model


class User(Model):
    """A trader's account. The password is kept only as a scrypt hash."""

    id = fields.BigIntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    password_hash = fields.CharField(max_length=255)
    display_name = fields.CharField(max_length=100, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class Session(Model):
    """A login session; only the SHA-256 of its opaque token is stored."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("plutarc.User", related_name="sessions", on_delete=fields.CASCADE)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sessions"


class LoginFailure(Model):
    """One failed login, counted per account and per client address for rate limiting."""

    id = fields.BigIntField(primary_key=True)
    email = fields.CharField(max_length=254, db_index=True)
    client = fields.CharField(max_length=64, db_index=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "login_failures"


class BotToken(Model):
    """A token scoped to one bot; a new deployment revokes the previous one."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="tokens", on_delete=fields.CASCADE)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "bot_tokens"
