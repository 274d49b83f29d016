"""The Pulumi program of one bot on Google Cloud (`bot_program(spec)`, an inline program).

Per bot, everything labelled or named after it, so `pulumi destroy` leaves nothing:
- a service account with no project role: it may only read its own two secrets and the
  wheel in its own bucket;
- two Secret Manager secrets, the bot token and the data key; the instance reads them when
  its service starts, into the process's environment only (never in metadata, the startup
  script, labels or logs);
- a bucket holding the plutarc wheel the deployer built (plutarc is on no public index); the
  startup script installs it pinned by its SHA-256;
- a VPC network with no ingress (an explicit deny-all rule; egress stays open for the
  exchange and the backend);
- a Shielded VM (secure boot, vTPM, integrity monitoring) in the chosen region/zone, Debian,
  boot disk deleted with the instance, running the bot under systemd with restart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
WORKDIR = "/var/lib/plutarc-bot"


@dataclass(frozen=True)
class BotSpec:
    bot_id: int
    project: str
    region: str
    zone: str
    machine_type: str
    image: str
    api_url: str
    token: str
    data_key: str
    wheel_path: str
    wheel_sha256: str

    @property
    def name(self) -> str:
        return f"plutarc-bot-{self.bot_id}"

    @property
    def wheel_name(self) -> str:
        return self.wheel_path.rsplit("/", 1)[-1]


def startup_script(spec: BotSpec, bucket: str, token_secret: str, key_secret: str) -> str:
    """Install the pinned wheel and run the bot under systemd. Holds secret *names* only."""
    wheel = spec.wheel_name
    return f"""#!/bin/bash
set -euo pipefail
apt-get update -q && apt-get install -yq python3-venv
install -d -m 0700 {WORKDIR} /opt/plutarc
gcloud storage cp gs://{bucket}/{wheel} /opt/plutarc/{wheel}
echo "{spec.wheel_sha256}  /opt/plutarc/{wheel}" | sha256sum --check --strict
python3 -m venv /opt/plutarc/venv
/opt/plutarc/venv/bin/pip install --quiet /opt/plutarc/{wheel}
cat > /opt/plutarc/run-bot <<'RUN'
#!/bin/bash
set -euo pipefail
export PLUTARC_BOT_TOKEN="$(gcloud secrets versions access latest --secret={token_secret})"
export PLUTARC_BOT_DATA_KEY="$(gcloud secrets versions access latest --secret={key_secret})"
exec /opt/plutarc/venv/bin/plutarc bot --backend {spec.api_url} --workdir {WORKDIR}
RUN
chmod 0700 /opt/plutarc/run-bot
cat > /etc/systemd/system/plutarc-bot.service <<'UNIT'
[Unit]
Description=plutarc bot {spec.bot_id}
After=network-online.target
Wants=network-online.target
[Service]
ExecStart=/opt/plutarc/run-bot
Restart=on-failure
RestartSec=5
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now plutarc-bot.service
"""


def _secret(spec: BotSpec, what: str, value: str, reader: pulumi.Output[str],
            labels: dict[str, str]) -> gcp.secretmanager.Secret:
    secret = gcp.secretmanager.Secret(
        f"{spec.name}-{what}", secret_id=f"{spec.name}-{what}", labels=labels,
        replication={"user_managed": {"replicas": [{"location": spec.region}]}},
    )
    gcp.secretmanager.SecretVersion(
        f"{spec.name}-{what}-v1", secret=secret.id, secret_data=pulumi.Output.secret(value))
    gcp.secretmanager.SecretIamMember(
        f"{spec.name}-{what}-reader", secret_id=secret.secret_id,
        role="roles/secretmanager.secretAccessor", member=reader)
    return secret


def bot_program(spec: BotSpec) -> Callable[[], None]:
    """The inline program creating one bot's resources (see the module docstring)."""

    def program() -> None:
        labels = {"plutarc-bot": str(spec.bot_id)}
        account = gcp.serviceaccount.Account(
            f"{spec.name}-sa", account_id=spec.name, display_name=f"plutarc bot {spec.bot_id}")
        reader = account.email.apply(lambda email: f"serviceAccount:{email}")
        token = _secret(spec, "token", spec.token, reader, labels)
        data_key = _secret(spec, "data-key", spec.data_key, reader, labels)
        bucket = gcp.storage.Bucket(
            f"{spec.name}-wheel", name=f"{spec.project}-{spec.name}", location=spec.region,
            uniform_bucket_level_access=True, force_destroy=True, labels=labels)
        gcp.storage.BucketObject(f"{spec.name}-wheel-object", bucket=bucket.name,
                                 name=spec.wheel_name, source=pulumi.FileAsset(spec.wheel_path))
        gcp.storage.BucketIAMMember(f"{spec.name}-wheel-reader", bucket=bucket.name,
                                    role="roles/storage.objectViewer", member=reader)
        network = gcp.compute.Network(f"{spec.name}-net", name=f"{spec.name}-net",
                                      auto_create_subnetworks=True)
        gcp.compute.Firewall(
            f"{spec.name}-no-ingress", name=f"{spec.name}-no-ingress", network=network.id,
            direction="INGRESS", priority=0, denies=[{"protocol": "all"}],
            source_ranges=["0.0.0.0/0"])
        script = pulumi.Output.all(bucket.name, token.secret_id, data_key.secret_id).apply(
            lambda names: startup_script(spec, *names))
        instance = gcp.compute.Instance(
            spec.name, name=spec.name, zone=spec.zone, machine_type=spec.machine_type,
            labels=labels,
            boot_disk={"auto_delete": True, "initialize_params": {"image": spec.image}},
            network_interfaces=[{"network": network.id, "access_configs": [{}]}],
            service_account={"email": account.email, "scopes": SCOPES},
            shielded_instance_config={"enable_secure_boot": True, "enable_vtpm": True,
                                      "enable_integrity_monitoring": True},
            metadata_startup_script=script,
            allow_stopping_for_update=True,
        )
        pulumi.export("instance_id", instance.instance_id)
        pulumi.export("instance_name", instance.name)
        pulumi.export("zone", instance.zone)

    return program
