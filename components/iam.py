"""IAM policy documents shared by the components."""

from __future__ import annotations

import json


def assumable_by(service: str) -> str:
    """A trust policy that lets one AWS service (e.g. `ec2.amazonaws.com`) assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )
