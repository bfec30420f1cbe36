"""The stack's VPC: public subnets without NAT or private ones behind one; Batch's, and EKS's beside it."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

ANY_IPV4 = "0.0.0.0/0"
# The subnet tags EKS Auto Mode's load balancing picks subnets by (EKS User Guide, "Tag subnets for
# EKS Auto Mode"): internet-facing load balancers go to the public tier, internal ones to the private.
PUBLIC_LOAD_BALANCERS = {"kubernetes.io/role/elb": "1"}
INTERNAL_LOAD_BALANCERS = {"kubernetes.io/role/internal-elb": "1"}


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    subnets: Literal["public", "private"]
    """Where jobs run. `public`: public subnets, a public IPv4 per instance, no NAT gateway (dev:
    nothing bills while idle). `private`: private subnets whose egress goes through one NAT
    gateway (no public address on any instance, ~$33/month while idle)."""
    cidr_block: str = "10.40.0.0/16"
    """The VPC's IPv4 range; split into one public (and, if private, one private) subnet per zone."""
    availability_zones: int = 2
    """How many zones get subnets (at least 1). Two let Batch find GPU capacity in either (and EKS needs two)."""
    load_balancer_tags: bool = False
    """Tag the tiers for EKS's load balancers (a cluster shares the network): public subnets for
    internet-facing ones, private ones for internal ones."""


class TrainingNetwork(pulumi.ComponentResource):
    """A VPC for the training jobs, with an S3 gateway endpoint on the route table jobs use.

    Public mode: one public subnet per zone that gives instances a public IPv4; the route table
    sends everything else to the internet gateway. Instances accept no inbound connection (their
    security group has no ingress rule), so the address only serves outbound calls.

    Private mode: the same public subnets, but without public addresses, hold one NAT gateway;
    one private subnet per zone routes its egress through it. One NAT is a shared point of
    failure across zones, which a batch job that Batch retries can live with.

    Either way, bucket traffic goes through the S3 gateway endpoint, which is free, instead of
    the NAT gateway (billed per GB) or the internet.

    Public attributes: `vpc_id`, `subnet_ids` (where jobs run, in zone order: an EKS cluster's
    nodes run there too), `public_subnet_ids`, `cidr_block` and `route_table_ids` (the tables of `subnet_ids`).
    """

    vpc_id: pulumi.Output[str]
    cidr_block: str
    subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]
    route_table_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:network:TrainingNetwork", name, None, opts)
        if args.availability_zones < 1:
            raise ValueError(f"availability_zones must be >= 1, got {args.availability_zones}")
        if args.subnets not in ("public", "private"):
            raise ValueError(f"subnets must be public or private, got {args.subnets!r}")
        child = pulumi.ResourceOptions(parent=self)
        zones = args.availability_zones
        private = args.subnets == "private"
        # Equal subnets, all public ones first (2 zones in a /16: four /18s, the same blocks
        # in both modes, so switching mode never renumbers the public subnets).
        cidrs = _subnet_cidrs(args.cidr_block, count=2 * zones)

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
            enable_dns_hostnames=True,  # instances resolve AWS endpoints through the VPC resolver
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        # The default security group allows all traffic between its members; strip its rules
        # so nothing can fall back to it.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, ingress=[], egress=[], opts=child)
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={"Name": f"{name}-igw"}, opts=child
        )
        public_rt = _route_table(name, "public", vpc=vpc, gateway_id=igw.id, child=child)
        zone_of = [zone_names.apply(lambda names, i=index: names[i]) for index in range(zones)]
        public_subnets = [
            _subnet(
                name, "public", index, vpc=vpc, cidr=cidrs[index], zone=zone_of[index], route_table=public_rt,
                # Public mode: jobs run here and need an address to reach ECR, ECS and S3.
                # Private mode: only the NAT gateway lives here, with its own Elastic IP.
                public_ip=not private,
                tags=PUBLIC_LOAD_BALANCERS if args.load_balancer_tags else {},
                child=child,
            )
            for index in range(zones)
        ]
        self.public_subnet_ids = [subnet.id for subnet in public_subnets]

        if private:
            private_rt = _nat_route_table(name, vpc=vpc, igw=igw, nat_subnet=public_subnets[0], parent=self)
            self.subnet_ids = [
                _subnet(
                    name, "private", index, vpc=vpc, cidr=cidrs[zones + index], zone=zone_of[index], route_table=private_rt,
                    public_ip=False, tags=INTERNAL_LOAD_BALANCERS if args.load_balancer_tags else {}, child=child,
                ).id
                for index in range(zones)
            ]
            self.route_table_ids = [private_rt.id]
        else:
            self.subnet_ids = list(self.public_subnet_ids)
            self.route_table_ids = [public_rt.id]

        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=self.route_table_ids,
            tags={"Name": f"{name}-s3"},
            opts=child,
        )

        self.vpc_id = vpc.id
        self.cidr_block = args.cidr_block
        self.register_outputs(
            {"vpcId": self.vpc_id, "subnetIds": self.subnet_ids, "routeTableIds": self.route_table_ids}
        )


