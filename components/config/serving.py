"""The `serving` section: the Kubernetes cluster the projects' model servers run on.

What one project's server gets (replicas, CPU, memory, GPUs, the version) is under
`projects.<name>.serve` (components/config/projects.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.config.section import Section


class ServingConfig(Section):
    cluster: Literal["kubeconfig", "gke", "eks"] = Field(
        default="kubeconfig", description="The Kubernetes cluster the model servers run on."
    )
