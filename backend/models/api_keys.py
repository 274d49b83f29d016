"""Exchange API keys (secret encrypted at rest, see backend/crypto.py) and exchange endpoints."""

from tortoise import fields
from tortoise.models import Model


class ApiKey(Model):
    """A user's exchange API key. `secret_ciphertext` is nonce + AES-GCM ciphertext of the
    secret under a per-key data key; `wrapped_data_key` is that data key wrapped by the master
    key identified by `master_key_id` (a fingerprint, not the key)."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("plutarc.User", related_name="api_keys", on_delete=fields.CASCADE)
    exchange = fields.CharField(max_length=32)
    label = fields.CharField(max_length=100)
    api_key = fields.CharField(max_length=200)
    key_last4 = fields.CharField(max_length=4)
    testnet = fields.BooleanField(default=False)
    secret_ciphertext = fields.BinaryField()
    wrapped_data_key = fields.BinaryField()
    master_key_id = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "api_keys"


class ExchangeEndpoint(Model):
    """Where an exchange is reached (overrides the built-in Bybit URLs; required for `local`)."""

    id = fields.BigIntField(primary_key=True)
    exchange = fields.CharField(max_length=32)
    testnet = fields.BooleanField(default=False)
    rest_url = fields.CharField(max_length=500)
    ws_public_url = fields.CharField(max_length=500)
    ws_private_url = fields.CharField(max_length=500)
    ca_pem = fields.TextField(null=True)
    updated_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "exchange_endpoints"
        unique_together = (("exchange", "testnet"),)
