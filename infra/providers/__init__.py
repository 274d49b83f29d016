"""Deployment providers: where a bot instance runs. ``local`` (a process on this machine) is
the default; ``gcp`` (infra/gcp, a Pulumi stack per bot) plugs in behind the same interface
(`infra.providers.base.Provider`)."""

from infra.providers.base import Backend, Launch, Provider, ProviderUnavailable
from infra.providers.local import LocalProvider

__all__ = ["Backend", "Launch", "LocalProvider", "Provider", "ProviderUnavailable"]
