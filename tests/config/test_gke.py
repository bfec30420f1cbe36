"""The gke section: a valid GKE stack, release channels, authorized networks and zones."""

from __future__ import annotations

import json

import pytest

from components.config import StackConfig
from tests.config.support import parse, problems, with_budget


def test_gke_with_project_zones_and_networks_is_valid() -> None:
    cfg = StackConfig.parse(
        with_budget({
            "environment": "dev",
            "compute": {"kind": "gke"},
            "registry": {"kind": "artifact-registry"},
            "serving": {"cluster": "gke"},
            "gke": {"project": "mlops-dev-123456", "zones": ["us-central1-a"], "authorizedNetworks": ["198.51.100.0/24"]},
        }),
        project="mlops",
        stack="dev",
        aws_region="us-east-1",
    )
    assert cfg.gke.public_endpoint is False, "serving stays internal unless asked"
    assert cfg.gke.release_channel == "REGULAR"


@pytest.mark.parametrize("channel", ["RAPID", "REGULAR", "STABLE"])
def test_every_release_channel_is_accepted(channel: str) -> None:
    assert parse(gke={"releaseChannel": channel}).gke.release_channel == channel


@pytest.mark.parametrize(
    ("networks", "reason"),
    [
        (["2001:db8::/32"], "'2001:db8::/32' is IPv6; GKE authorized networks take IPv4 CIDRs"),
        (["198.51.100.0/24", "198.51.100.0/24"], "lists a network twice"),
    ],
)
def test_authorized_networks_refuse_these(networks: list[str], reason: str) -> None:
    assert problems(gke={"authorizedNetworks": networks}) == [
        f"mlops:gke.authorizedNetworks: {json.dumps(networks)} is invalid: {reason}"
    ]


def test_a_narrow_authorized_network_is_accepted() -> None:
    # Only /0 opens the control plane to everyone; /1 is a (huge) list of someone's networks.
    assert parse(gke={"authorizedNetworks": ["128.0.0.0/1"]}).gke.authorized_networks == ["128.0.0.0/1"]


@pytest.mark.parametrize(
    ("zones", "reason"),
    [
        (["us-central1-ab"], "must be zones of region us-central1 (for example us-central1-a)"),
        (["us-central1"], "must be zones of region us-central1 (for example us-central1-a)"),
        (["us-central1-a", "us-central1-a"], "lists a zone twice"),
    ],
)
def test_zones_refuse_these(zones: list[str], reason: str) -> None:
    assert problems(gke={"zones": zones}) == [f"mlops:gke.zones: {json.dumps(zones)} {reason}"]
