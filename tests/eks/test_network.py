"""One network for EKS and Batch on prod-aws, tagged for EKS's load balancers; the other stacks keep
Batch's own network where it always was (same URNs, no tags)."""

from __future__ import annotations

from offline.engine import Recording
from tests.eks.support import NETWORK, SUBNET, cluster, inputs

ELB = "kubernetes.io/role/elb"
INTERNAL_ELB = "kubernetes.io/role/internal-elb"


def test_prod_aws_makes_one_network_of_its_own_for_both(prod_aws: Recording) -> None:
    [network] = prod_aws.of_type(NETWORK)
    assert network.urn == "urn:pulumi:prod-aws::mlops::pulumi:pulumi:Stack$mlops:network:TrainingNetwork::network"
    assert network.parent.endswith("::pulumi:pulumi:Stack::mlops-prod-aws"), "the stack's, not Batch's"
    assert len(prod_aws.of_type("aws:ec2/vpc:Vpc")) == 1


def test_batch_and_the_cluster_use_the_same_private_subnets(prod_aws: Recording) -> None:
    private = sorted(s.id for s in prod_aws.of_type(SUBNET) if s.name.startswith("network-private-"))
    environment = prod_aws.one("aws:batch/computeEnvironment:ComputeEnvironment")
    assert sorted(environment.inputs["computeResources"]["subnets"]) == private
    assert sorted(inputs(cluster(prod_aws))["vpcConfig"]["subnetIds"]) == private
    vpc = prod_aws.one("aws:ec2/vpc:Vpc")
    assert prod_aws.get("aws:ec2/securityGroup:SecurityGroup", "training-sg").inputs["vpcId"] == vpc.id


def test_subnets_are_tagged_for_internal_and_internet_facing_load_balancers(prod_aws: Recording) -> None:
    tags = {s.name: s.inputs["tags"] for s in prod_aws.of_type(SUBNET)}
    assert tags == {
        "network-private-0": {"Name": "network-private-0", INTERNAL_ELB: "1"},
        "network-private-1": {"Name": "network-private-1", INTERNAL_ELB: "1"},
        "network-public-0": {"Name": "network-public-0", ELB: "1"},
        "network-public-1": {"Name": "network-public-1", ELB: "1"},
    }


def test_the_private_subnets_leave_through_one_nat_gateway(prod_aws: Recording) -> None:
    assert len(prod_aws.of_type("aws:ec2/natGateway:NatGateway")) == 1
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in prod_aws.of_type(SUBNET))


def test_dev_and_prod_on_batch_keep_batchs_own_untagged_network(dev: Recording, prod_on_aws: Recording) -> None:
    for recording, stack in ((dev, "dev"), (prod_on_aws, "prod")):
        [network] = recording.of_type(NETWORK)
        assert network.urn == f"urn:pulumi:{stack}::mlops::mlops:batch:BatchTraining$mlops:network:TrainingNetwork::training-net"
        assert {s.name: set(s.inputs["tags"]) for s in recording.of_type(SUBNET)} == {
            s.name: {"Name"} for s in recording.of_type(SUBNET)
        }
