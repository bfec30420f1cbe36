"""What a GKE cluster is built from (components/gke/args.py)."""

from __future__ import annotations

import pytest


def test_cluster_args_are_immutable_with_empty_defaults() -> None:
    # Frozen: the component reads args after creating children; a caller's later change would not apply.
    from dataclasses import FrozenInstanceError

    from components.config import ComputeConfig
    from components.gke.args import GkeClusterArgs, ServedPods

    args = GkeClusterArgs(
        project="p-123456", region="r", zones=["r-a"], name="n", release_channel="REGULAR", authorized_networks=["10.0.0.0/8"],
        deletion_protection=False, compute=ComputeConfig(), spot=False, serving=[ServedPods(1, 1, 1000)],
    )
    assert (args.image_repositories, args.labels) == ({}, {})
    with pytest.raises(FrozenInstanceError):
        args.name = "other"  # type: ignore[misc]


def test_the_control_plane_runs_in_the_first_zone() -> None:
    from components.config import ComputeConfig
    from components.gke.args import GkeClusterArgs, ServedPods

    args = GkeClusterArgs(
        project="p-123456", region="r", zones=["r-b", "r-a"], name="n", release_channel="REGULAR", authorized_networks=["10.0.0.0/8"],
        deletion_protection=False, compute=ComputeConfig(), spot=False, serving=[ServedPods(1, 1, 1000)],
    )
    assert args.location == "r-b"
