"""Envelope encryption of exchange API secrets (AES-256-GCM from `cryptography`).

Each API key gets its own random 256-bit data key. The secret is encrypted under the data key
(`seal_secret`); the data key is encrypted ("wrapped") under the master key. Only ciphertexts
are stored. The bot receives the sealed secret through `bot:config` and the data key from its
deployment provider (environment or file), and opens the secret with `open_secret`; the master
key never leaves the backend.

Master key: `PLUTARC_MASTER_KEY` (base64 of 32 bytes), else the file `PLUTARC_MASTER_KEY_FILE`
(default `<data_dir>/master.key`), created on first use with mode 0600.
Layout of every sealed value: 12-byte nonce || ciphertext+tag.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.config import get_settings

NONCE_BYTES = 12
KEY_BYTES = 32
SECRET_AAD = b"plutarc:api-secret:v1"
DATA_KEY_AAD = b"plutarc:data-key:v1"


class MasterKeyError(RuntimeError):
    """The master key is missing, malformed, or not the one a ciphertext was wrapped with."""


@dataclass(frozen=True)
class MasterKey:
    """The key that wraps data keys, and its public fingerprint (`key_id`)."""

    key: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"plutarc-master:" + self.key).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id})"


@dataclass(frozen=True)
class SealedKey:
    """What is stored for one API key: the sealed secret and the wrapped data key."""

    secret_ciphertext: bytes
    wrapped_data_key: bytes
    master_key_id: str


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)


def master_key_path() -> Path:
    if env := os.environ.get("PLUTARC_MASTER_KEY_FILE"):
        return Path(env)
    return get_settings().data_dir / "master.key"


def _decode(text: str, origin: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise MasterKeyError(f"{origin} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"{origin} must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


def _load_or_create(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: read theirs
        else:
            with os.fdopen(fd, "w") as f:
                f.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")
    return _decode(path.read_text(), f"master key file {path}")


_cache: dict[str, MasterKey] = {}


def master_key() -> MasterKey:
    """The master key from the environment or the key file (created on first use, 0600)."""
    if env := os.environ.get("PLUTARC_MASTER_KEY"):
        return MasterKey(_decode(env, "PLUTARC_MASTER_KEY"))
    path = str(master_key_path())
    if path not in _cache:
        _cache[path] = MasterKey(_load_or_create(Path(path)))
    return _cache[path]


def seal_new_secret(secret: str, master: MasterKey | None = None) -> SealedKey:
    """Encrypt `secret` under a fresh data key and wrap that key with the master key."""
    master = master or master_key()
    data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
    return SealedKey(
        secret_ciphertext=_seal(data_key, secret.encode(), SECRET_AAD),
        wrapped_data_key=_seal(master.key, data_key, DATA_KEY_AAD),
        master_key_id=master.key_id,
    )


def unwrap(wrapped_data_key: bytes, master_key_id: str, master: MasterKey | None = None) -> bytes:
    """The data key inside `wrapped_data_key` (for the deployment provider only)."""
    master = master or master_key()
    if master.key_id != master_key_id:
        raise MasterKeyError(
            f"this API key was encrypted under master key {master_key_id}, "
            f"but the configured master key is {master.key_id}"
        )
    return _open(master.key, wrapped_data_key, DATA_KEY_AAD)


def open_secret(sealed_secret_b64: str, data_key: bytes) -> str:
    """The bot's side: the API secret from `bot:config`'s `wrapped_secret` and its data key."""
    return _open(data_key, base64.b64decode(sealed_secret_b64), SECRET_AAD).decode()
