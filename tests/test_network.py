"""The training VPC, sized to the stack: public subnets without NAT, or private ones behind one NAT."""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any

import pytest

from components.network import NetworkArgs, _first, _subnet_cidrs
from offline.engine import Recording, Registration, run_program, stack_config_with
from tests.support import RunWith

NETWORK = "mlops:network:TrainingNetwork"
SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
COMPUTE_ENVIRONMENT = "aws:batch/computeEnvironment:ComputeEnvironment"
ZONES = ["us-east-1a", "us-east-1b"]  # the first two of the offline engine's zones


def subnets(run: Recording, tier: str) -> list[Registration]:
    """The public or private subnets, in zone order."""
    return [run.named(f"training-net-{tier}-{index}") for index in range(len(ZONES))]


def default_route(run: Recording, route_table: Registration) -> dict[str, Any]:
    [route] = [
        r.inputs
        for r in run.of_type(ROUTE)
        if r.inputs["routeTableId"] == route_table.id and r.inputs["destinationCidrBlock"] == "0.0.0.0/0"
    ]
    return route


def job_subnets(run: Recording) -> list[str]:
    return run.one(COMPUTE_ENVIRONMENT).inputs["computeResources"]["subnets"]


# --- both modes ----------------------------------------------------------------------------


def test_network_belongs_to_the_training_component(dev: Recording) -> None:
    network = dev.one(NETWORK)
    assert network.parent == dev.one("mlops:batch:BatchTraining").urn
    assert {r.parent for r in dev.of_type(SUBNET)} == {network.urn}


def test_vpc_resolves_dns(dev: Recording) -> None:
    vpc = dev.one("aws:ec2/vpc:Vpc").inputs
    assert vpc["enableDnsSupport"] is True
    assert vpc["enableDnsHostnames"] is True


def test_jobs_may_run_in_two_zones(dev: Recording, prod_on_aws: Recording) -> None:
    assert [s.inputs["availabilityZone"] for s in subnets(dev, "public")] == ZONES
    assert [s.inputs["availabilityZone"] for s in subnets(prod_on_aws, "private")] == ZONES


