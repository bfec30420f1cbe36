"""Where a Batch job runs (components/batch/capacity.py): compute environment, launch template, queue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline.engine import Recording
from tests.batch.recorded import COMPUTE_ENVIRONMENT, JOB_QUEUE, LAUNCH_TEMPLATE, compute_resources
from tests.support import PROD_ON_AWS, RunWith


# --- the compute environment ---------------------------------------------------------------


# Strategies with which Batch (and the provider) update a compute environment in place.
UPDATABLE_STRATEGIES = {"BEST_FIT_PROGRESSIVE", "SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED"}


def test_compute_environment_sets_no_desired_vcpus(dev: Recording) -> None:
    # Batch owns desiredvCpus; a value here would hold instances up or fight the scaler.
    assert "desiredVcpus" not in compute_resources(dev)


def test_compute_environment_is_managed_ec2(dev: Recording) -> None:
    assert dev.one(COMPUTE_ENVIRONMENT).inputs["type"] == "MANAGED"


def test_instance_types_come_from_the_stack(dev: Recording, prod_on_aws: Recording) -> None:
    assert compute_resources(dev)["instanceTypes"] == ["g4dn.xlarge"]
    assert compute_resources(prod_on_aws)["instanceTypes"] == ["g5.xlarge"]


def test_spot_may_choose_among_several_instance_types(run_with: RunWith) -> None:
    types = ["g4dn.xlarge", "g5.xlarge", "g6.xlarge"]
    run = run_with("dev", **{"mlops:compute": {"instanceType": types}})
    assert compute_resources(run)["instanceTypes"] == types


def test_max_vcpus_holds_one_instance_of_the_largest_type(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:compute": {"instanceType": ["g4dn.xlarge", "g5.2xlarge"]}})
    assert compute_resources(run)["maxVcpus"] == 8


def test_instances_boot_the_al2023_gpu_ami(dev: Recording) -> None:
    assert compute_resources(dev)["ec2Configurations"] == [{"imageType": "ECS_AL2023_NVIDIA"}]


def test_dev_runs_on_spot_with_price_capacity_optimized(dev: Recording) -> None:
    resources = compute_resources(dev)
    assert (resources["type"], resources["allocationStrategy"]) == ("SPOT", "SPOT_PRICE_CAPACITY_OPTIMIZED")


def test_prod_runs_on_demand_with_best_fit_progressive(prod_on_aws: Recording) -> None:
    resources = compute_resources(prod_on_aws)
    assert (resources["type"], resources["allocationStrategy"]) == ("EC2", "BEST_FIT_PROGRESSIVE")


def test_spot_setting_overrides_the_environment_default(run_with: RunWith) -> None:
    run = run_with("prod", **{**PROD_ON_AWS, "mlops:compute": {"kind": "ec2", "spot": True}})
    assert compute_resources(run)["type"] == "SPOT"


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_allocation_strategy_allows_in_place_updates(request: pytest.FixtureRequest, stack: str) -> None:
    # BEST_FIT (the default when unset) makes every change of instance types, subnets or
    # launch template a replacement.
    run: Recording = request.getfixturevalue(stack)
    assert compute_resources(run).get("allocationStrategy") in UPDATABLE_STRATEGIES


def test_compute_environment_uses_the_batch_service_linked_role(dev: Recording) -> None:
    # An explicit service role (other than the service-linked one) rules out in-place updates.
    assert "serviceRole" not in dev.one(COMPUTE_ENVIRONMENT).inputs


def test_spot_needs_no_fleet_role(dev: Recording) -> None:
    assert "spotIamFleetRole" not in compute_resources(dev)


def test_compute_environment_has_a_launch_template_from_the_start(dev: Recording) -> None:
    # Adding or removing a launch template later forces a new compute environment.
    template = dev.one(LAUNCH_TEMPLATE)
    assert compute_resources(dev)["launchTemplate"] == {
        "launchTemplateId": template.id,
        "version": str(template.state["latestVersion"]),
    }


def test_compute_environment_is_named_by_prefix(dev: Recording) -> None:
    inputs = dev.one(COMPUTE_ENVIRONMENT).inputs
    assert inputs["namePrefix"] == "mlops-dev-gpu-"
    assert "name" not in inputs


def test_a_replaced_compute_environment_is_created_before_the_old_one_goes(dev: Recording) -> None:
    assert dev.one(COMPUTE_ENVIRONMENT).delete_before_replace is False


def test_queue_uses_the_compute_environment(dev: Recording) -> None:
    [order] = dev.one(JOB_QUEUE).inputs["computeEnvironmentOrders"]
    assert order == {"computeEnvironment": dev.one(COMPUTE_ENVIRONMENT).state["arn"], "order": 1}


def test_infrastructure_updates_wait_for_running_jobs(dev: Recording) -> None:
    policy = dev.one(COMPUTE_ENVIRONMENT).inputs["updatePolicy"]
    assert policy == {"terminateJobsOnUpdate": False, "jobExecutionTimeoutMinutes": 60}


def test_instances_use_the_training_security_group(dev: Recording) -> None:
    assert compute_resources(dev)["securityGroupIds"] == [dev.named("training-sg").id]


def test_security_group_allows_no_inbound(dev: Recording) -> None:
    assert dev.named("training-sg").inputs["ingress"] == []


def test_security_group_allows_only_https_out(dev: Recording) -> None:
    [rule] = dev.named("training-sg").inputs["egress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 443, 443)


def test_instances_run_as_the_ecs_agent_role(dev: Recording) -> None:
    profile = dev.named("training-instance-profile")
    assert compute_resources(dev)["instanceRole"] == profile.state["arn"]
    assert profile.inputs["role"] == dev.named("training-instance-role").state["name"]


def test_instance_role_is_assumed_only_by_ec2(dev: Recording) -> None:
    trust = json.loads(dev.named("training-instance-role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]


def test_instance_role_has_only_the_ecs_agent_policy(dev: Recording) -> None:
    attachments = [r.inputs for r in dev.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
    instance_role = dev.named("training-instance-role").state["name"]
    assert [a["policyArn"] for a in attachments if a["role"] == instance_role] == [
        "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    ]


def test_instances_pull_only_from_the_training_repository(dev: Recording) -> None:
    # The managed ECS policy allows pulls from every repository in the account; this Deny narrows it.
    policy = json.loads(dev.named("training-instance-ecr").inputs["policy"])
    assert dev.named("training-instance-ecr").inputs["role"] == dev.named("training-instance-role").state["name"]
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PullOnlyTheTrainingRepository",
                "Effect": "Deny",
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "NotResource": dev.get("aws:ecr/repository:Repository", "registry-train").state["arn"],
            }
        ],
    }


def test_compute_environment_is_enabled(dev: Recording) -> None:
    # A DISABLED environment launches nothing: every job waits RUNNABLE until cancelled.
    assert dev.one(COMPUTE_ENVIRONMENT).inputs["state"] == "ENABLED"


@pytest.mark.parametrize(("stack", "prefix"), [("dev", "mlops-dev-gpu-"), ("prod_on_aws", "mlops-prod-gpu-")])
def test_compute_environment_name_prefix_is_unique_per_stack(request: pytest.FixtureRequest, stack: str, prefix: str) -> None:
    # Batch names are per account and region: two stacks with one prefix would fight over it.
    assert request.getfixturevalue(stack).one(COMPUTE_ENVIRONMENT).inputs["namePrefix"] == prefix


def test_max_vcpus_is_one_instance_of_the_configured_type(dev: Recording, prod_on_aws: Recording) -> None:
    # More would let Batch start a second GPU instance for one run; fewer, none at all.
    assert compute_resources(dev)["maxVcpus"] == 4  # g4dn.xlarge
    assert compute_resources(prod_on_aws)["maxVcpus"] == 4  # g5.xlarge


def test_instances_are_tagged_with_the_stack(dev: Recording, prod_on_aws: Recording) -> None:
    # The tag is how the cost report and a person in the console tell the stacks' instances apart.
    assert compute_resources(dev)["tags"] == {"Name": "mlops-dev-train"}
    assert compute_resources(prod_on_aws)["tags"] == {"Name": "mlops-prod-train"}


def test_infrastructure_updates_wait_as_long_as_prod_jobs_run(prod_on_aws: Recording) -> None:
    # Shorter than the job timeout: an update kills a run that was still within its time.
    policy = prod_on_aws.one(COMPUTE_ENVIRONMENT).inputs["updatePolicy"]
    assert policy == {"terminateJobsOnUpdate": False, "jobExecutionTimeoutMinutes": 120}


def test_infrastructure_updates_wait_at_most_the_api_limit(long_run: Recording) -> None:
    # Batch rejects a jobExecutionTimeoutMinutes above 360: the update would fail.
    policy = long_run.one(COMPUTE_ENVIRONMENT).inputs["updatePolicy"]
    assert policy == {"terminateJobsOnUpdate": False, "jobExecutionTimeoutMinutes": 360}


def test_security_group_egress_is_https_to_anywhere_only(dev: Recording) -> None:
    # ECR, ECS, S3 and CloudWatch have no fixed addresses; any other port is an exfiltration path.
    [rule] = dev.named("training-sg").inputs["egress"]
    assert {key: value for key, value in rule.items() if key != "description"} == {
        "protocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
        "cidrBlocks": ["0.0.0.0/0"],
    }


def test_security_group_is_in_the_training_vpc(dev: Recording) -> None:
    assert dev.named("training-sg").inputs["vpcId"] == dev.one("aws:ec2/vpc:Vpc").id
    assert dev.named("training-sg").inputs["tags"] == {"Name": "training-sg"}


def test_instance_profile_lives_under_the_project_path(dev: Recording) -> None:
    assert dev.named("training-instance-profile").inputs["path"] == "/mlops/"


# --- the launch template -------------------------------------------------------------------


def test_imdsv2_required(dev: Recording) -> None:
    options = dev.one(LAUNCH_TEMPLATE).inputs["metadataOptions"]
    assert (options["httpEndpoint"], options["httpTokens"]) == ("enabled", "required")


def test_containers_cannot_fetch_instance_credentials(dev: Recording) -> None:
    # A hop limit of 1 keeps IMDSv2 tokens on the host; the job uses its own role.
    assert dev.one(LAUNCH_TEMPLATE).inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1


def test_root_volume_is_encrypted_gp3(dev: Recording) -> None:
    [root] = dev.one(LAUNCH_TEMPLATE).inputs["blockDeviceMappings"]
    assert root["deviceName"] == "/dev/xvda"
    assert (root["ebs"]["volumeType"], root["ebs"]["encrypted"]) == ("gp3", "true")


def root_volume(run: Recording) -> dict[str, Any]:
    [root] = run.one(LAUNCH_TEMPLATE).inputs["blockDeviceMappings"]
    return root


def test_root_volume_is_deleted_with_its_instance(dev: Recording) -> None:
    # "false": every scaled-in instance leaves a billed 60 GiB volume behind.
    assert root_volume(dev)["ebs"]["deleteOnTermination"] == "true"


def test_root_volume_holds_the_ami_and_the_training_image(dev: Recording) -> None:
    # Smaller than the AMI snapshot and the pulled image: the instance cannot boot or pull.
    assert root_volume(dev) == {
        "deviceName": "/dev/xvda",
        "ebs": {"volumeType": "gp3", "volumeSize": 60, "encrypted": "true", "deleteOnTermination": "true"},
    }


def test_launch_template_metadata_options_are_exactly_imdsv2_hop_one(dev: Recording) -> None:
    assert dev.one(LAUNCH_TEMPLATE).inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
    }


def test_a_launch_template_change_becomes_the_default_version(dev: Recording) -> None:
    # Without it a changed template is a new version nobody launches.
    assert dev.one(LAUNCH_TEMPLATE).inputs["updateDefaultVersion"] is True


def test_root_volumes_are_tagged_with_the_stack(dev: Recording, prod_on_aws: Recording) -> None:
    assert dev.one(LAUNCH_TEMPLATE).inputs["tagSpecifications"] == [
        {"resourceType": "volume", "tags": {"Name": "mlops-dev-train"}}
    ]
    assert prod_on_aws.one(LAUNCH_TEMPLATE).inputs["tagSpecifications"] == [
        {"resourceType": "volume", "tags": {"Name": "mlops-prod-train"}}
    ]


# --- the queue -----------------------------------------------------------------------------


def time_limit(run: Recording, reason: str) -> dict[str, Any]:
    [action] = [a for a in run.one(JOB_QUEUE).inputs["jobStateTimeLimitActions"] if a["reason"] == reason]
    return action


def cancelled_while_runnable(reason: str, *, after_seconds: int) -> dict[str, Any]:
    """The time-limit action that cancels a job left RUNNABLE for `reason`."""
    return {"state": "RUNNABLE", "reason": reason, "action": "CANCEL", "maxTimeSeconds": after_seconds}


@pytest.mark.parametrize(("minutes", "seconds"), [(None, 1800), (90, 5400)])
def test_a_job_without_capacity_is_cancelled_after_the_runnable_timeout(
    run_with: RunWith, minutes: int | None, seconds: int
) -> None:
    # Without the limit the run waits RUNNABLE until someone notices, holding the queue (and
    # the next night's run) behind it; the pipeline's train task then fails and notifies.
    run = run_with("dev", **({"mlops:pipeline": {"runnableTimeoutMinutes": minutes}} if minutes else {}))
    reason = "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"
    assert time_limit(run, reason) == cancelled_while_runnable(reason, after_seconds=seconds)


@pytest.mark.parametrize(
    "reason",
    [
        "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
        "MISCONFIGURATION:EC2_INSTANCE_CONFIGURATION_UNSUPPORTED",
    ],
)
def test_a_job_the_environment_can_never_run_fails_after_ten_minutes(dev: Recording, reason: str) -> None:
    # Waiting never mends these: at the runnable timeout it would only fail later.
    assert time_limit(dev, reason) == cancelled_while_runnable(reason, after_seconds=600)


def test_queue_has_only_the_four_time_limits_batch_can_act_on(dev: Recording) -> None:
    assert [a["reason"] for a in dev.one(JOB_QUEUE).inputs["jobStateTimeLimitActions"]] == [
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
        "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
        "MISCONFIGURATION:EC2_INSTANCE_CONFIGURATION_UNSUPPORTED",
    ]


def test_the_time_limits_hold_without_airflow_too(dev: Recording, run_with: RunWith) -> None:
    # A job the schedule submitted is stuck as badly as one Airflow submitted.
    scheduled = run_with("dev", **{"mlops:pipeline": {"kind": "none"}})
    assert scheduled.one(JOB_QUEUE).inputs["jobStateTimeLimitActions"] == dev.one(JOB_QUEUE).inputs["jobStateTimeLimitActions"]


def test_queue_is_enabled_with_priority_one(dev: Recording) -> None:
    # A DISABLED queue accepts no submission: the schedule's SubmitJob fails every night.
    inputs = dev.one(JOB_QUEUE).inputs
    assert (inputs["state"], inputs["priority"]) == ("ENABLED", 1)
