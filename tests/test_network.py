"""The training VPC: private subnets with NAT egress, an S3 gateway endpoint, nothing public."""

from __future__ import annotations

import ipaddress
from typing import Any

from offline.engine import Recording, Registration

NETWORK = "mlops:network:TrainingNetwork"
SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE = "aws:ec2/route:Route"
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


def private_route_tables(run: Recording) -> list[Registration]:
    return [run.named(f"training-net-private-rt-{index}") for index in range(len(ZONES))]


def test_network_belongs_to_the_training_component(dev: Recording) -> None:
    network = dev.one(NETWORK)
    assert network.parent == dev.one("mlops:compute:GpuTrainingInstance").urn
    assert {r.parent for r in dev.of_type(SUBNET)} == {network.urn}


def test_vpc_resolves_dns(dev: Recording) -> None:
    vpc = dev.one("aws:ec2/vpc:Vpc").inputs
    assert vpc["enableDnsSupport"] is True
    assert vpc["enableDnsHostnames"] is True


def test_network_spans_two_zones(dev: Recording) -> None:
    assert [s.inputs["availabilityZone"] for s in subnets(dev, "private")] == ZONES
    assert [s.inputs["availabilityZone"] for s in subnets(dev, "public")] == ZONES


def test_only_standard_zones_are_used(dev: Recording) -> None:
    [lookup] = [args for token, args in dev.invokes if token == "aws:index/getAvailabilityZones:getAvailabilityZones"]
    assert lookup["state"] == "available"
    assert lookup["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]


def test_subnets_fit_in_the_vpc_without_overlapping(dev: Recording) -> None:
    vpc = ipaddress.IPv4Network(dev.one("aws:ec2/vpc:Vpc").inputs["cidrBlock"])
    blocks = [ipaddress.IPv4Network(s.inputs["cidrBlock"]) for s in dev.of_type(SUBNET)]
    assert len(blocks) == 2 * len(ZONES)
    assert all(block.subnet_of(vpc) for block in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


def test_no_subnet_gives_out_public_ips(dev: Recording) -> None:
    assert [s.inputs["mapPublicIpOnLaunch"] for s in dev.of_type(SUBNET)] == [False] * 2 * len(ZONES)


def test_public_subnets_route_to_the_internet_gateway(dev: Recording) -> None:
    public_rt = dev.named("training-net-public-rt")
    assert default_route(dev, public_rt)["gatewayId"] == dev.one("aws:ec2/internetGateway:InternetGateway").id
    for index, subnet in enumerate(subnets(dev, "public")):
        association = dev.named(f"training-net-public-rta-{index}").inputs
        assert association["subnetId"] == subnet.id
        assert association["routeTableId"] == public_rt.id


def test_dev_uses_one_nat_gateway(dev: Recording) -> None:
    [nat] = dev.of_type(NAT)
    for route_table in private_route_tables(dev):
        assert default_route(dev, route_table)["natGatewayId"] == nat.id


def test_prod_has_a_nat_per_zone(prod: Recording) -> None:
    assert len(prod.of_type(NAT)) == len(ZONES)
    for index, subnet in enumerate(subnets(prod, "public")):
        assert prod.named(f"training-net-nat-{index}").inputs["subnetId"] == subnet.id


def test_prod_zones_egress_through_their_own_nat(prod: Recording) -> None:
    for index, route_table in enumerate(private_route_tables(prod)):
        assert default_route(prod, route_table)["natGatewayId"] == prod.named(f"training-net-nat-{index}").id


def test_nat_gateways_sit_in_public_subnets_with_their_own_address(prod: Recording) -> None:
    public = subnets(prod, "public")
    for nat in prod.of_type(NAT):
        assert nat.inputs["subnetId"] in [subnet.id for subnet in public]
        eip = prod.named(nat.name.replace("-nat-", "-nat-eip-"))
        assert nat.inputs["allocationId"] == eip.id
        assert eip.inputs["domain"] == "vpc"


def test_private_subnets_use_their_zones_route_table(dev: Recording) -> None:
    for index, (subnet, route_table) in enumerate(zip(subnets(dev, "private"), private_route_tables(dev), strict=True)):
        association = dev.named(f"training-net-private-rta-{index}").inputs
        assert association["subnetId"] == subnet.id
        assert association["routeTableId"] == route_table.id


def test_bucket_traffic_uses_s3_gateway_endpoint(dev: Recording) -> None:
    endpoint = dev.one("aws:ec2/vpcEndpoint:VpcEndpoint").inputs
    assert endpoint["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert endpoint["vpcEndpointType"] == "Gateway"
    route_tables = private_route_tables(dev)
    assert len(endpoint["routeTableIds"]) == len(route_tables)
    assert endpoint["routeTableIds"] == [rt.id for rt in route_tables]


def test_default_security_group_has_no_rules(dev: Recording) -> None:
    default_group = dev.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs
    assert default_group["vpcId"] == dev.one("aws:ec2/vpc:Vpc").id
    assert default_group["ingress"] == []
    assert default_group["egress"] == []
