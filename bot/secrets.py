"""The bot's side of the API-secret envelope: open the sealed exchange secret with the data key.

The backend seals each API secret under its own 256-bit data key (AES-256-GCM, associated
data ``plutarc:api-secret:v1``, layout ``12-byte nonce || ciphertext+tag``, base64 in
``bot:config``'s ``exchange.wrapped_secret``); the deployment provider hands the bot that data
key (base64) by environment or file. Nothing here logs or repeats a key or a secret: errors
say what is wrong, never with which value.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32
SECRET_AAD = b"plutarc:api-secret:v1"


class SecretError(RuntimeError):
    """A data key or sealed secret that cannot be used (missing, malformed or not matching)."""


def parse_data_key(text: str) -> bytes:
    """The 32-byte data key from its base64 text."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SecretError("the data key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise SecretError(f"the data key must be {KEY_BYTES} bytes, got {len(key)}")
    return key


def open_secret(wrapped_secret_b64: str, data_key: bytes) -> str:
    """The exchange API secret sealed in ``wrapped_secret_b64`` under ``data_key``."""
    try:
        sealed = base64.b64decode(wrapped_secret_b64, validate=True)
    except (binascii.Error, ValueError):
        raise SecretError("the sealed secret is not valid base64") from None
    if len(sealed) <= NONCE_BYTES:
        raise SecretError("the sealed secret is too short")
    try:
        plain = AESGCM(data_key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], SECRET_AAD)
    except (InvalidTag, ValueError):
        raise SecretError("the data key does not open this bot's API secret") from None
    return plain.decode()


def from_env(name: str, env: dict[str, str] | None = None) -> str | None:
    """``$NAME``, else the content of the file ``$NAME_FILE`` (stripped), else None."""
    env = os.environ if env is None else env
    if value := env.get(name):
        return value.strip()
    if path := env.get(f"{name}_FILE"):
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise SecretError(f"{name}_FILE: cannot read {path} ({exc.strerror})") from None
    return None
