"""The training VPC, sized to the stack: public subnets without NAT, or private ones behind one NAT."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

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
