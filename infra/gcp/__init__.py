"""The `gcp` provider: one Pulumi stack per bot (pulumi-gcp, driven by the Automation API
with an inline program): a Compute Engine instance, its service account, its secrets."""
