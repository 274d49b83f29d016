"""opposite_signal: exit when the combined score crosses the threshold against the position."""

from __future__ import annotations

from strategy.components.base import ComponentType

OPPOSITE_SIGNAL = ComponentType(
    type="opposite_signal",
    kind="exit",
    description="Exits at market when the combined signal would enter the other side "
    "(whether or not that side is enabled; sessions and filters do not apply to exits).",
    params=(),
    outputs=(),
)
