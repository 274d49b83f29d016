"""The GCP program under Pulumi's mocks: every resource and property that matters — region,
zone, machine type, image, Shielded VM, disk auto-delete, labels, no ingress, IAM bindings
limited to the bot's own secrets and wheel — and no secret in the instance's metadata, its
startup script or any label. A change to any of them fails here."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from infra.gcp.program import SCOPES, BotSpec, bot_program

TOKEN = "plb_SECRET-TOKEN-must-not-leak-7f3a"
DATA_KEY = "REFUSEDDATAKEYbase64must/not+leak0123456789="


class Mocks(pulumi.runtime.Mocks):
    """Records every resource the program registers; answers with its inputs plus the few
    outputs the cloud would compute."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        outputs = dict(args.inputs)
        if args.typ == "gcp:serviceaccount/account:Account":
            outputs["email"] = f"{args.inputs['accountId']}@proj-1.iam.gserviceaccount.com"
        if args.typ == "gcp:compute/instance:Instance":
            outputs["instanceId"] = "4242"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


@pytest.fixture(scope="module")
def resources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    wheel = tmp_path_factory.mktemp("wheel") / "plutarc-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel")
    spec = BotSpec(7, "proj-1", "asia-southeast1", "asia-southeast1-a", "e2-small",
                   "debian-cloud/debian-13", "https://api.example.com", TOKEN, DATA_KEY,
                   str(wheel), "ab" * 32)
    loop = asyncio.new_event_loop()  # Pulumi's mocks and test runner use the current loop
    asyncio.set_event_loop(loop)
    try:
        mocks = Mocks()
        pulumi.runtime.set_mocks(mocks, project="plutarc-bots", stack="bot-7", preview=False)

        @pulumi.runtime.test
        def run() -> None:
            bot_program(spec)()

        run()
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    by_type: dict[str, list[Any]] = {}
    for r in mocks.resources:
        by_type.setdefault(r.typ.split(":")[-1], []).append(r)
    return by_type


def _one(resources: dict[str, list[Any]], typ: str) -> dict[str, Any]:
    found = resources[typ]
    assert len(found) == 1, [r.name for r in found]
    return found[0].inputs


def test_the_instance_is_a_shielded_debian_vm_in_the_chosen_zone(resources) -> None:
    vm = _one(resources, "Instance")
    assert (vm["name"], vm["zone"], vm["machineType"]) == (
        "plutarc-bot-7", "asia-southeast1-a", "e2-small")
    assert vm["bootDisk"]["autoDelete"] is True
    assert vm["bootDisk"]["initializeParams"]["image"] == "debian-cloud/debian-13"
    assert vm["shieldedInstanceConfig"] == {
        "enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True}
    assert vm["labels"] == {"plutarc-bot": "7"}
    assert vm["serviceAccount"] == {
        "email": "plutarc-bot-7@proj-1.iam.gserviceaccount.com", "scopes": SCOPES}
    assert vm["networkInterfaces"] == [{"network": "plutarc-bot-7-net-id", "accessConfigs": [{}]}]
    assert "metadata" not in vm


def test_no_secret_is_in_metadata_startup_script_or_labels(resources) -> None:
    vm = _one(resources, "Instance")
    script = vm["metadataStartupScript"]
    visible = json.dumps({k: v for k, v in vm.items()})
    for secret in (TOKEN, DATA_KEY):
        assert secret not in visible
        for kind in ("Secret", "Bucket", "Network", "Firewall", "Account"):
            for r in resources.get(kind, []):
                assert secret not in json.dumps(r.inputs)
    assert "gcloud secrets versions access latest --secret=plutarc-bot-7-token" in script
    assert "sha256sum --check" in script and "ab" * 32 in script
    assert "Restart=on-failure" in script and "--backend https://api.example.com" in script


def test_the_secrets_hold_the_token_and_data_key_readable_only_by_the_bot(resources) -> None:
    secrets = {r.inputs["secretId"]: r.inputs for r in resources["Secret"]}
    assert set(secrets) == {"plutarc-bot-7-token", "plutarc-bot-7-data-key"}
    for secret in secrets.values():
        assert secret["labels"] == {"plutarc-bot": "7"}
        assert secret["replication"] == {
            "userManaged": {"replicas": [{"location": "asia-southeast1"}]}}
    # the data is a secret output: Pulumi encrypts it in the state and masks it in logs
    data = [r.inputs["secretData"] for r in resources["SecretVersion"]]
    assert all(rpc.is_rpc_secret(d) for d in data)
    assert sorted(rpc.unwrap_rpc_secret(d) for d in data) == sorted([TOKEN, DATA_KEY])
    readers = resources["SecretIamMember"]
    assert sorted(r.inputs["secretId"] for r in readers) == sorted(secrets)
    for reader in readers:
        assert reader.inputs["role"] == "roles/secretmanager.secretAccessor"
        assert reader.inputs["member"] == "serviceAccount:plutarc-bot-7@proj-1.iam.gserviceaccount.com"


def test_the_service_account_has_no_role_beyond_its_secrets_and_wheel(resources) -> None:
    iam_kinds = {k for k in resources if "IAM" in k or "Iam" in k}
    assert iam_kinds == {"SecretIamMember", "BucketIAMMember"}
    wheel_reader = _one(resources, "BucketIAMMember")
    assert wheel_reader["role"] == "roles/storage.objectViewer"
    assert wheel_reader["bucket"] == "proj-1-plutarc-bot-7"
    bucket = _one(resources, "Bucket")
    assert bucket["location"] == "asia-southeast1" and bucket["forceDestroy"] is True
    assert _one(resources, "BucketObject")["name"] == "plutarc-0.1.0-py3-none-any.whl"


def test_no_ingress_is_allowed(resources) -> None:
    assert _one(resources, "Network")["autoCreateSubnetworks"] is True
    rule = _one(resources, "Firewall")
    assert (rule["direction"], rule["priority"], rule["sourceRanges"]) == (
        "INGRESS", 0, ["0.0.0.0/0"])
    assert rule["denies"] == [{"protocol": "all"}] and "allows" not in rule
