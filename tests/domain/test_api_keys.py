"""Exchange API keys: encrypted at rest under envelope keys, never returned, and protected
from deletion while a bot uses them."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from backend import crypto
from backend.domain.keys import unwrap_data_key
from tests.domain.conftest import SECRET, World, sql


def test_the_dashboard_sees_label_exchange_testnet_and_last_four(world: World) -> None:
    api, token = world.api, world.a.token
    added = api.m("apiKeys:add", {"exchange": "bybit", "label": "main", "api_key": "AbCdEf123456",
                                  "api_secret": SECRET, "testnet": True}, token)
    assert added == {"id": added["id"], "exchange": "bybit", "label": "main", "testnet": True,
                     "key_last4": "3456", "created_at": added["created_at"]}
    listed = api.q("apiKeys:list", token=token)
    assert added in listed and all("secret" not in str(k) for k in listed)


def test_the_secret_is_stored_only_encrypted_and_opens_with_the_data_key(world: World) -> None:
    row = sql(world.dsn, "SELECT * FROM api_keys WHERE id = $1", world.a.api_key_id)[0]
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row.values())
    assert SECRET.encode() not in stored
    config = world.api.q("bot:config", token=world.a.bot_token)
    import asyncio

    import asyncpg

    async def data_key() -> bytes:
        conn = await asyncpg.connect(world.dsn)
        try:
            return await unwrap_data_key(conn, world.a.api_key_id)
        finally:
            await conn.close()

    key = asyncio.run(data_key())
    assert crypto.open_secret(config["exchange"]["wrapped_secret"], key) == SECRET
    other = sql(world.dsn, "SELECT wrapped_data_key FROM api_keys WHERE id = $1",
                world.b.api_key_id)[0]["wrapped_data_key"]
    assert bytes(other) != bytes(row["wrapped_data_key"])  # one data key per API key


def test_a_master_key_file_is_created_once_with_mode_0600(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state" / "master.key"
    monkeypatch.setenv("PLUTARC_MASTER_KEY_FILE", str(path))
    monkeypatch.delenv("PLUTARC_MASTER_KEY", raising=False)
    first = crypto.master_key()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    crypto._cache.clear()
    assert crypto.master_key() == first  # read back, not regenerated
    sealed = crypto.seal_new_secret("s3cret", first)
    assert crypto.unwrap(sealed.wrapped_data_key, sealed.master_key_id, first)


def test_a_key_sealed_under_another_master_key_is_refused_clearly(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUTARC_MASTER_KEY", base64.b64encode(b"k" * 32).decode())
    sealed = crypto.seal_new_secret("s3cret")
    monkeypatch.setenv("PLUTARC_MASTER_KEY", base64.b64encode(b"m" * 32).decode())
    with pytest.raises(crypto.MasterKeyError, match="encrypted under master key"):
        crypto.unwrap(sealed.wrapped_data_key, sealed.master_key_id)
    monkeypatch.setenv("PLUTARC_MASTER_KEY", "not base64!")
    with pytest.raises(crypto.MasterKeyError, match="base64"):
        crypto.master_key()


def test_deleting_a_key_used_by_a_running_bot_is_refused(world: World) -> None:
    api, token = world.api, world.a.token
    key = api.m("apiKeys:add", {"exchange": "local", "label": "spare", "api_key": "SPARE-0001",
                                "api_secret": SECRET}, token)
    bot = api.m("bots:create", {"name": "spare-bot", "strategy_id": world.a.strategy_id,
                                "api_key_id": key["id"]}, token)
    refused = api.call("mutation", "apiKeys:remove", {"api_key_id": key["id"]}, token)
    assert refused.status_code == 409
    assert "'spare-bot'" in refused.json()["error"]["message"]
    assert key in api.q("apiKeys:list", token=token)
    api.m("bots:setDesiredState", {"bot_id": bot["id"], "state": "stop"}, token)
    assert api.m("apiKeys:remove", {"api_key_id": key["id"]}, token) == {"ok": True}
    assert api.q("bots:get", {"bot_id": bot["id"]}, token)["api_key_id"] is None
    again = api.call("mutation", "bots:setDesiredState", {"bot_id": bot["id"], "state": "run"},
                     token)
    assert again.status_code == 409 and "API key" in again.json()["error"]["message"]


def test_bad_key_arguments_are_400_without_echoing_the_secret(world: World) -> None:
    response = world.api.call("mutation", "apiKeys:add", {
        "exchange": "binance", "label": "x", "api_key": "ABCD1234", "api_secret": SECRET},
        world.a.token)
    assert response.status_code == 400 and response.json()["error"]["field"] == "exchange"
    long_secret = world.api.call("mutation", "apiKeys:add", {
        "exchange": "bybit", "label": "x", "api_key": "ABCD1234", "api_secret": SECRET * 40},
        world.a.token)
    assert long_secret.status_code == 400 and SECRET not in long_secret.text
