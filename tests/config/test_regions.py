"""The AWS regions: only the aws partition's are accepted."""

from __future__ import annotations

import pytest

from components.config import check_region


@pytest.mark.parametrize("region", ["us-gov-west-1", "us-gov-east-1", "cn-northwest-1", "eusc-de-east-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1"])
def test_a_region_outside_the_aws_partition_is_refused(region: str) -> None:
    # The program's ARNs and service principals are the aws partition's; elsewhere they are wrong.
    with pytest.raises(ValueError, match=f"^'{region}' is not an AWS region"):
        check_region(region)


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "sa-east-1"])
def test_a_region_of_the_aws_partition_is_accepted(region: str) -> None:
    assert check_region(region) == region
