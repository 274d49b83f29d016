"""The bot opens exactly what the backend sealed, and nothing else."""

from __future__ import annotations

import base64
import secrets

import pytest

from backend import crypto
from bot.secrets import SecretError, from_env, open_secret, parse_data_key


def _sealed(secret: str) -> tuple[str, str]:
    master = crypto.MasterKey(secrets.token_bytes(32))
    sealed = crypto.seal_new_secret(secret, master)
    data_key = crypto.unwrap(sealed.wrapped_data_key, sealed.master_key_id, master)
    return (
        base64.b64encode(sealed.secret_ciphertext).decode(),
        base64.b64encode(data_key).decode(),
    )


def test_bot_opens_the_secret_the_backend_sealed() -> None:
    wrapped, key = _sealed("my-exchange-secret")
    assert open_secret(wrapped, parse_data_key(key)) == "my-exchange-secret"


def test_another_keys_data_key_is_refused_without_revealing_anything() -> None:
    wrapped, _ = _sealed("my-exchange-secret")
    _, other = _sealed("another")
    with pytest.raises(SecretError) as err:
        open_secret(wrapped, parse_data_key(other))
    assert "my-exchange-secret" not in str(err.value) and other not in str(err.value)


def test_a_tampered_secret_is_refused() -> None:
    wrapped, key = _sealed("my-exchange-secret")
    raw = bytearray(base64.b64decode(wrapped))
    raw[-1] ^= 1
    with pytest.raises(SecretError):
        open_secret(base64.b64encode(bytes(raw)).decode(), parse_data_key(key))


def test_malformed_data_keys_are_refused() -> None:
    for text in ("not base64!!", base64.b64encode(b"short").decode()):
        with pytest.raises(SecretError):
            parse_data_key(text)


def test_values_come_from_the_environment_or_a_file(tmp_path) -> None:
    path = tmp_path / "token"
    path.write_text("tok-from-file\n")
    assert from_env("X", {"X": "tok"}) == "tok"
    assert from_env("X", {"X_FILE": str(path)}) == "tok-from-file"
    assert from_env("X", {}) is None
    with pytest.raises(SecretError):
        from_env("X", {"X_FILE": str(tmp_path / "missing")})
