"""Who can call the backend: users, their login sessions, failed logins, known login
addresses, second factors (TOTP), and bot tokens."""

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


class LoginAddress(Model):
    """An address this user has logged in from: failures of strangers never lock it out."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("plutarc.User", related_name="login_addresses",
                                  on_delete=fields.CASCADE)
    client = fields.CharField(max_length=64)
    last_at = fields.DatetimeField()

    class Meta:
        table = "login_addresses"
        unique_together = (("user", "client"),)


class TotpCredential(Model):
    """A user's TOTP secret (RFC 6238), sealed like exchange secrets (backend/crypto.py).
    Pending until `enabled_at` is set by a first valid code; `last_step` refuses replays."""

    id = fields.BigIntField(primary_key=True)
    user = fields.OneToOneField("plutarc.User", related_name="totp", on_delete=fields.CASCADE)
    secret_ciphertext = fields.BinaryField()
    wrapped_data_key = fields.BinaryField()
    master_key_id = fields.CharField(max_length=16)
    enabled_at = fields.DatetimeField(null=True)
    last_step = fields.BigIntField(default=0)

    class Meta:
        table = "totp_credentials"


class BotToken(Model):
    """A token scoped to one bot; a new deployment revokes the previous one."""

    id = fields.BigIntField(primary_key=True)
    bot = fields.ForeignKeyField("plutarc.Bot", related_name="tokens", on_delete=fields.CASCADE)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "bot_tokens"
