"""Which bot versions this backend runs: a bot reports its version (the plutarc distribution
it was installed from) in every heartbeat; one from another release line is refused.

Rule: the same major and minor version (while the major is 0, a minor release may change the
bot protocol). A heartbeat without a version comes from a bot older than this check and is
accepted; a redeploy installs the backend's own version (local: this checkout; gcp: the wheel
the deployer builds from it).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def backend_version() -> str:
    try:
        return version("plutarc")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


def _line(text: str) -> tuple[str, ...]:
    return tuple(text.split(".")[:2])


def refusal(bot_version: str | None, backend: str | None = None) -> str | None:
    """None if a bot of `bot_version` may run here; else why not, for the trader."""
    backend = backend or backend_version()
    if bot_version is None or _line(bot_version) == _line(backend):
        return None
    side = "old" if _line(bot_version) < _line(backend) else "new"
    return (f"bot version {bot_version} is too {side} for this backend ({backend}, runs "
            f"{'.'.join(_line(backend))}.x): redeploy the bot to install the current version")
