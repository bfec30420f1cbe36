"""`make cost`: the price table covers what the program registers; unknown types are named."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from offline.cost import main as cost_main
from offline.cost import price_table, render_text, stack_cost
from offline.engine import Recording
from tests.support import RunWith


def _custom_types(*recordings: Recording) -> set[str]:
    return {r.type for recording in recordings for r in recording.resources if r.custom}


def test_every_type_the_program_registers_is_priced(
    dev: Recording, prod: Recording, prod_on_aws: Recording, dev_cluster_training: Recording, run_with: RunWith
) -> None:
    # dev with a replica adds the replication types to dev's own set.
    replicated = run_with("dev", **{"mlops:storage": {"backupRegion": "us-west-2"}})
    missing = _custom_types(dev, prod, prod_on_aws, dev_cluster_training, replicated) - set(price_table()["types"])
    assert missing == set(), f"add these types to offline/data/prices.json: {sorted(missing)}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_resource_of_a_stack_file_is_unpriced(request: pytest.FixtureRequest, stack: str) -> None:
    recording: Recording = request.getfixturevalue(stack)
    assert [r.name for r in stack_cost(stack, recording.resources).unpriced] == []


def test_price_table_is_dated_and_sourced() -> None:
    table = price_table()
    assert table["as_of"] and table["hours_per_month"] == 730
    assert all(url.startswith(("https://aws.amazon.com/", "https://cloud.google.com/")) for url in table["sources"])


def test_dev_idles_at_its_two_kms_keys(dev: Recording) -> None:
    cost = stack_cost("dev", dev.resources)
    billed = {(r.type, r.name): r.monthly for r in cost.resources if r.monthly}
    assert billed == {("aws:kms/key:Key", "data-key"): 1.0, ("aws:kms/key:Key", "registry-key"): 1.0}
    assert cost.idle_monthly == 2.0 < 10, "no NAT, no instance: nothing runs between jobs"


def test_prod_on_batch_idles_at_one_nat_its_address_and_three_keys(prod_on_aws: Recording) -> None:
    cost = stack_cost("prod", prod_on_aws.resources)
    billed = {(r.type, r.name): r.monthly for r in cost.resources if r.monthly}
    assert billed[("aws:ec2/natGateway:NatGateway", "training-net-nat")] == 32.85
    assert billed[("aws:ec2/eip:Eip", "training-net-nat-eip")] == 3.65
    assert cost.idle_monthly == round(32.85 + 3.65 + 3 * 1.0, 2)


def test_a_training_run_is_priced_at_the_configured_instance(prod_on_aws: Recording) -> None:
    (run,) = stack_cost("prod", prod_on_aws.resources).training
    assert (run.instance_type, run.spot, run.hourly, run.typical) == ("g5.xlarge", False, 1.006, 1.006)


def test_an_unknown_type_is_unpriced_not_free(dev: Recording) -> None:
    bucket = dev.one("aws:s3/bucket:Bucket")
    stranger = dataclasses.replace(bucket, type="aws:sqs/queue:Queue", urn=bucket.urn + "x")
    cost = stack_cost("dev", [*dev.resources, stranger])
    assert [r.type for r in cost.unpriced] == ["aws:sqs/queue:Queue"]
    assert "UNPRICED: aws:sqs/queue:Queue" in render_text([cost])


def test_an_unpriced_instance_type_is_named(run_with: RunWith) -> None:
    recording = run_with("dev", **{"mlops:compute": {"instanceType": "p5.48xlarge"}})
    cost = stack_cost("dev", recording.resources)
    (run,) = cost.training
    assert (run.instance_type, run.hourly) == ("p5.48xlarge", None)
    assert "one training run: UNPRICED" in render_text([cost])


def test_make_cost_prints_every_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_main([]) == 0
    printed = capsys.readouterr().out
    assert "Stack dev: $" in printed and "Stack prod: $" in printed
    assert "price table of " in printed


def test_prod_on_gke_idles_under_250_a_month(prod: Recording) -> None:
    cost = stack_cost("prod", prod.resources)
    billed = {r.type: r.monthly for r in cost.resources if r.monthly}
    assert "gcp:container/cluster:Cluster" in billed and "gcp:compute/routerNat:RouterNat" in billed
    gpu_pool = next(r for r in cost.resources if r.name == "gke-gpu")
    assert gpu_pool.monthly == 0.0, "the GPU pool scales to zero while nothing trains"
    assert cost.idle_monthly < 250


def test_a_gke_training_run_is_priced_on_the_gpu_pool(prod: Recording) -> None:
    (run,) = stack_cost("prod", prod.resources).training
    assert (run.instance_type, run.spot, run.hourly) == ("g2-standard-4", False, 0.706832)


def test_prod_prices_each_gb_a_training_run_reads_across_clouds(prod: Recording) -> None:
    # The data stays on S3 and the GPUs are on GKE: every GB read leaves AWS for the internet and
    # comes in through Cloud NAT, which bills it again. No idle line shows that.
    egress = stack_cost("prod", prod.resources).egress
    assert egress is not None
    assert egress.parts == (("AWS data transfer out to the internet", 0.09), ("Cloud NAT data processing on GKE", 0.045))
    assert egress.per_gb == 0.135
    assert ("  cross-cloud data: each GB a training run reads from S3 costs $0.135 (AWS data transfer out to the "
            "internet $0.09/GB + Cloud NAT data processing on GKE $0.045/GB); the stack does not know the data "
            "set's size, so multiply by the GB each run reads") in render_text([stack_cost("prod", prod.resources)]).splitlines()


def test_no_cross_cloud_egress_where_data_and_training_share_a_cloud(dev: Recording, prod_on_aws: Recording) -> None:
    assert stack_cost("dev", dev.resources).egress is None
    assert stack_cost("prod", prod_on_aws.resources).egress is None
    assert "cross-cloud" not in render_text([stack_cost("prod", prod_on_aws.resources)])


def test_egress_prices_come_from_the_dated_table() -> None:
    table = price_table()["cross_cloud_egress"]
    assert (table["aws_internet_out_per_gb"], table["gcp_nat_processing_per_gib"]) == (0.09, 0.045)
    assert table["as_of"] == "2026-12-01" and len(table["sources"]) == 3


# The upper bound of a run is what the cluster or Batch enforces, not a number of its own:
# with a hard-coded one, a changed timeoutMinutes left make cost pricing the old bound.
def test_a_gke_run_is_bounded_by_the_training_jobs_deadline(prod: Recording, run_with: RunWith) -> None:
    (run,) = stack_cost("prod", prod.resources).training
    assert run.upper_hours == 3 * (120 + 15) / 60  # 3 attempts of the timeout and a GPU node's start
    shorter = run_with("prod", **{"mlops:training": {"timeoutMinutes": 10}})
    (run,) = stack_cost("prod", shorter.resources).training
    assert run.upper_hours == 3 * (10 + 15) / 60


def test_a_batch_run_is_bounded_by_every_attempt_at_its_timeout(dev: Recording, run_with: RunWith) -> None:
    (run,) = stack_cost("dev", dev.resources).training
    assert run.upper_hours == 3 * 60 / 60
    shorter = run_with("dev", **{"mlops:training": {"timeoutMinutes": 10}})
    (run,) = stack_cost("dev", shorter.resources).training
    assert run.upper_hours == 3 * 10 / 60


# --- each price kind, on hand-made resources ---------------------------------------------------

from offline.cost import (  # noqa: E402
    ResourceCost, StackCost, TrainingRun, cross_cloud_egress, gcp_machine_hourly, instance_hourly, money, price,
    price_table, render_text, stack_cost, training_runs,
)
from offline.engine import Registration  # noqa: E402


def reg(type_: str, name: str = "r", **inputs: Any) -> Registration:
    return Registration(type=type_, name=name, urn=f"urn:pulumi:s::mlops::{type_}::{name}", id=name, inputs=inputs,
                        state=dict(inputs), parent="", provider="", protect=False, retain_on_delete=False,
                        delete_before_replace=False, custom=True)


def priced(resource: Registration, idle_nodes: int = 0) -> tuple[str, float | None, str]:
    cost = price(resource, idle_nodes=idle_nodes)
    return cost.kind, cost.monthly, cost.note


def test_a_month_is_730_hours_and_spot_is_35_percent_of_on_demand() -> None:
    table = price_table()
    assert (table["hours_per_month"], table["instances"]["spot_factor"], table["gcp"]["spot_factor"]) == (730, 0.35, 0.35)


PRICE_CASES: dict[str, tuple[Registration, int, tuple[str, float | None, str]]] = {
    "nat-gateway-hourly": (reg("aws:ec2/natGateway:NatGateway"), 0,
                           ("hourly", 32.85, "$0.045/h x 730 h; " + price_table()["types"]["aws:ec2/natGateway:NatGateway"]["note"])),
    "kms-key-monthly": (reg("aws:kms/key:Key"), 0, ("monthly", 1.0, price_table()["types"]["aws:kms/key:Key"]["note"])),
    "gateway-endpoint-free": (reg("aws:ec2/vpcEndpoint:VpcEndpoint"), 0, ("free", 0.0, "Gateway endpoint: free")),
    "interface-endpoint-per-zone": (reg("aws:ec2/vpcEndpoint:VpcEndpoint", vpcEndpointType="Interface", subnetIds=["a", "b"]), 0,
                                    ("hourly", 14.6, "Interface endpoint: $0.01/h x 2 zone(s)")),
    "interface-endpoint-at-least-one-zone": (reg("aws:ec2/vpcEndpoint:VpcEndpoint", vpcEndpointType="Interface"), 0,
                                             ("hourly", 7.3, "Interface endpoint: $0.01/h x 1 zone(s)")),
    "instance-on-demand-default-root": (reg("aws:ec2/instance:Instance", instanceType="g4dn.xlarge"), 0,
                                        ("instance", 384.62, "g4dn.xlarge on-demand $0.526/h x 730 h + 8 GB gp3 x $0.08/GB-month")),
    "instance-spot-gp2-root": (reg("aws:ec2/instance:Instance", instanceType="g4dn.xlarge",
                                   instanceMarketOptions={"marketType": "spot"}, rootBlockDevice={"volumeSize": 100, "volumeType": "gp2"}), 0,
                               ("instance", 144.39, "g4dn.xlarge spot estimate $0.1841/h x 730 h + 100 GB gp2 x $0.1/GB-month")),
    "instance-unknown-type": (reg("aws:ec2/instance:Instance", instanceType="x9.huge"), 0,
                              ("unpriced", None, "UNPRICED: instance type x9.huge is not in offline/data/prices.json")),
    "instance-unknown-volume": (reg("aws:ec2/instance:Instance", instanceType="g4dn.xlarge", rootBlockDevice={"volumeType": "io2"}), 0,
                                ("unpriced", None, "UNPRICED: EBS volume type io2 is not in offline/data/prices.json")),
    "pool-at-zero": (reg("gcp:container/nodePool:NodePool", nodeConfig={"machineType": "e2-standard-4"}), 0,
                     ("usage", 0.0, "e2-standard-4: 0 nodes while idle; nodes bill only while pods need them")),
    "pool-with-minimum": (reg("gcp:container/nodePool:NodePool", nodeConfig={"machineType": "e2-standard-4"},
                              autoscaling={"totalMinNodeCount": 2}), 0,
                          ("node-pool", 215.66, "2 x e2-standard-4 at $0.134012/h x 730 h + 100 GB disk x $0.1/GB-month each")),
    "pool-per-zone-minimum-spot-disk": (reg("gcp:container/nodePool:NodePool", nodeConfig={"machineType": "e2-standard-4", "spot": True, "diskSizeGb": 50},
                                            autoscaling={"minNodeCount": 1}), 0,
                                        ("node-pool", 39.24, "1 x e2-standard-4 at $0.0469/h x 730 h + 50 GB disk x $0.1/GB-month each")),
    "pool-unknown-machine": (reg("gcp:container/nodePool:NodePool", nodeConfig={"machineType": "z9"}, autoscaling={"totalMinNodeCount": 1}), 0,
                             ("unpriced", None, "UNPRICED: machine type z9 is not in offline/data/prices.json")),
    "nat-with-idle-nodes": (reg("gcp:compute/routerNat:RouterNat"), 3,
                            ("cloud-nat", 6.72, "gateway IP $0.005/h + 3 idle node(s) x $0.0014/VM-h")),
    "cluster-ip-service": (reg("kubernetes:core/v1:Service", spec={"type": "ClusterIP"}), 0, ("free", 0.0, "ClusterIP: no cloud resource")),
    "load-balancer-service": (reg("kubernetes:core/v1:Service", spec={"type": "LoadBalancer"}), 0,
                              ("hourly", 18.25, "LoadBalancer: one forwarding rule $0.025/h x 730 h")),
    "usage": (reg("aws:s3/bucket:Bucket"), 0, ("usage", 0.0, price_table()["types"]["aws:s3/bucket:Bucket"].get("note") or "usage")),
    "free": (reg("aws:s3/bucketVersioning:BucketVersioning"), 0,
             ("free", 0.0, price_table()["types"]["aws:s3/bucketVersioning:BucketVersioning"].get("note") or "free")),
    "unknown-type": (reg("aws:sqs/queue:Queue"), 0, ("unpriced", None, "UNPRICED: this type is not in offline/data/prices.json")),
}


@pytest.mark.parametrize("case", PRICE_CASES)
def test_each_price_kind_bills_its_hours_units_and_volumes(case: str) -> None:
    resource, idle_nodes, expected = PRICE_CASES[case]
    assert priced(resource, idle_nodes) == expected


def test_spot_prices_round_to_four_digits() -> None:
    # 0.526 x 0.35 = 0.1841 exactly; 0.134012 x 0.35 = 0.0469042 -> 0.0469.
    assert (instance_hourly("g4dn.xlarge", spot=True), gcp_machine_hourly("e2-standard-4", spot=True),
            instance_hourly("g4dn.xlarge", spot=False), gcp_machine_hourly("e2-standard-4", spot=False)) == (
        0.1841, 0.0469, 0.526, 0.134012)


def test_the_idle_nodes_of_every_pool_are_what_the_nat_bills() -> None:
    pools = [reg("gcp:container/nodePool:NodePool", f"p{i}", nodeConfig={"machineType": "e2-standard-4"},
                 autoscaling={"totalMinNodeCount": i}) for i in (1, 2)]
    cost = stack_cost("s", [*pools, reg("gcp:compute/routerNat:RouterNat", "nat")])
    (nat,) = [r for r in cost.resources if r.name == "nat"]
    assert nat.note == "gateway IP $0.005/h + 3 idle node(s) x $0.0014/VM-h"


def test_the_idle_total_rounds_to_cents_and_counts_unpriced_as_nothing() -> None:
    cost = StackCost("s", [ResourceCost("u1", "t", "a", "hourly", 0.004, ""), ResourceCost("u2", "t", "b", "hourly", 0.004, ""),
                           ResourceCost("u3", "t", "c", "unpriced", None, "")], [])
    assert (cost.idle_monthly, [r.urn for r in cost.unpriced]) == (0.01, ["u3"])


def test_a_batch_run_is_priced_at_the_cheapest_allowed_type() -> None:
    ce = reg("aws:batch/computeEnvironment:ComputeEnvironment", "training-ce",
             computeResources={"type": "SPOT", "instanceTypes": ["g4dn.2xlarge", "g4dn.xlarge", "x9.huge"]})
    job = reg("aws:batch/jobDefinition:JobDefinition", "job", timeout={"attemptDurationSeconds": 3600}, retryStrategy={"attempts": 2})
    (run,) = training_runs([ce, job])
    assert (run.resource, run.instance_type, run.spot, run.hourly, run.typical_hours, run.upper_hours) == (
        "training-ce", "g4dn.xlarge", True, 0.1841, 1.0, 2.0)


def test_a_batch_run_with_no_known_type_is_unpriced_and_names_them() -> None:
    ce = reg("aws:batch/computeEnvironment:ComputeEnvironment", "ce", computeResources={"type": "EC2", "instanceTypes": ["x9.a", "x9.b"]})
    (run,) = training_runs([ce])
    assert (run.instance_type, run.spot, run.hourly, run.upper_hours, run.typical, run.upper) == ("x9.a, x9.b", False, None, None, None, None)


def test_only_the_gpu_pool_prices_a_run() -> None:
    pools = [reg("gcp:container/nodePool:NodePool", "cpu", nodeConfig={"machineType": "e2-standard-4"}),
             reg("gcp:container/nodePool:NodePool", "gpu", nodeConfig={"machineType": "e2-standard-4", "spot": True,
                                                                        "guestAccelerators": [{"type": "nvidia-l4"}]})]
    assert [(r.resource, r.instance_type, r.spot, r.hourly) for r in training_runs(pools)] == [("gpu", "e2-standard-4", True, 0.0469)]


def test_a_run_without_a_timeout_has_no_upper_bound() -> None:
    job = reg("aws:batch/jobDefinition:JobDefinition", "job", retryStrategy={"attempts": 3})
    ce = reg("aws:batch/computeEnvironment:ComputeEnvironment", "ce", computeResources={"type": "EC2", "instanceTypes": ["g4dn.xlarge"]})
    (run,) = training_runs([ce, job])
    assert (run.upper_hours, run.upper, run.typical) == (None, None, 0.526)


def test_egress_needs_the_bucket_and_a_pool_and_adds_nat_when_present() -> None:
    bucket, pool, nat = reg("aws:s3/bucket:Bucket"), reg("gcp:container/nodePool:NodePool"), reg("gcp:compute/routerNat:RouterNat")
    assert (cross_cloud_egress([bucket]), cross_cloud_egress([pool, nat])) == (None, None)
    without_nat, with_nat = cross_cloud_egress([bucket, pool]), cross_cloud_egress([bucket, pool, nat])
    assert without_nat is not None and with_nat is not None
    assert (without_nat.per_gb, with_nat.parts) == (0.09, (("AWS data transfer out to the internet", 0.09),
                                                           ("Cloud NAT data processing on GKE", 0.045)))


def test_money_shows_cents_with_thousands_a_saving_and_unpriced() -> None:
    assert (money(1234.5), money(0.0), money(-32.85), money(None)) == ("$1,234.50", "$0.00", "-$32.85", "UNPRICED")


def test_the_text_report_lists_billed_resources_and_summarises_the_rest() -> None:
    run = TrainingRun("ce", "g4dn.xlarge", False, 0.526, 1.0, None, "n")
    spot_run = TrainingRun("gpu", "g2-standard-4", True, 0.25, 1.0, 2.5, "m")
    cost = StackCost("s", [
        ResourceCost("u1", "aws:kms/key:Key", "key", "monthly", 1.0, ""),
        ResourceCost("u2", "aws:s3/bucket:Bucket", "data", "usage", 0.0, ""),
        ResourceCost("u3", "aws:iam/role:Role", "role", "free", 0.0, ""),
        ResourceCost("u4", "aws:sqs/queue:Queue", "q", "unpriced", None, "UNPRICED: x"),
    ], [run, spot_run])
    lines = render_text([cost, StackCost("empty", [], [])]).splitlines()
    assert lines[2:] == [
        "Stack s: $1.00/month while idle",
        "       $1.00  aws:kms/key:Key  key  ()",
        "    UNPRICED  aws:sqs/queue:Queue  q  (UNPRICED: x)",
        "       $0.00  usage-priced, $0 while idle: aws:s3/bucket:Bucket",
        "       $0.00  1 free resources (IAM, network plumbing, bucket settings, providers)",
        "  UNPRICED: aws:sqs/queue:Queue  q: not counted in the total above",
        "  one training run: $0.53 (g4dn.xlarge on-demand, typical 1 h; no timeout is configured, so no upper bound); n",
        "  one training run: $0.25 (g2-standard-4 spot estimate, typical 1 h; upper bound $0.62 (2.5 h, every attempt at its deadline)); m",
        "",
        "Stack empty: $0.00/month while idle",
        "       $0.00  0 free resources (IAM, network plumbing, bucket settings, providers)",
        "  one training run: no priced training compute in this stack",
    ]
    assert lines[0] == ("Idle monthly cost per stack: list prices, us-east-1, 730 h/month, price table of "
                        f"{price_table()['as_of']} (offline/data/prices.json)")
