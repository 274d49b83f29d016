"""Deployment providers: where a bot instance runs. ``local`` (a process on this machine) is
the default; ``gcp`` (the Pulumi program in infra/) plugs in behind the same interface
(`infra.providers.base.Provider`)."""

from infra.providers.base import Backend, Deployment, Provider
from infra.providers.local import LocalProvider

__all__ = ["Backend", "Deployment", "LocalProvider", "Provider"]
