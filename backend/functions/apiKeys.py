"""Exchange API keys (`apiKeys:*`): the secret is sealed on arrival (backend/crypto.py) and
no function ever returns it or its data key; the dashboard sees label, exchange, testnet and
the last four characters of the key id. `apiKeys:test` opens the secret in the backend only
to sign one read on the exchange (backend/domain/keycheck.py)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Literal, TypedDict

from pydantic import Field, SecretStr, StringConstraints

from backend import crypto
from backend.billing import limits
from backend.domain import exchanges, keycheck
from backend.runtime import Conflict, Ctx, Forbidden, Id, NotFound, Ok, action, mutation, query
from backend.runtime.args import PlainText

ApiKeyId = Id["api_keys"]

PUBLIC = "id, exchange, label, testnet, key_last4, created_at"
Exchange = Literal["bybit", "local"]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), PlainText]
KeyId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=200)]
Secret = Annotated[SecretStr, Field(min_length=1, max_length=500)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class ApiKeyRow(TypedDict):
    """What anyone ever sees of a stored key (never the secret)."""

    id: int
    exchange: str
    label: str
    testnet: bool
    key_last4: str
    created_at: datetime


@query
async def list_(ctx: Ctx) -> list[ApiKeyRow]:
    """The caller's API keys: label, exchange, testnet and the key id's last 4 characters."""
    user_id = ctx.auth.require_user()
    return await ctx.db.fetch(
        f"SELECT {PUBLIC} FROM api_keys WHERE user_id = $1 ORDER BY id", user_id
    )


@mutation
async def add(ctx: Ctx, exchange: Exchange, label: Label, api_key: KeyId, api_secret: Secret,
              testnet: bool = False) -> ApiKeyRow:
    """Store an exchange API key; the secret is encrypted under a fresh data key."""
    user_id = ctx.auth.require_user()
    await limits.check_key(ctx.db, user_id, exchange, testnet)
    sealed = crypto.seal_new_secret(api_secret.get_secret_value())
    row = await ctx.db.fetchrow(
        "INSERT INTO api_keys (user_id, exchange, label, api_key, key_last4, testnet, "
        "secret_ciphertext, wrapped_data_key, master_key_id, created_at) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now()) RETURNING {PUBLIC}",
        user_id, exchange, label, api_key, api_key[-4:], testnet,
        sealed.secret_ciphertext, sealed.wrapped_data_key, sealed.master_key_id,
    )
    assert row is not None
    return row  # type: ignore[return-value]


@mutation
async def remove(ctx: Ctx, api_key_id: ApiKeyId) -> Ok:
    """Delete an API key; refused while a bot that is not stopped uses it."""
    user_id = ctx.auth.require_user()
    key = await ctx.db.fetchrow(
        "SELECT id, label FROM api_keys WHERE id = $1 AND user_id = $2", api_key_id, user_id
    )
    if key is None:
        raise NotFound(f"no API key {api_key_id}", field="api_key_id")
    busy = await ctx.db.fetchrow(
        "SELECT name, lifecycle FROM bots WHERE api_key_id = $1 AND user_id = $2 "
        "AND lifecycle <> 'stopped' ORDER BY id LIMIT 1",
        api_key_id, user_id,
    )
    if busy:
        raise Conflict(
            f"API key {key['label']!r} is used by bot {busy['name']!r} ({busy['lifecycle']}): "
            "stop the bot before deleting its key",
            field="api_key_id",
        )
    await ctx.db.execute("DELETE FROM api_keys WHERE id = $1 AND user_id = $2", api_key_id, user_id)
    return {"ok": True}


@query(internal=True)
async def sealed(ctx: Ctx, api_key_id: ApiKeyId) -> dict[str, Any]:
    """For `apiKeys:test` only (internal): the caller's key with its sealed secret and where
    its exchange is reached."""
    user_id = ctx.auth.require_user()
    key = await ctx.db.fetchrow(
        "SELECT exchange, testnet, label, api_key, secret_ciphertext, wrapped_data_key, "
        "master_key_id FROM api_keys WHERE id = $1 AND user_id = $2", api_key_id, user_id,
    )
    if key is None:
        raise NotFound(f"no API key {api_key_id}", field="api_key_id")
    return {**key, "secret_ciphertext": base64.b64encode(bytes(key["secret_ciphertext"])).decode(),
            "wrapped_data_key": base64.b64encode(bytes(key["wrapped_data_key"])).decode(),
            "endpoint": await exchanges.endpoint(ctx.db, key["exchange"], key["testnet"])}


@action
async def test(ctx: Ctx, api_key_id: ApiKeyId) -> keycheck.KeyCheck:
    """Test connection: a signed read of the key's own settings on its exchange. Returns
    `{ok, message, warnings, read_only}`: whether it works (or the exchange's refusal in
    words) and warnings for withdraw permission or no IP restriction."""
    assert ctx.query is not None
    key = await ctx.query("apiKeys:sealed", {"api_key_id": api_key_id})
    where = f"{key['exchange']}{' testnet' if key['testnet'] else ''}"
    rest_url = key["endpoint"]["rest_url"]
    if not rest_url:
        return {"ok": False, "message": f"{where} has no known address (is the local exchange "
                "running?)", "warnings": [], "read_only": None}
    data_key = crypto.unwrap(base64.b64decode(key["wrapped_data_key"]), key["master_key_id"])
    secret = crypto.open_secret(key["secret_ciphertext"], data_key)
    return await keycheck.check(rest_url, key["endpoint"]["ca_pem"], where, key["api_key"],
                                secret)


@mutation(internal=True)
async def setExchangeEndpoint(
    ctx: Ctx, exchange: Exchange, rest_url: Url, ws_public_url: Url, ws_private_url: Url,
    ca_pem: str | None = None, testnet: bool = False,
) -> Ok:
    """Record where an exchange is reached (the local exchange's URLs and CA certificate)."""
    if ctx.auth.kind != "anonymous":
        raise Forbidden("only the system sets exchange endpoints")
    await exchanges.set_endpoint(
        ctx.db, exchange, rest_url, ws_public_url, ws_private_url, ca_pem, testnet
    )
    return {"ok": True}