def test_only_standard_zones_are_used(dev: Recording) -> None:
    [lookup] = [args for token, args in dev.invokes if token == "aws:index/getAvailabilityZones:getAvailabilityZones"]
    assert lookup["state"] == "available"
    assert lookup["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_subnets_fit_in_the_vpc_without_overlapping(request: pytest.FixtureRequest, stack: str) -> None:
    run: Recording = request.getfixturevalue(stack)
    vpc = ipaddress.IPv4Network(run.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"])
    blocks = [ipaddress.IPv4Network(s.inputs["cidrBlock"]) for s in run.of_type(SUBNET)]
    assert all(block.subnet_of(vpc) for block in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


def test_public_subnets_route_to_the_internet_gateway(dev: Recording) -> None:
    public_rt = dev.named("training-net-public-rt")
    assert default_route(dev, public_rt)["gatewayId"] == dev.one("aws:ec2/internetGateway:InternetGateway").id
    for index, subnet in enumerate(subnets(dev, "public")):
        association = dev.named(f"training-net-public-rta-{index}").inputs
        assert association["subnetId"] == subnet.id
        assert association["routeTableId"] == public_rt.id


def test_default_security_group_has_no_rules(dev: Recording) -> None:
    default_group = dev.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs
    assert default_group["vpcId"] == dev.one("aws:ec2/vpc:Vpc").id
    assert default_group["ingress"] == []
    assert default_group["egress"] == []


def test_vpc_keeps_its_range_in_both_stacks(dev: Recording, prod_on_aws: Recording) -> None:
    # The range fixes every subnet's block: a change replaces the whole network, and the compute
    # environment with it.
    assert dev.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"] == "10.40.0.0/16"
    assert prod_on_aws.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"] == "10.40.0.0/16"


def test_public_subnets_keep_their_blocks_in_both_modes(dev: Recording, prod_on_aws: Recording) -> None:
    # Switching dev to private must not renumber (and so replace) the public subnets.
    expected = ["10.40.0.0/18", "10.40.64.0/18"]
    assert [s.inputs["cidrBlock"] for s in subnets(dev, "public")] == expected
    assert [s.inputs["cidrBlock"] for s in subnets(prod_on_aws, "public")] == expected


def test_private_subnets_take_the_upper_half(prod_on_aws: Recording) -> None:
    assert [s.inputs["cidrBlock"] for s in subnets(prod_on_aws, "private")] == ["10.40.128.0/18", "10.40.192.0/18"]


@pytest.mark.parametrize(
    ("block", "count", "expected"),
    [
        ("10.40.0.0/16", 1, ["10.40.0.0/17"]),  # one subnet still leaves room for a second tier
        ("10.40.0.0/16", 2, ["10.40.0.0/17", "10.40.128.0/17"]),
        ("10.40.0.0/16", 3, ["10.40.0.0/18", "10.40.64.0/18", "10.40.128.0/18"]),
        ("10.40.0.0/16", 4, ["10.40.0.0/18", "10.40.64.0/18", "10.40.128.0/18", "10.40.192.0/18"]),
        ("10.0.0.0/20", 6, [f"10.0.{i * 2}.0/23" for i in range(6)]),
    ],
)
def test_subnet_blocks_are_equal_and_as_large_as_they_can_be(block: str, count: int, expected: list[str]) -> None:
    # Smaller than needed wastes addresses Batch needs for instances; larger would not fit.
    assert _subnet_cidrs(block, count=count) == expected


def test_zones_are_taken_in_the_regions_order() -> None:
    assert _first(["us-east-1a", "us-east-1b", "us-east-1c"], 2) == ["us-east-1a", "us-east-1b"]
    assert _first(["us-east-1a", "us-east-1b"], 2) == ["us-east-1a", "us-east-1b"]


def test_a_region_with_too_few_zones_is_an_error() -> None:
    with pytest.raises(ValueError):
        _first(["us-east-1a"], 2)


def test_resources_are_named_in_the_console(prod_on_aws: Recording) -> None:
    # The Name tag is what the VPC console lists; without it every stack's VPC reads "-".
    names = {r.name: r.inputs["tags"] for r in prod_on_aws.children_of(prod_on_aws.one(NETWORK)) if "tags" in r.inputs}
    assert names == {
        "training-net-vpc": {"Name": "training-net-vpc"},
        "training-net-igw": {"Name": "training-net-igw"},
        "training-net-public-rt": {"Name": "training-net-public"},
        "training-net-public-0": {"Name": "training-net-public-0"},
        "training-net-public-1": {"Name": "training-net-public-1"},
        "training-net-nat-eip": {"Name": "training-net-nat"},
        "training-net-nat": {"Name": "training-net-nat"},
        "training-net-private-rt": {"Name": "training-net-private"},
        "training-net-private-0": {"Name": "training-net-private-0"},
        "training-net-private-1": {"Name": "training-net-private-1"},
        "training-net-s3": {"Name": "training-net-s3"},
    }


def test_every_network_resource_is_in_the_training_vpc(prod_on_aws: Recording) -> None:
    vpc = prod_on_aws.one("aws:ec2/vpc:Vpc").id
    in_vpc = [r for r in prod_on_aws.children_of(prod_on_aws.one(NETWORK)) if "vpcId" in r.inputs]
    assert {r.name for r in in_vpc} == {
        "training-net-default-sg", "training-net-igw", "training-net-public-rt", "training-net-private-rt",
        "training-net-public-0", "training-net-public-1", "training-net-private-0", "training-net-private-1",
        "training-net-s3",
    }
    assert {r.inputs["vpcId"] for r in in_vpc} == {vpc}


def test_prod_on_aws_public_subnets_route_to_the_internet_gateway(prod_on_aws: Recording) -> None:
    # The NAT gateway sits here: without this route its traffic goes nowhere.
    public_rt = prod_on_aws.named("training-net-public-rt")
    assert default_route(prod_on_aws, public_rt)["gatewayId"] == prod_on_aws.one("aws:ec2/internetGateway:InternetGateway").id
    for index, subnet in enumerate(subnets(prod_on_aws, "public")):
        association = prod_on_aws.named(f"training-net-public-rta-{index}").inputs
        assert (association["subnetId"], association["routeTableId"]) == (subnet.id, public_rt.id)


def test_each_route_table_has_only_its_default_route(prod_on_aws: Recording) -> None:
    routes = sorted(
        (r.name, r.inputs["destinationCidrBlock"], "gatewayId" in r.inputs, "natGatewayId" in r.inputs)
        for r in prod_on_aws.of_type(ROUTE)
    )
    assert routes == [
        ("training-net-private-default", "0.0.0.0/0", False, True),
        ("training-net-public-default", "0.0.0.0/0", True, False),
    ]


# --- dev: public subnets, no NAT -----------------------------------------------------------


def test_dev_has_no_nat_gateway(dev: Recording) -> None:
    assert dev.of_type(NAT) == []
    assert dev.of_type("aws:ec2/eip:Eip") == []


def test_dev_has_no_private_subnets(dev: Recording) -> None:
    assert {s.name for s in dev.of_type(SUBNET)} == {"training-net-public-0", "training-net-public-1"}


def test_dev_jobs_run_in_the_public_subnets(dev: Recording) -> None:
    assert job_subnets(dev) == [s.id for s in subnets(dev, "public")]


def test_dev_public_subnets_give_instances_a_public_ipv4(dev: Recording) -> None:
    # Without NAT, an instance reaches ECR, ECS and CloudWatch only through its own address;
    # its security group admits nothing inbound.
    assert [s.inputs["mapPublicIpOnLaunch"] for s in subnets(dev, "public")] == [True, True]


def test_dev_bucket_traffic_uses_the_s3_gateway_endpoint(dev: Recording) -> None:
    endpoint = dev.one(ENDPOINT).inputs
    assert endpoint["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert endpoint["vpcEndpointType"] == "Gateway"
    assert endpoint["routeTableIds"] == [dev.named("training-net-public-rt").id]


# --- prod on ec2: private subnets behind one NAT -------------------------------------------


def test_prod_on_aws_has_exactly_one_nat_gateway(prod_on_aws: Recording) -> None:
    [nat] = prod_on_aws.of_type(NAT)
    assert nat.inputs["subnetId"] == subnets(prod_on_aws, "public")[0].id
    assert nat.inputs["allocationId"] == prod_on_aws.one("aws:ec2/eip:Eip").id


def test_nat_gateway_waits_for_the_internet_gateway(prod_on_aws: Recording) -> None:
    # AWS refuses a NAT gateway in a VPC whose internet gateway is not yet attached.
    igw = prod_on_aws.one("aws:ec2/internetGateway:InternetGateway")
    assert igw.urn in prod_on_aws.one(NAT).dependencies


def test_nat_address_is_a_vpc_elastic_ip(prod_on_aws: Recording) -> None:
    assert prod_on_aws.one("aws:ec2/eip:Eip").inputs["domain"] == "vpc"


def test_prod_on_aws_jobs_run_in_private_subnets(prod_on_aws: Recording) -> None:
    assert job_subnets(prod_on_aws) == [s.id for s in subnets(prod_on_aws, "private")]


def test_prod_on_aws_gives_no_instance_a_public_ipv4(prod_on_aws: Recording) -> None:
    assert [s.inputs["mapPublicIpOnLaunch"] for s in prod_on_aws.of_type(SUBNET)] == [False] * 2 * len(ZONES)


def test_prod_on_aws_private_subnets_egress_through_the_nat(prod_on_aws: Recording) -> None:
    private_rt = prod_on_aws.named("training-net-private-rt")
    assert default_route(prod_on_aws, private_rt)["natGatewayId"] == prod_on_aws.one(NAT).id
    for index, subnet in enumerate(subnets(prod_on_aws, "private")):
        association = prod_on_aws.named(f"training-net-private-rta-{index}").inputs
        assert (association["subnetId"], association["routeTableId"]) == (subnet.id, private_rt.id)


def test_prod_on_aws_bucket_traffic_uses_the_s3_gateway_endpoint(prod_on_aws: Recording) -> None:
    endpoint = prod_on_aws.one(ENDPOINT).inputs
    assert endpoint["vpcEndpointType"] == "Gateway"
    assert endpoint["routeTableIds"] == [prod_on_aws.named("training-net-private-rt").id]


def test_subnets_setting_overrides_the_environment_default(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:compute": {"subnets": "private"}})
    assert len(run.of_type(NAT)) == 1
    assert job_subnets(run) == [s.id for s in subnets(run, "private")]


# --- other shapes of the network -------------------------------------------------------------

ONE_ZONE_PROGRAM = """
import pulumi
from components.network import NetworkArgs, TrainingNetwork

net = TrainingNetwork("one", NetworkArgs(subnets="private", cidr_block="10.8.0.0/16", availability_zones=1))
pulumi.export("subnetIds", net.subnet_ids)
"""


@pytest.fixture(scope="module")
def one_zone(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """A private network in a single zone, as a smaller caller of TrainingNetwork may ask for."""
    program = tmp_path_factory.mktemp("one-zone") / "__main__.py"
    program.write_text(ONE_ZONE_PROGRAM)
    return run_program("dev", stack_config_with("dev", {}), program=program)


def test_one_zone_is_allowed(one_zone: Recording) -> None:
    assert {r.name for r in one_zone.of_type(SUBNET)} == {"one-public-0", "one-private-0"}


def test_one_zone_splits_the_given_range_in_halves(one_zone: Recording) -> None:
    assert one_zone.named("one-vpc").inputs["cidrBlock"] == "10.8.0.0/16"
    assert one_zone.named("one-public-0").inputs["cidrBlock"] == "10.8.0.0/17"
    assert one_zone.named("one-private-0").inputs["cidrBlock"] == "10.8.128.0/17"


def test_network_args_are_given_by_name_and_cannot_change() -> None:
    # Built once and read while the subnets and routes register: keep it fixed and explicit.
    assert NetworkArgs.__dataclass_params__.frozen is True  # type: ignore[attr-defined]
    assert all(f.kw_only for f in dataclasses.fields(NetworkArgs))
