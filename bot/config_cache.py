"""The last bot config received from the backend, kept on disk so the bot can trade on it
while the backend is unreachable. Writes are atomic (temp file, fsync, rename, fsync of the
directory) and the file is readable by its owner only (0600)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class ConfigCacheError(Exception):
    """The cache file exists but cannot be read as a config."""


def save(path: str | Path, config: dict[str, Any]) -> None:
    """Atomically replace the cached config with ``config``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(config, fh, separators=(",", ":"), default=str)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load(path: str | Path) -> dict[str, Any] | None:
    """The cached config, or None when there is none yet."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return None
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise ConfigCacheError(f"{path}: not a config ({exc})") from None
    if not isinstance(config, dict):
        raise ConfigCacheError(f"{path}: not a config object")
    return config


def remove(path: str | Path) -> None:
    """Delete the cache (a stopped bot leaves nothing behind)."""
    Path(path).unlink(missing_ok=True)
