"""What an operator sets for the `gcp` provider, read from the environment.

| variable | meaning | default |
| --- | --- | --- |
| `GOOGLE_CLOUD_PROJECT` | the project bots run in | required |
| `GOOGLE_APPLICATION_CREDENTIALS` | service-account key file (or any ADC) | ADC |
| `PLUTARC_GCP_API_URL` | the backend URL instances reach (public HTTPS) | required |
| `PLUTARC_PULUMI_BACKEND` | Pulumi state: `file://…` or `gs://bucket` | `file://<data dir>/pulumi` |
| `PULUMI_CONFIG_PASSPHRASE` | encrypts secrets in the state (file/gs backends) | required |
| `PLUTARC_GCP_MACHINE_TYPE` | machine type | `e2-small` |
| `PLUTARC_GCP_IMAGE` | boot image (needs Python 3.13) | `debian-cloud/debian-13` |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MACHINE_TYPE = "e2-small"
DEFAULT_IMAGE = "debian-cloud/debian-13"


@dataclass(frozen=True)
class GcpConfig:
    project: str | None
    api_url: str | None
    state_backend: str
    machine_type: str = DEFAULT_MACHINE_TYPE
    image: str = DEFAULT_IMAGE

    @classmethod
    def from_env(cls, data_dir: Path) -> GcpConfig:
        env = os.environ
        return cls(
            project=env.get("GOOGLE_CLOUD_PROJECT") or None,
            api_url=env.get("PLUTARC_GCP_API_URL") or None,
            state_backend=env.get("PLUTARC_PULUMI_BACKEND")
            or f"file://{Path(data_dir).resolve() / 'pulumi'}",
            machine_type=env.get("PLUTARC_GCP_MACHINE_TYPE") or DEFAULT_MACHINE_TYPE,
            image=env.get("PLUTARC_GCP_IMAGE") or DEFAULT_IMAGE,
        )

    def missing(self) -> list[str]:
        """The settings an operator still has to give."""
        wanted = {"GOOGLE_CLOUD_PROJECT": self.project, "PLUTARC_GCP_API_URL": self.api_url,
                  "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE")}
        return [name for name, value in wanted.items() if not value]
