"""The bot lifecycle state machine: which transitions are allowed, and what a desired state
asks of the lifecycle.

    provisioning → deploying → online ⇄ paused → stopping → stopped → provisioning (redeploy)
    error from any state; error → provisioning | stopping | stopped

Pure: no I/O. Functions raise `IllegalTransition` (a 409 at the API) with a message a trader
can act on.
"""

from __future__ import annotations

from typing import Literal

Lifecycle = Literal["provisioning", "deploying", "online", "paused", "stopping", "stopped", "error"]
Desired = Literal["run", "pause", "stop"]

STATES: tuple[str, ...] = (
    "provisioning", "deploying", "online", "paused", "stopping", "stopped", "error",
)
ALLOWED: dict[str, frozenset[str]] = {
    "provisioning": frozenset({"deploying", "stopping", "stopped", "error"}),
    "deploying": frozenset({"online", "paused", "stopping", "error"}),
    "online": frozenset({"paused", "stopping", "error"}),
    "paused": frozenset({"online", "stopping", "error"}),
    "stopping": frozenset({"stopped", "error"}),
    "stopped": frozenset({"provisioning", "error"}),
    "error": frozenset({"provisioning", "stopping", "stopped"}),
}
ACTIVE: frozenset[str] = frozenset({"provisioning", "deploying", "online", "paused", "stopping"})


class IllegalTransition(ValueError):
    """A lifecycle change the state machine does not allow."""


def check(current: str, target: str) -> str:
    """`target` if the move current → target is allowed; else IllegalTransition."""
    if target not in ALLOWED:
        raise IllegalTransition(f"unknown lifecycle state {target!r}")
    if target not in ALLOWED.get(current, frozenset()):
        allowed = ", ".join(sorted(ALLOWED.get(current, ()))) or "nothing"
        raise IllegalTransition(
            f"a bot cannot go from {current} to {target} (from {current} it may go to {allowed})"
        )
    return target


def for_desired(current: str, desired: str, deployed: bool) -> str | None:
    """The lifecycle state that desired state `desired` moves a bot in `current` to, or None
    when the lifecycle stays as it is. `deployed`: the bot has an open deployment."""
    if desired == "run":
        if current == "paused":
            return "online"
        if current in ("stopped", "error"):
            return "provisioning"
        if current == "stopping":
            raise IllegalTransition("the bot is stopping: wait until it has stopped, then run it")
        return None
    if desired == "pause":
        if current == "online":
            return "paused"
        if current in ("stopping", "stopped", "error"):
            raise IllegalTransition(f"cannot pause a bot that is {current}: run it first")
        return None
    if desired == "stop":
        if current in ("stopped", "stopping"):
            return None
        if current == "error" or not deployed:
            return "stopped"
        return "stopping"
    raise IllegalTransition(f"unknown desired state {desired!r}")


def on_heartbeat(current: str, desired: str) -> str | None:
    """A heartbeat from a deploying bot means it is up: online, or paused if asked to pause."""
    if current == "deploying":
        return "paused" if desired == "pause" else "online"
    return None
