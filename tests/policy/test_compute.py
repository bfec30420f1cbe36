"""policy/rules/compute.py: each EC2 host and network rule on compliant and non-compliant inputs."""

from __future__ import annotations

from tests.policy.support import (
    DEFAULT_SG, INGRESS_RULE, INSTANCE, LAUNCH_TEMPLATE, SG, SG_RULE, SUBNET, RuleCases, ingress,
)

SSH_FROM_ANYWHERE = {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}

class TestComputeRules(RuleCases):
    """Each EC2 host and network rule on the inputs it accepts and refuses, on each of its types, in each environment."""

    ACCEPTED = {
        "instance-imdsv2": ("ec2-imdsv2", INSTANCE, {"metadataOptions": {"httpTokens": "required"}}),
        "launch-template-imdsv2": ("ec2-imdsv2", LAUNCH_TEMPLATE, {"metadataOptions": {"httpTokens": "required"}}),
        "instance-private": ("ec2-instance-no-public-ip", INSTANCE, {"associatePublicIpAddress": False}),
        "subnet-private": ("ec2-no-public-ip-on-launch", SUBNET, {"mapPublicIpOnLaunch": False}),
        "instance-root-encrypted": ("ec2-encrypted-volumes", INSTANCE, {"ami": "ami-1", "rootBlockDevice": {"encrypted": True}}),
        "launch-template-ebs-encrypted": ("ec2-encrypted-volumes", LAUNCH_TEMPLATE, {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]}),
        "ingress-from-vpc": ("ec2-no-internet-ingress", SG, ingress(cidrBlocks=["10.0.0.0/16"])),
        "no-ingress": ("ec2-no-internet-ingress", SG, {"ingress": []}),
        "https-ingress": ("ec2-no-ssh-ingress", SG, ingress(cidrBlocks=["10.0.0.0/16"])),
    }

    REJECTED = {
        "instance-imdsv1": ("ec2-imdsv2", INSTANCE, {"metadataOptions": {"httpTokens": "optional"}}),
        "launch-template-without-metadata-options": ("ec2-imdsv2", LAUNCH_TEMPLATE, {}),
        "instance-public-ip": ("ec2-instance-no-public-ip", INSTANCE, {"associatePublicIpAddress": True}),
        "subnet-public-ip": ("ec2-no-public-ip-on-launch", SUBNET, {"mapPublicIpOnLaunch": True}),
        "launch-template-public-ip": ("ec2-no-public-ip-on-launch", LAUNCH_TEMPLATE, {"networkInterfaces": [{"associatePublicIpAddress": "true"}]}),
        "instance-root-unencrypted": ("ec2-encrypted-volumes", INSTANCE, {"ami": "ami-1", "rootBlockDevice": {"encrypted": False}}),
        "launch-template-ebs-unencrypted": ("ec2-encrypted-volumes", LAUNCH_TEMPLATE, {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 100}}]}),
        "ingress-from-anywhere": ("ec2-no-internet-ingress", SG, ingress(cidrBlocks=["0.0.0.0/0"])),
        "ipv6-ingress-from-anywhere": ("ec2-no-internet-ingress", SG, ingress(ipv6CidrBlocks=["::/0"])),
        "rule-ingress-from-anywhere": ("ec2-no-internet-ingress", SG_RULE, {"type": "ingress", "protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}),
        "vpc-ingress-rule-from-anywhere": ("ec2-no-internet-ingress", INGRESS_RULE, {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "0.0.0.0/0"}),
        "ssh-from-vpc": ("ec2-no-ssh-ingress", SG, ingress(fromPort=22.0, toPort=22.0, cidrBlocks=["10.0.0.0/16"])),
        "all-ports-from-vpc": ("ec2-no-ssh-ingress", SG, ingress(protocol="-1", fromPort=0.0, toPort=0.0, cidrBlocks=["10.0.0.0/16"])),
    }

    REJECTED_ON_EVERY_TYPE = {
        "ec2-imdsv2": {INSTANCE: {}, LAUNCH_TEMPLATE: {}},
        "ec2-instance-no-public-ip": {INSTANCE: {"associatePublicIpAddress": True}},
        "ec2-no-public-ip-on-launch": {SUBNET: {"mapPublicIpOnLaunch": True},
                                       LAUNCH_TEMPLATE: {"networkInterfaces": [{"associatePublicIpAddress": True}]}},
        "ec2-encrypted-volumes": {INSTANCE: {"rootBlockDevice": {}},
                                  LAUNCH_TEMPLATE: {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {}}]}},
        "ec2-no-internet-ingress": {
            SG: {"ingress": [SSH_FROM_ANYWHERE]}, DEFAULT_SG: {"ingress": [SSH_FROM_ANYWHERE]},
            SG_RULE: {"type": "ingress", **SSH_FROM_ANYWHERE},
            INGRESS_RULE: {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"},
        },
        "ec2-no-ssh-ingress": {
            SG: {"ingress": [SSH_FROM_ANYWHERE]}, DEFAULT_SG: {"ingress": [SSH_FROM_ANYWHERE]},
            SG_RULE: {"type": "ingress", **SSH_FROM_ANYWHERE},
            INGRESS_RULE: {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "10.0.0.0/8"},
        },
    }

    VALUE_CASES = {
        "imds-optional": ("ec2-imdsv2", LAUNCH_TEMPLATE, {"metadataOptions": {"httpTokens": "optional"}}, False),
        "public-ip-as-string": ("ec2-instance-no-public-ip", INSTANCE, {"associatePublicIpAddress": "true"}, False),
        "launch-template-private-interface": ("ec2-no-public-ip-on-launch", LAUNCH_TEMPLATE, {"networkInterfaces": [{"associatePublicIpAddress": "false"}]}, True),
        "unencrypted-ebs-volume": ("ec2-encrypted-volumes", INSTANCE, {"rootBlockDevice": {"encrypted": True}, "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}, {"deviceName": "/dev/sdg"}]}, False),
        "encrypted-ebs-volumes": ("ec2-encrypted-volumes", INSTANCE, {"rootBlockDevice": {"encrypted": "true"}, "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True}]}, True),
        "launch-template-mapping-without-ebs": ("ec2-encrypted-volumes", LAUNCH_TEMPLATE, {"blockDeviceMappings": [{"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}]}, True),
        **{f"ingress-from-{cidr}": ("ec2-no-internet-ingress", SG, ingress(cidrBlocks=[cidr] if "." in cidr else [], ipv6CidrBlocks=[cidr] if ":" in cidr else []), False)
           for cidr in ("0.0.0.0/0", "::/0")},
        "egress-rule-from-anywhere": ("ec2-no-internet-ingress", SG_RULE, {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}, True),
        "vpc-ingress-rule-ipv6-anywhere": ("ec2-no-internet-ingress", INGRESS_RULE, {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv6": "::/0"}, False),
        "sg-rule-ipv6-anywhere": ("ec2-no-internet-ingress", SG_RULE, {"type": "ingress", "protocol": "tcp", "fromPort": 443, "toPort": 443, "ipv6CidrBlocks": ["::/0"]}, False),
        **{f"ssh-by-protocol-{p}": ("ec2-no-ssh-ingress", SG, ingress(protocol=p, fromPort=22.0, toPort=22.0), False) for p in ("tcp", "6")},
        **{f"every-port-by-protocol-{p}": ("ec2-no-ssh-ingress", SG, ingress(protocol=p, fromPort=0.0, toPort=0.0), False) for p in ("-1", "all")},
        "udp-22-is-not-ssh": ("ec2-no-ssh-ingress", SG, ingress(protocol="udp", fromPort=22.0, toPort=22.0), True),
        "range-over-22": ("ec2-no-ssh-ingress", SG, ingress(fromPort=20.0, toPort=25.0), False),
        "range-ending-at-22": ("ec2-no-ssh-ingress", SG, ingress(fromPort=10.0, toPort=22.0), False),
        "range-below-22": ("ec2-no-ssh-ingress", SG, ingress(fromPort=10.0, toPort=21.0), True),
        "range-above-22": ("ec2-no-ssh-ingress", SG, ingress(fromPort=23.0, toPort=30.0), True),
        "rule-from-port-22-only": ("ec2-no-ssh-ingress", INGRESS_RULE, {"ipProtocol": "tcp", "fromPort": 22}, False),
    }
