"""TOTP second factor storage: the secret sealed at rest like exchange secrets (AES-GCM
envelope, backend/crypto.py), opened only to check a code. A credential is pending until
a first valid code enables it."""

from __future__ import annotations

import base64
from typing import Any

from backend.auth import totp
from backend.crypto import open_secret, seal_new_secret, unwrap
from backend.runtime.executor import Executor


async def start(db: Executor, user_id: int) -> str:
    """A new pending secret for the user (replacing a pending one); returns it."""
    secret = totp.new_secret()
    sealed = seal_new_secret(secret)
    await db.execute(
        "INSERT INTO totp_credentials (user_id, secret_ciphertext, wrapped_data_key, "
        "master_key_id, enabled_at, last_step) VALUES ($1, $2, $3, $4, NULL, 0) "
        "ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = EXCLUDED.secret_ciphertext, "
        "wrapped_data_key = EXCLUDED.wrapped_data_key, master_key_id = EXCLUDED.master_key_id, "
        "enabled_at = NULL, last_step = 0",
        user_id, sealed.secret_ciphertext, sealed.wrapped_data_key, sealed.master_key_id)
    return secret


async def credential(db: Executor, user_id: int) -> dict[str, Any] | None:
    return await db.fetchrow(
        "SELECT secret_ciphertext, wrapped_data_key, master_key_id, enabled_at, last_step "
        "FROM totp_credentials WHERE user_id = $1", user_id)


async def is_enabled(db: Executor, user_id: int) -> bool:
    row = await credential(db, user_id)
    return row is not None and row["enabled_at"] is not None


async def accept(db: Executor, user_id: int, code: str, enable: bool = False) -> bool:
    """Check `code` against the user's secret (enabled, or pending when `enable`); on success
    remember its step (no replay) and, with `enable`, turn the factor on."""
    row = await credential(db, user_id)
    if row is None or (row["enabled_at"] is None) != enable:
        return False
    data_key = unwrap(bytes(row["wrapped_data_key"]), row["master_key_id"])
    secret = open_secret(base64.b64encode(bytes(row["secret_ciphertext"])).decode(), data_key)
    step = totp.accepted_step(secret, code, row["last_step"])
    if step is None:
        return False
    await db.execute(
        "UPDATE totp_credentials SET last_step = $2, "
        "enabled_at = coalesce(enabled_at, now()) WHERE user_id = $1", user_id, step)
    return True


async def remove(db: Executor, user_id: int) -> None:
    await db.execute("DELETE FROM totp_credentials WHERE user_id = $1", user_id)
