"""offline/training_cost.py: one training run's cost per backend, its upper bound, and reads across clouds."""

from __future__ import annotations

from offline.cost_text import render_text
from offline.engine import Recording
from offline.stack_cost import stack_cost
from offline.training_cost import cross_cloud_egress, training_runs
from tests.registrations import reg
from tests.support import RunWith


def test_a_training_run_is_priced_at_the_configured_instance(prod_on_aws: Recording) -> None:
    (run,) = stack_cost("prod", prod_on_aws.resources).training
    assert (run.instance_type, run.spot, run.hourly, run.typical) == ("g5.xlarge", False, 1.006, 1.006)


def test_an_unpriced_instance_type_is_named(run_with: RunWith) -> None:
    recording = run_with("dev", **{"mlops:compute": {"instanceType": "p5.48xlarge"}})
    cost = stack_cost("dev", recording.resources)
    (run,) = cost.training
    assert (run.instance_type, run.hourly) == ("p5.48xlarge", None)
    assert "one training run: UNPRICED" in render_text([cost])


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


# The upper bound of a run is what the cluster or Batch enforces, not a number of its own:
# with a hard-coded one, a changed timeoutMinutes left make cost pricing the old bound.
def test_a_gke_run_is_bounded_by_the_training_jobs_deadline(prod: Recording, run_with: RunWith) -> None:
    (run,) = stack_cost("prod", prod.resources).training
    assert run.upper_hours == 3 * (120 + 15) / 60  # 3 attempts of the timeout and a GPU node's start
    shorter = run_with("prod", **{"mlops:projects": {"iris": {"train": {"timeoutMinutes": 10}}}})
    (run,) = stack_cost("prod", shorter.resources).training
    assert run.upper_hours == 3 * (10 + 15) / 60


def test_a_batch_run_is_bounded_by_every_attempt_at_its_timeout(dev: Recording, run_with: RunWith) -> None:
    (run,) = stack_cost("dev", dev.resources).training
    assert run.upper_hours == 3 * 60 / 60
    shorter = run_with("dev", **{"mlops:projects": {"iris": {"train": {"timeoutMinutes": 10}}}})
    (run,) = stack_cost("dev", shorter.resources).training
    assert run.upper_hours == 3 * 10 / 60


# --- on hand-made resources ---------------------------------------------------

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
