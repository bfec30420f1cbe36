"""Rules that guard the compute hosts: EC2 instances and launch templates (Batch), their subnets
and security groups. Hosts are reached through SSM, never from the internet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policy.rules.core import Context
from policy.rules.inputs import ANYWHERE, get, items, requires, truthy

INSTANCE = frozenset({"aws:ec2/instance:Instance"})
LAUNCH_TEMPLATE = frozenset({"aws:ec2/launchTemplate:LaunchTemplate"})
SUBNET = frozenset({"aws:ec2/subnet:Subnet"})
SECURITY_GROUP = frozenset({"aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"})
SECURITY_GROUP_RULE = frozenset({"aws:ec2/securityGroupRule:SecurityGroupRule"})
INGRESS_RULE = frozenset({"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"})
INGRESS_TYPES = SECURITY_GROUP | SECURITY_GROUP_RULE | INGRESS_RULE
SSH = 22

check_imdsv2 = requires(
    ("metadataOptions", "httpTokens"), lambda tokens: tokens == "required",
    "metadataOptions.httpTokens is {value!r}; set it to required (IMDSv2 only)",
)

check_instance_no_public_ip = requires(
    ("associatePublicIpAddress",), lambda public: not truthy(public),
    "associatePublicIpAddress is true; instances are reached through SSM, never from the internet",
)


def check_no_public_ip_on_launch(inputs: Mapping[str, Any], _: Context) -> str | None:
    if truthy(inputs.get("mapPublicIpOnLaunch")):
        return "mapPublicIpOnLaunch is true: instances started here get a public IPv4 (accepted only with no-ingress security groups)"
    for interface in items(inputs.get("networkInterfaces")):
        if truthy(get(interface, "associatePublicIpAddress")):
            return "a network interface has associatePublicIpAddress true (accepted only with no-ingress security groups)"
    return None


def check_encrypted_volumes(inputs: Mapping[str, Any], context: Context) -> str | None:
    if context.type in INSTANCE:
        if not truthy(get(inputs, "rootBlockDevice", "encrypted")):
            return "rootBlockDevice.encrypted is not true; set it (the AMI's default may be unencrypted)"
        for device in items(inputs.get("ebsBlockDevices")):
            if not truthy(get(device, "encrypted")):
                return f"EBS volume {get(device, 'deviceName')} is not encrypted"
        return None
    for mapping in items(inputs.get("blockDeviceMappings")):  # a LaunchTemplate
        ebs = get(mapping, "ebs")
        if ebs is not None and not truthy(get(ebs, "encrypted")):
            return f"block device {get(mapping, 'deviceName')} is not encrypted; set ebs.encrypted to true"
    return None


@dataclass(frozen=True)
class Ingress:
    """One ingress rule, whichever of the three security group resources it came from."""

    sources: frozenset[str]
    protocol: str
    from_port: float | None
    to_port: float | None

    def covers(self, port: int) -> bool:
        if self.protocol in ("-1", "all"):
            return True
        if self.protocol not in ("tcp", "6"):
            return False
        low = self.from_port if self.from_port is not None else 0
        high = self.to_port if self.to_port is not None else low
        return low <= port <= high


def ingress_rules(type_: str, inputs: Mapping[str, Any]) -> list[Ingress]:
    """The ingress rules of a security group, a security group rule or a VPC ingress rule."""
    if type_ in SECURITY_GROUP:
        return [
            Ingress(
                sources=frozenset(items(get(rule, "cidrBlocks")) + items(get(rule, "ipv6CidrBlocks"))),
                protocol=str(get(rule, "protocol")),
                from_port=get(rule, "fromPort"),
                to_port=get(rule, "toPort"),
            )
            for rule in items(inputs.get("ingress"))
        ]
    if type_ in SECURITY_GROUP_RULE:
        if inputs.get("type") != "ingress":
            return []
        sources = items(inputs.get("cidrBlocks")) + items(inputs.get("ipv6CidrBlocks"))
        protocol, low, high = inputs.get("protocol"), inputs.get("fromPort"), inputs.get("toPort")
    elif type_ in INGRESS_RULE:
        sources = items(inputs.get("cidrIpv4")) + items(inputs.get("cidrIpv6"))
        protocol, low, high = inputs.get("ipProtocol"), inputs.get("fromPort"), inputs.get("toPort")
    else:
        return []
    return [Ingress(frozenset(sources), str(protocol), low, high)]


def check_no_internet_ingress(inputs: Mapping[str, Any], context: Context) -> str | None:
    for rule in ingress_rules(context.type, inputs):
        if rule.sources & ANYWHERE:
            return (
                f"ingress from {', '.join(sorted(rule.sources & ANYWHERE))}: nothing here takes inbound "
                "traffic from the internet"
            )
    return None


def check_no_ssh_ingress(inputs: Mapping[str, Any], context: Context) -> str | None:
    for rule in ingress_rules(context.type, inputs):
        if rule.covers(SSH):
            return "ingress opens port 22 (SSH); reach instances through SSM Session Manager instead"
    return None
