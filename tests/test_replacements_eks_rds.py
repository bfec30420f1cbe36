"""offline/data/replacements.json's EKS and RDS entries name real inputs of the pulumi-aws types.

A misspelt input there never matches a change, so `make diff` would show a replacing change of
the cluster or the database as an update: each name is checked against the installed SDK.
"""

from __future__ import annotations

import inspect
import re

import pulumi_aws as aws
import pytest

from offline.engine import Recording
from offline.properties import replacement_table

TYPES = {
    "aws:eks/cluster:Cluster": aws.eks.Cluster,
    "aws:eks/accessEntry:AccessEntry": aws.eks.AccessEntry,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": aws.eks.AccessPolicyAssociation,
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": aws.eks.PodIdentityAssociation,
    "aws:rds/instance:Instance": aws.rds.Instance,
    "aws:rds/subnetGroup:SubnetGroup": aws.rds.SubnetGroup,
    "aws:rds/parameterGroup:ParameterGroup": aws.rds.ParameterGroup,
}


def camel(name: str) -> str:
    """An SDK argument's name as the engine sends the input: kms_key_id -> kmsKeyId."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def inputs_of(args_class: type) -> dict[str, str]:
    """camelCase input name -> its annotation, from an *Args class's constructor."""
    parameters = inspect.signature(args_class.__init__).parameters
    return {camel(name): str(p.annotation) for name, p in parameters.items() if name != "__self__"}


def args_of(resource: type) -> type:
    """The resource's own *Args class, defined beside it (pulumi_aws/eks/cluster.py: ClusterArgs)."""
    module = inspect.getmodule(resource)
    assert module is not None
    return vars(module)[f"{resource.__name__}Args"]


def nested_args_class(resource: type, annotation: str) -> type:
    [name] = set(re.findall(r"'(\w+Args)'", annotation))
    module = inspect.getmodule(resource)
    assert module is not None
    package = module.__name__.rsplit(".", 1)[0]
    return getattr(__import__(f"{package}._inputs", fromlist=[name]), name)


@pytest.mark.parametrize("type_", sorted(TYPES))
def test_every_replacing_input_is_an_input_of_the_type(type_: str) -> None:
    entry = replacement_table()["types"][type_]
    resource = TYPES[type_]
    args = inputs_of(args_of(resource))
    assert set(entry["replaceOn"]) <= set(args)
    assert {path.split(".")[0] for path in entry.get("updatedInPlace", [])} <= set(args)
    for outer, inner in entry.get("replaceOnNested", {}).items():
        assert set(inner) <= set(inputs_of(nested_args_class(resource, args[outer]))), outer


@pytest.mark.parametrize("type_", sorted(TYPES))
def test_every_entry_cites_its_provider_source_file(type_: str) -> None:
    source = replacement_table()["types"][type_]["source"]
    service, _, kind = type_.removeprefix("aws:").partition("/")
    file = re.sub(r"(?<!^)([A-Z])", r"_\1", kind.split(":")[0]).lower()
    assert source.startswith(f"hashicorp/terraform-provider-aws internal/service/{service}/{file}.go")


def test_every_eks_and_rds_type_prod_aws_registers_is_checked_here(prod_aws: Recording, prod_aws_gpu: Recording) -> None:
    registered = {r.type for rec in (prod_aws, prod_aws_gpu) for r in rec.resources if r.type.startswith(("aws:eks/", "aws:rds/"))}
    assert registered == set(TYPES)
