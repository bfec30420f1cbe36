"""offline/stack_cost.py: the price table covers what the program registers; each stack's idle total; unknown types are named."""

from __future__ import annotations

import dataclasses

import pytest

from offline.cost_text import render_text
from offline.engine import Recording
from offline.prices import ResourceCost, price_table
from offline.stack_cost import StackCost, stack_cost
from tests.registrations import reg
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


KEYS = {
    ("aws:kms/key:Key", "data-key"): 1.0,
    ("aws:kms/key:Key", "registry-key"): 1.0,
    ("aws:kms/key:Key", "notifications-key"): 1.0,
}


def test_dev_idles_at_its_three_kms_keys(dev: Recording) -> None:
    cost = stack_cost("dev", dev.resources)
    billed = {(r.type, r.name): r.monthly for r in cost.resources if r.monthly}
    assert billed == KEYS
    assert cost.idle_monthly == 3.0 < 10, "no NAT, no instance: nothing runs between jobs"


def test_dev_without_airflow_also_pays_its_schedules_dead_letter_alarm(dev_scheduled: Recording) -> None:
    billed = {(r.type, r.name): r.monthly for r in stack_cost("dev", dev_scheduled.resources).resources if r.monthly}
    assert billed == {**KEYS, ("aws:cloudwatch/metricAlarm:MetricAlarm", "training-iris-schedule-dlq-alarm"): 0.1}


@pytest.mark.parametrize(("stack", "alarm"), [("prod_on_aws", 0.0), ("prod_on_aws_scheduled", 0.1)])
def test_prod_on_batch_idles_at_one_nat_its_address_four_keys_and_any_alarm(
    request: pytest.FixtureRequest, stack: str, alarm: float
) -> None:
    cost = stack_cost("prod", request.getfixturevalue(stack).resources)
    billed = {(r.type, r.name): r.monthly for r in cost.resources if r.monthly}
    assert billed[("aws:ec2/natGateway:NatGateway", "training-net-nat")] == 32.85
    assert billed[("aws:ec2/eip:Eip", "training-net-nat-eip")] == 3.65
    assert cost.idle_monthly == round(32.85 + 3.65 + 4 * 1.0 + alarm, 2)


def test_an_unknown_type_is_unpriced_not_free(dev: Recording) -> None:
    bucket = dev.one("aws:s3/bucket:Bucket")
    stranger = dataclasses.replace(bucket, type="aws:lambda/function:Function", urn=bucket.urn + "x")
    cost = stack_cost("dev", [*dev.resources, stranger])
    assert [r.type for r in cost.unpriced] == ["aws:lambda/function:Function"]
    assert "UNPRICED: aws:lambda/function:Function" in render_text([cost])


def test_prod_on_gke_idles_under_350_a_month_with_airflow(prod: Recording) -> None:
    cost = stack_cost("prod", prod.resources)
    billed = {r.type: r.monthly for r in cost.resources if r.monthly}
    assert "gcp:container/cluster:Cluster" in billed and "gcp:compute/routerNat:RouterNat" in billed
    gpu_pool = next(r for r in cost.resources if r.name == "gke-gpu")
    assert gpu_pool.monthly == 0.0, "the GPU pool scales to zero while nothing trains"
    # The notification topic's key among it, and Airflow's node and database ($105.95: tests/test_cost_pipeline.py).
    assert cost.idle_monthly == 325.72 < 350


# --- on hand-made resources ---------------------------------------------------

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


# --- a month's estimate against the stack's budget ------------------------------------------

@pytest.mark.parametrize(("stack", "idle"), [("dev", 3.0), ("dev_scheduled", 3.1)])
def test_dev_estimate_is_idle_plus_31_daily_spot_runs(request: pytest.FixtureRequest, stack: str, idle: float) -> None:
    # With Airflow the runs are its DAG's, on the same schedule (the Batch component records it).
    cost = stack_cost("dev", request.getfixturevalue(stack).resources)
    (run,) = cost.training
    assert run.typical is not None
    assert (cost.scheduled_runs, cost.budget_monthly) == (31, 10.0)  # 0 3 * * *: a 31-day month
    assert cost.scheduled_monthly == round(31 * run.typical, 2)
    assert cost.month_estimate == round(idle + 31 * run.typical, 2)


def test_prod_estimate_counts_23_weekday_runs_on_the_gpu_pool(prod: Recording) -> None:
    cost = stack_cost("prod", prod.resources)
    (run,) = cost.training
    assert run.typical is not None
    assert (cost.scheduled_runs, cost.budget_monthly) == (23, 350.0)  # 0 2 * * 1-5: at most 23 weekdays a month
    assert cost.month_estimate == round(cost.idle_monthly + 23 * run.typical, 2)


def test_a_busier_schedule_raises_the_estimate_by_its_runs(run_with: RunWith) -> None:
    recording = run_with("dev", **{"mlops:projects": {"iris": {"train": {"schedule": "0 */6 * * *"}}}})
    cost = stack_cost("dev", recording.resources)
    (run,) = cost.training
    assert run.typical is not None
    assert cost.scheduled_runs == 124 and cost.scheduled_monthly == round(124 * run.typical, 2)


def test_cpu_training_on_the_cluster_adds_runs_but_no_compute(dev_cluster_training: Recording) -> None:
    # The CronJob's pods run on the kubeconfig cluster's CPUs, which the stack does not bill.
    cost = stack_cost("dev", dev_cluster_training.resources)
    assert (cost.scheduled_runs, cost.scheduled_monthly, cost.month_estimate) == (31, 0.0, cost.idle_monthly)


@pytest.mark.parametrize("stack", ["dev", "prod", "prod_aws"])
def test_each_stack_files_budget_is_near_make_costs_estimate(request: pytest.FixtureRequest, stack: str) -> None:
    # At least the estimate (else the forecast alert fires every month), and near it (else a runaway
    # GPU or a stuck instance hides under the slack): at most 1.5 times it, plus $10.
    cost = stack_cost(stack, request.getfixturevalue(stack).resources)
    assert cost.budget_monthly is not None and cost.month_estimate is not None
    assert cost.month_estimate <= cost.budget_monthly <= 1.5 * cost.month_estimate + 10
