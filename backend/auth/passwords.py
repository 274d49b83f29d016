"""Password hashing with scrypt (a standard slow KDF, in the standard library), and the
password rules.

Stored form: `scrypt$n$r$p$salt_b64$hash_b64`, so parameters can be raised later and old
hashes still verify. scrypt costs ~30 ms of CPU and 16 MiB: callers on the event loop use
`hash_async` / `verify_async`, which run it in a thread (hashlib releases the GIL) and at most
`hashing_threads` at once, so a burst of logins queues here instead of stalling the loop.
`verify_unknown_async` spends the same work for an email that has no account, so response
time does not tell which emails exist.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import unicodedata
import weakref
from collections.abc import Callable
from functools import cache
from typing import Any

from backend.limits import get_limits

N, R, P, DKLEN = 2**14, 8, 1, 32
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=DKLEN)
    b64 = base64.b64encode
    return f"scrypt${N}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of `password` against a stored hash."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def password_problem(password: str) -> str | None:
    """Why `password` is not acceptable as a new password, or None.

    At least MIN_LENGTH characters that are not spaces, and no control characters (eight
    spaces, or eight NULs, are not a password)."""
    if any(unicodedata.category(c) == "Cc" for c in password):
        return "password: control characters are not allowed"
    if sum(not c.isspace() for c in password) < MIN_LENGTH:
        return f"password: at least {MIN_LENGTH} characters that are not spaces"
    return None


# one per event loop (a semaphore belongs to the loop it first waits on)
_semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary())


@cache
def _decoy_hash() -> str:
    return hash_password(base64.b64encode(os.urandom(12)).decode())


async def _in_thread[T](fn: Callable[..., T], *args: Any) -> T:
    loop = asyncio.get_running_loop()
    semaphore = _semaphores.get(loop)
    if semaphore is None:
        semaphore = _semaphores[loop] = asyncio.Semaphore(get_limits().hashing_threads)
    async with semaphore:
        return await asyncio.to_thread(fn, *args)


async def hash_async(password: str) -> str:
    """`hash_password` off the event loop."""
    return await _in_thread(hash_password, password)


async def verify_async(password: str, stored: str) -> bool:
    """`verify_password` off the event loop."""
    return await _in_thread(verify_password, password, stored)


async def verify_unknown_async(password: str) -> bool:
    """The work of a verification for an account that does not exist; always False."""
    await _in_thread(lambda: verify_password(password, _decoy_hash()))
    return False
