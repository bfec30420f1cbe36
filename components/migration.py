"""Taking over the resources of a stack made before projects, when it served one model.

Such a stack trained and served `iris` (both stack files did), under logical names without a
project (`serving`, `training-job`). The project of that name keeps those resources' URNs
through `aliases`, so `pulumi up` updates or replaces them in place of creating a second set.
"""

from __future__ import annotations

import pulumi

FIRST_PROJECT = "iris"
"""The one model every stack served before projects (README "Upgrading to projects")."""


def old_names(project: str, *names: str) -> list[pulumi.Input[str | pulumi.Alias]]:
    """The aliases of a resource of `project`: its logical names before projects, for the first project only."""
    if project != FIRST_PROJECT:
        return []
    return [pulumi.Alias(name=name) for name in names]


def renamed(project: str, *names: str) -> pulumi.ResourceOptions:
    """Resource options with those aliases (empty for every project but the first)."""
    return pulumi.ResourceOptions(aliases=old_names(project, *names))
