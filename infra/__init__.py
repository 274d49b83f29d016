"""Provisioning of bot instances: the Pulumi (pulumi-gcp) program and deployment providers."""
