"""`make cost`: the price table covers what the program registers; unknown types are named."""

from __future__ import annotations

import dataclasses

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
