"""Deterministic identifiers (order ids, execution ids) drawn from a seeded generator, so the
same seed and the same requests produce the same ids."""

from __future__ import annotations

import random
import uuid


class IdSource:
    """UUID-shaped ids from a seeded stream."""

    def __init__(self, seed: int, name: str) -> None:
        self._rng = random.Random(f"{name}:{seed}")

    def next_uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
