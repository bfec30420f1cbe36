"""The AWS regions the program may deploy to, and the check that suggests the nearest one."""

from __future__ import annotations

import difflib

from pulumi_aws import Region

# The regions of the commercial `aws` partition, as the provider SDK lists them. The
# program's ARNs and service principals assume that partition (not aws-cn, aws-us-gov).
AWS_REGIONS = tuple(
    sorted(r.value for r in Region if not r.value.startswith(("cn-", "us-gov-", "eusc-")) and "-iso" not in r.value)
)


def check_region(value: str) -> str:
    """`value` if it is a region of the aws partition, else a ValueError that suggests one."""
    if value not in AWS_REGIONS:
        close = difflib.get_close_matches(value, AWS_REGIONS, n=1)
        hint = f"; did you mean {close[0]}?" if close else f" (for example us-east-1; known: {', '.join(AWS_REGIONS)})"
        raise ValueError(f"'{value}' is not an AWS region{hint}")
    return value