def _nat_route_table(
    name: str, *, vpc: aws.ec2.Vpc, igw: aws.ec2.InternetGateway, nat_subnet: aws.ec2.Subnet, parent: pulumi.Resource
) -> aws.ec2.RouteTable:
    """The private tier's table: out through one NAT gateway (with its own Elastic IP) in `nat_subnet`."""
    child = pulumi.ResourceOptions(parent=parent)
    eip = aws.ec2.Eip(f"{name}-nat-eip", domain="vpc", tags={"Name": f"{name}-nat"}, opts=child)
    nat = aws.ec2.NatGateway(
        f"{name}-nat",
        allocation_id=eip.id,
        subnet_id=nat_subnet.id,
        tags={"Name": f"{name}-nat"},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[igw]),
    )
    return _route_table(name, "private", vpc=vpc, nat_gateway_id=nat.id, child=child)


def _route_table(
    name: str,
    tier: str,
    *,
    vpc: aws.ec2.Vpc,
    gateway_id: pulumi.Input[str] | None = None,
    nat_gateway_id: pulumi.Input[str] | None = None,
    child: pulumi.ResourceOptions,
) -> aws.ec2.RouteTable:
    """A tier's route table, whose default route leaves through the internet gateway or the NAT gateway."""
    table = aws.ec2.RouteTable(f"{name}-{tier}-rt", vpc_id=vpc.id, tags={"Name": f"{name}-{tier}"}, opts=child)
    aws.ec2.Route(
        f"{name}-{tier}-default",
        route_table_id=table.id,
        destination_cidr_block=ANY_IPV4,
        gateway_id=gateway_id,
        nat_gateway_id=nat_gateway_id,
        opts=child,
    )
    return table


def _subnet(
    name: str,
    tier: str,
    index: int,
    *,
    vpc: aws.ec2.Vpc,
    cidr: str,
    zone: pulumi.Input[str],
    route_table: aws.ec2.RouteTable,
    public_ip: bool,
    tags: dict[str, str],
    child: pulumi.ResourceOptions,
) -> aws.ec2.Subnet:
    """One zone's subnet of a tier, on that tier's route table, with `tags` beside its Name."""
    subnet = aws.ec2.Subnet(
        f"{name}-{tier}-{index}",
        vpc_id=vpc.id,
        cidr_block=cidr,
        availability_zone=zone,
        map_public_ip_on_launch=public_ip,
        tags={"Name": f"{name}-{tier}-{index}", **tags},
        opts=child,
    )
    aws.ec2.RouteTableAssociation(
        f"{name}-{tier}-rta-{index}", subnet_id=subnet.id, route_table_id=route_table.id, opts=child
    )
    return subnet


def _subnet_cidrs(cidr_block: str, *, count: int) -> list[str]:
    """`count` equal subnets of `cidr_block`, the smallest prefix step that fits them."""
    network = ipaddress.ip_network(cidr_block)
    extra_bits = max(1, (count - 1).bit_length())
    return [str(subnet) for subnet in network.subnets(prefixlen_diff=extra_bits)][:count]


def _first(names: Sequence[str], count: int) -> list[str]:
    if len(names) < count:
        raise ValueError(f"the region has {len(names)} standard availability zones; {count} were asked for")
    return list(names[:count])
