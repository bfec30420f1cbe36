"""The training network: a VPC whose private subnets reach the internet only through NAT."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

ANY_IPV4 = "0.0.0.0/0"


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    cidr_block: str = "10.40.0.0/16"
    """The VPC's IPv4 range; split into one public and one private subnet per zone."""
    availability_zones: int = 2
    """How many zones get a subnet pair (at least 1)."""
    single_nat_gateway: bool
    """One NAT gateway for every zone (cheap, dev) rather than one per zone (no shared fate, prod)."""


class TrainingNetwork(pulumi.ComponentResource):
    """A VPC with a public and a private subnet per zone, NAT egress and an S3 gateway endpoint.

    The public subnets hold only the NAT gateways: nothing in them gets a public IP unless it
    asks for one. Bucket traffic from the private subnets goes through the S3 gateway endpoint,
    which is free, instead of the NAT, which bills per GB.

    Public attributes: `vpc_id`, `private_subnet_ids` and `private_route_table_ids` (one per zone,
    in zone order).
    """

    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:network:TrainingNetwork", name, None, opts)
        if args.availability_zones < 1:
            raise ValueError(f"availability_zones must be >= 1, got {args.availability_zones}")
        child = pulumi.ResourceOptions(parent=self)
        zones = args.availability_zones
        # Equal subnets, all public ones first (2 zones in a /16: four /18s).
        subnets = _subnet_cidrs(args.cidr_block, count=2 * zones)

        # Standard zones only: Local and Wavelength Zones lack NAT gateways and most GPU types.
        available = aws.get_availability_zones_output(
            state="available",
            filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        zone_names = available.names.apply(lambda names: _first(names, zones))
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # the instance resolves AWS endpoints through the VPC resolver
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        # The default security group allows all traffic between its members; strip its rules
        # so nothing can fall back to it.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], opts=child)
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=child
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags={"Name": f"{name}-public"}, opts=child
        )
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block=ANY_IPV4,
            gateway_id=igw.id,
            opts=child,
        )

        nat_ids: list[pulumi.Output[str]] = []
        self.private_subnet_ids = []
        self.private_route_table_ids = []
        for index in range(zones):
            zone = zone_names.apply(lambda names, i=index: names[i])
            public = aws.ec2.Subnet(
                f"{name}-public-{index}",
                vpc_id=vpc.id,
                cidr_block=subnets[index],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-public-{index}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{index}", subnet_id=public.id, route_table_id=public_rt.id, opts=child
            )
            if index == 0 or not args.single_nat_gateway:
                eip = aws.ec2.Eip(f"{name}-nat-eip-{index}", domain="vpc", tags={"Name": f"{name}-nat-{index}"}, opts=child)
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{index}",
                    allocation_id=eip.id,
                    subnet_id=public.id,
                    tags={"Name": f"{name}-nat-{index}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
                nat_ids.append(nat.id)

            private = aws.ec2.Subnet(
                f"{name}-private-{index}",
                vpc_id=vpc.id,
                cidr_block=subnets[zones + index],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-private-{index}"},
                opts=child,
            )
            private_rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{index}", vpc_id=vpc.id, tags={"Name": f"{name}-private-{index}"}, opts=child
            )
            aws.ec2.Route(
                f"{name}-private-default-{index}",
                route_table_id=private_rt.id,
                destination_cidr_block=ANY_IPV4,
                # With a single NAT every zone shares the first one; otherwise each zone uses its own.
                nat_gateway_id=nat_ids[-1],
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{index}", subnet_id=private.id, route_table_id=private_rt.id, opts=child
            )
            self.private_subnet_ids.append(private.id)
            self.private_route_table_ids.append(private_rt.id)

        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=self.private_route_table_ids,
            tags={"Name": f"{name}-s3"},
            opts=child,
        )

        self.vpc_id = vpc.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "privateRouteTableIds": self.private_route_table_ids,
            }
        )


def _subnet_cidrs(cidr_block: str, *, count: int) -> list[str]:
    """`count` equal subnets of `cidr_block`, the smallest prefix step that fits them."""
    network = ipaddress.ip_network(cidr_block)
    extra_bits = max(1, (count - 1).bit_length())
    return [str(subnet) for subnet in network.subnets(prefixlen_diff=extra_bits)][:count]


def _first(names: Sequence[str], count: int) -> list[str]:
    if len(names) < count:
        raise ValueError(f"the region has {len(names)} standard availability zones; {count} were asked for")
    return list(names[:count])
