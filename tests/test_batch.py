"""GPU training on AWS Batch (compute.kind: ec2), as the program registers it for each stack."""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import shlex
from typing import Any

import pulumi
import pytest

from components.batch import BatchTrainingArgs
from components.batch.job import JobResources, job_resources
from components.instance_types import GPU_INSTANCE_TYPES, InstanceSize
from offline import engine
from offline.engine import ACCOUNT_ID, Recording, Registration, run_program, stack_config, stack_config_with
from tests.support import PROD_ON_AWS, RunWith

COMPONENT = "mlops:batch:BatchTraining"
COMPUTE_ENVIRONMENT = "aws:batch/computeEnvironment:ComputeEnvironment"
JOB_QUEUE = "aws:batch/jobQueue:JobQueue"
JOB_DEFINITION = "aws:batch/jobDefinition:JobDefinition"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SCHEDULE = "aws:scheduler/schedule:Schedule"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
# Strategies with which Batch (and the provider) update a compute environment in place.
UPDATABLE_STRATEGIES = {"BEST_FIT_PROGRESSIVE", "SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED"}


@pytest.fixture(scope="module")
def long_run() -> Recording:
    """dev with a 12-hour training timeout: past what an infrastructure update may wait."""
    return run_program("dev", stack_config_with("dev", {"mlops:training": {"timeoutMinutes": 720}}))


def compute_resources(run: Recording) -> dict[str, Any]:
    return run.one(COMPUTE_ENVIRONMENT).inputs["computeResources"]


def container(run: Recording) -> dict[str, Any]:
    return json.loads(run.one(JOB_DEFINITION).inputs["containerProperties"])


def requirements(run: Recording) -> dict[str, int]:
    return {r["type"]: int(r["value"]) for r in container(run)["resourceRequirements"]}


def statements(run: Recording, policy_name: str) -> dict[str, dict[str, Any]]:
    policy = json.loads(run.named(policy_name).inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def retry_decision(run: Recording, *, exit_code: int | None = None, reason: str | None = None, status_reason: str = "") -> str:
    """What Batch does after a failed attempt: the first rule whose every condition matches.

    A condition matches a present value by glob; Batch retries when no rule matches.
    """
    observed = {"onExitCode": None if exit_code is None else str(exit_code), "onReason": reason, "onStatusReason": status_reason}
    for rule in run.one(JOB_DEFINITION).inputs["retryStrategy"]["evaluateOnExits"]:
        conditions = {key: pattern for key, pattern in rule.items() if key != "action"}
        if all(observed[key] is not None and fnmatch.fnmatchcase(observed[key], pattern) for key, pattern in conditions.items()):
            return rule["action"]
    return "RETRY"


# --- the component -------------------------------------------------------------------------


def test_training_component_owns_its_resources(dev: Recording) -> None:
    children = {r.type for r in dev.children_of(dev.one(COMPONENT))}
    assert {COMPUTE_ENVIRONMENT, JOB_QUEUE, JOB_DEFINITION, SCHEDULE, LAUNCH_TEMPLATE, LOG_GROUP} <= children


def test_every_training_resource_uses_the_explicit_provider(dev: Recording) -> None:
    component = dev.one(COMPONENT)
    network = dev.one("mlops:network:TrainingNetwork")
    in_region = dev.get("pulumi:providers:aws", "aws")
    resources = [r for r in dev.children_of(component) + dev.children_of(network) if r.custom]
    assert resources
    assert all(r.provider.startswith(f"{in_region.urn}::") for r in resources)


def ancestors(run: Recording, resource: Registration) -> list[str]:
    by_urn = {r.urn: r for r in run.resources}
    chain = []
    while resource.parent in by_urn:
        resource = by_urn[resource.parent]
        chain.append(resource.urn)
    return chain


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_every_training_resource_is_inside_the_component(request: pytest.FixtureRequest, stack: str) -> None:
    # One outside it has no parent to inherit the in-region provider from: it goes to the
    # default provider (no default tags), and `pulumi destroy` of the component leaves it.
    run: Recording = request.getfixturevalue(stack)
    component = run.one(COMPONENT).urn
    training = [r for r in run.resources if r.name.startswith("training-")]
    assert len(training) > 20
    assert [r.name for r in training if component not in ancestors(run, r)] == []


@pytest.fixture(scope="module")
def lookups() -> list[tuple[str, str]]:
    """(function, provider) of every AWS lookup the dev program makes."""
    seen: list[tuple[str, str]] = []
    answer = engine.RecordingMocks.call

    def call(self: engine.RecordingMocks, args: pulumi.runtime.MockCallArgs) -> Any:
        seen.append((args.token, args.provider))
        return answer(self, args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine.RecordingMocks, "call", call)
        run_program("dev", stack_config("dev"))
    return seen


def test_every_aws_lookup_goes_through_the_in_region_provider(dev: Recording, lookups: list[tuple[str, str]]) -> None:
    # A lookup without it asks the default provider: another region's zones or partition the
    # day a caller gives the component a provider of its own.
    provider = dev.get("pulumi:providers:aws", "aws")
    assert {token for token, _ in lookups} >= {
        "aws:index/getRegion:getRegion",
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:index/getPartition:getPartition",
        "aws:index/getAvailabilityZones:getAvailabilityZones",
    }
    assert [token for token, used in lookups if not used.startswith(f"{provider.urn}::")] == []


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_no_instance_runs_between_jobs(request: pytest.FixtureRequest, stack: str) -> None:
    run: Recording = request.getfixturevalue(stack)
    assert run.of_type("aws:ec2/instance:Instance") == []
    assert compute_resources(run)["minVcpus"] == 0


def test_compute_environment_sets_no_desired_vcpus(dev: Recording) -> None:
    # Batch owns desiredvCpus; a value here would hold instances up or fight the scaler.
    assert "desiredVcpus" not in compute_resources(dev)


def test_compute_none_creates_no_batch_or_vpc(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:compute": {"kind": "none"}})
    assert run.of_type(COMPUTE_ENVIRONMENT) == []
    assert run.of_type("aws:ec2/vpc:Vpc") == []
    assert "jobQueue" not in run.outputs
    assert "aws batch" not in run.outputs["trainNowCommand"], "training runs on the cluster instead"


# --- the compute environment ---------------------------------------------------------------


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


@pytest.mark.parametrize(
    "role", ["training-instance-role", "training-job-role", "training-schedule-role"]
)
def test_batch_roles_live_under_the_project_path(dev: Recording, role: str) -> None:
    # The deployer policy may create roles under /mlops/ only: another path fails the `up`.
    assert dev.named(role).inputs["path"] == "/mlops/"


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


# --- the job definition --------------------------------------------------------------------


def test_job_runs_the_pushed_image_by_digest(dev: Recording) -> None:
    image = container(dev)["image"]
    assert image == dev.outputs["imageRefs"]["train"]
    assert "@sha256:" in image


def test_job_writes_models_to_the_bucket(dev: Recording) -> None:
    command = container(dev)["command"]
    assert command[command.index("--model") + 1] == "iris"
    assert command[command.index("--output") + 1] == f"s3://{dev.outputs['bucketName']}/models"


def test_builtin_data_is_passed_as_is(dev: Recording) -> None:
    command = container(dev)["command"]
    assert command[command.index("--data") + 1] == "builtin:iris"


def test_a_data_key_is_read_from_the_data_bucket(prod_on_aws: Recording) -> None:
    command = container(prod_on_aws)["command"]
    assert command[command.index("--data") + 1] == f"s3://{prod_on_aws.outputs['bucketName']}/datasets/iris.csv"


def test_job_asks_for_the_configured_gpus(dev: Recording, run_with: RunWith) -> None:
    assert requirements(dev)["GPU"] == 1
    run = run_with("dev", **{"mlops:compute": {"instanceType": "g5.12xlarge"}, "mlops:training": {"gpus": 4}})
    assert requirements(run)["GPU"] == 4


def test_job_without_gpus_asks_for_none(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:training": {"gpus": 0}})
    assert "GPU" not in requirements(run)


@pytest.mark.parametrize("types", [["g4dn.xlarge"], ["g6e.xlarge", "g5.2xlarge"], ["g5.12xlarge", "p4d.24xlarge"]])
def test_job_fits_the_smallest_allowed_type_with_room_for_the_agent(run_with: RunWith, types: list[str]) -> None:
    run = run_with("dev", **{"mlops:compute": {"instanceType": types}})
    asked = requirements(run)
    for name in types:
        size = GPU_INSTANCE_TYPES[name]
        assert asked["VCPU"] < size.vcpus
        assert asked["MEMORY"] <= size.memory_gib * 1024 - 2048, "at least 2 GiB left to the host"
        assert asked["GPU"] <= size.gpus


def test_job_sets_the_region_botocore_reads(dev: Recording) -> None:
    assert {"name": "AWS_DEFAULT_REGION", "value": "us-east-1"} in container(dev)["environment"]


def test_job_logs_to_the_training_log_group(dev: Recording) -> None:
    logging = container(dev)["logConfiguration"]
    assert logging["logDriver"] == "awslogs"
    assert logging["options"]["awslogs-group"] == dev.one(LOG_GROUP).inputs["name"]
    assert logging["options"]["awslogs-region"] == "us-east-1"


def test_logs_are_kept_for_a_bounded_time(dev: Recording, prod_on_aws: Recording) -> None:
    assert dev.one(LOG_GROUP).inputs["retentionInDays"] == 14
    assert prod_on_aws.one(LOG_GROUP).inputs["retentionInDays"] == 90


def test_attempt_timeout_follows_training_timeout(dev: Recording, run_with: RunWith) -> None:
    assert dev.one(JOB_DEFINITION).inputs["timeout"] == {"attemptDurationSeconds": 3600}
    run = run_with("dev", **{"mlops:training": {"timeoutMinutes": 15}})
    assert run.one(JOB_DEFINITION).inputs["timeout"] == {"attemptDurationSeconds": 900}


def test_job_is_attempted_three_times(dev: Recording) -> None:
    # One attempt: a single spot reclaim loses the night's run. More: a flaky host burns GPU hours.
    assert dev.one(JOB_DEFINITION).inputs["retryStrategy"]["attempts"] == 3


def test_retry_rules_are_exactly_these_in_this_order(dev: Recording) -> None:
    # Batch takes the first matching rule: a reordered or loosened rule retries a failed gate
    # (exit 6) or gives up on a spot reclaim.
    assert dev.one(JOB_DEFINITION).inputs["retryStrategy"]["evaluateOnExits"] == [
        {"onStatusReason": "Host EC2*", "action": "RETRY"},
        {"onExitCode": "7", "action": "RETRY"},
        {"onExitCode": "6", "action": "EXIT"},
        {"onExitCode": "*", "action": "EXIT"},
        {"onReason": "*", "action": "EXIT"},
    ]


def test_spot_interruption_is_retried(dev: Recording) -> None:
    assert retry_decision(dev, status_reason="Host EC2 (instance i-0123456789abcdef0) terminated.") == "RETRY"


def test_storage_outage_is_retried(dev: Recording) -> None:
    assert retry_decision(dev, exit_code=7, status_reason="Essential container in task exited") == "RETRY"


def test_failed_accuracy_gate_is_not_retried(dev: Recording) -> None:
    assert retry_decision(dev, exit_code=6, status_reason="Essential container in task exited") == "EXIT"


@pytest.mark.parametrize("exit_code", [1, 2, 3, 4, 5])
def test_bad_input_and_bugs_are_not_retried(dev: Recording, exit_code: int) -> None:
    assert retry_decision(dev, exit_code=exit_code, status_reason="Essential container in task exited") == "EXIT"


def test_an_image_that_cannot_be_pulled_is_not_retried(dev: Recording) -> None:
    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    assert retry_decision(dev, reason=reason, status_reason="Task failed to start") == "EXIT"


def test_retry_rules_fit_the_batch_limit(dev: Recording) -> None:
    assert len(dev.one(JOB_DEFINITION).inputs["retryStrategy"]["evaluateOnExits"]) <= 5


def test_job_runs_on_ec2_only(dev: Recording) -> None:
    assert dev.one(JOB_DEFINITION).inputs["platformCapabilities"] == ["EC2"]


def test_job_definition_is_a_container_job_that_tags_its_tasks(dev: Recording) -> None:
    # Without propagated tags the ECS tasks carry no stack tag and the cost report misses them.
    inputs = dev.one(JOB_DEFINITION).inputs
    assert (inputs["type"], inputs["propagateTags"]) == ("container", True)


def test_prod_attempt_timeout_follows_its_training_timeout(prod_on_aws: Recording) -> None:
    assert prod_on_aws.one(JOB_DEFINITION).inputs["timeout"] == {"attemptDurationSeconds": 7200}


def test_a_long_timeout_is_kept_whole_on_the_job(long_run: Recording) -> None:
    # The 360-minute cap is the update policy's; the job itself may run its full 12 hours.
    assert long_run.one(JOB_DEFINITION).inputs["timeout"] == {"attemptDurationSeconds": 43200}


@pytest.mark.parametrize("stack", ["dev", "prod_on_aws"])
def test_job_asks_for_three_vcpus_14_gib_and_one_gpu_on_a_4_vcpu_16_gib_type(
    request: pytest.FixtureRequest, stack: str
) -> None:
    # g4dn.xlarge (dev) and g5.xlarge (prod): the nominal 4 vCPU / 16 GiB fits nowhere.
    assert container(request.getfixturevalue(stack))["resourceRequirements"] == [
        {"type": "VCPU", "value": "3"},
        {"type": "MEMORY", "value": "14336"},
        {"type": "GPU", "value": "1"},
    ]


@pytest.mark.parametrize(
    ("sizes", "gpus", "expected"),
    [
        # 16 GiB: 10% is under 2 GiB, so 2 GiB stays with the host.
        ([InstanceSize(4, 16, 1)], 1, JobResources(vcpus=3, memory_mib=14336, gpus=1)),
        # 32 GiB: 10% (3276 MiB) is kept, and the rest rounded down to 256 MiB.
        ([InstanceSize(4, 32, 1)], 1, JobResources(vcpus=3, memory_mib=29440, gpus=1)),
        # Two types: the smaller of each figure, wherever it comes from.
        ([InstanceSize(48, 192, 4), InstanceSize(96, 1152, 8)], 4, JobResources(vcpus=47, memory_mib=176896, gpus=4)),
        ([InstanceSize(8, 32, 1), InstanceSize(4, 64, 1)], 0, JobResources(vcpus=3, memory_mib=29440, gpus=0)),
        # A one-vCPU type still gets a job that asks for one vCPU (Batch rejects zero).
        ([InstanceSize(1, 4, 1)], 1, JobResources(vcpus=1, memory_mib=2048, gpus=1)),
    ],
)
def test_job_resources_leave_the_host_one_vcpu_and_its_memory(
    sizes: list[InstanceSize], gpus: int, expected: JobResources
) -> None:
    # Asking for more than the ECS agent registers leaves the job RUNNABLE for ever.
    assert job_resources(sizes, gpus=gpus) == expected


@pytest.mark.parametrize(
    ("stack", "data"),
    [("dev", "builtin:iris"), ("prod_on_aws", "s3://{bucket}/datasets/iris.csv")],
)
def test_job_command_is_the_training_contract(request: pytest.FixtureRequest, stack: str, data: str) -> None:
    # The image's ENTRYPOINT is train.py: any other argument list makes it exit 2 on every run.
    run: Recording = request.getfixturevalue(stack)
    bucket = run.outputs["bucketName"]
    assert container(run)["command"] == [
        "--data",
        data.format(bucket=bucket),
        "--model",
        "iris",
        "--output",
        f"s3://{bucket}/models",
    ]


def test_job_environment_is_only_the_region(dev: Recording, prod_on_aws: Recording) -> None:
    assert container(dev)["environment"] == [{"name": "AWS_DEFAULT_REGION", "value": "us-east-1"}]
    assert container(prod_on_aws)["environment"] == [{"name": "AWS_DEFAULT_REGION", "value": "us-east-1"}]


def test_job_log_configuration_is_exact(dev: Recording, prod_on_aws: Recording) -> None:
    # A wrong group or region: the agent cannot create the stream and the job fails to start.
    for run, group in ((dev, "/aws/batch/mlops-dev-train"), (prod_on_aws, "/aws/batch/mlops-prod-train")):
        assert container(run)["logConfiguration"] == {
            "logDriver": "awslogs",
            "options": {"awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "train"},
        }


def test_job_root_filesystem_is_read_only(dev: Recording) -> None:
    # A writable root lets a compromised dependency change the code the next step runs.
    assert container(dev)["readonlyRootFilesystem"] is True


def test_job_is_not_privileged(dev: Recording) -> None:
    # A privileged container owns the host, its instance role and every other job on it.
    assert container(dev)["privileged"] is False


def test_job_runs_as_the_images_non_root_user(dev: Recording) -> None:
    assert container(dev)["user"] == "10001"


def test_job_runs_an_init_process_and_a_hardened_tmp(dev: Recording) -> None:
    # Without init, SIGTERM at the timeout never reaches python; without noexec, /tmp runs code.
    assert container(dev)["linuxParameters"] == {
        "initProcessEnabled": True,
        "tmpfs": [{"containerPath": "/tmp", "size": 256, "mountOptions": ["rw", "nosuid", "nodev", "noexec"]}],
    }


def test_job_container_sets_nothing_else(dev: Recording) -> None:
    # An added key (a host volume, ulimits, a second env var) is a change a reviewer should see here.
    assert set(container(dev)) == {
        "image", "command", "jobRoleArn", "resourceRequirements", "environment", "logConfiguration",
        "readonlyRootFilesystem", "privileged", "user", "linuxParameters",
    }


@pytest.mark.parametrize(("stack", "name"), [("dev", "/aws/batch/mlops-dev-train"), ("prod_on_aws", "/aws/batch/mlops-prod-train")])
def test_log_group_name_is_unique_per_stack(request: pytest.FixtureRequest, stack: str, name: str) -> None:
    assert request.getfixturevalue(stack).one(LOG_GROUP).inputs["name"] == name


# --- the job role --------------------------------------------------------------------------


def test_job_runs_as_the_job_role(dev: Recording) -> None:
    assert container(dev)["jobRoleArn"] == dev.named("training-job-role").state["arn"]


def test_job_role_is_assumed_only_by_ecs_tasks(dev: Recording) -> None:
    trust = json.loads(dev.named("training-job-role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]


def test_job_role_writes_only_its_models_prefix(dev: Recording) -> None:
    write = statements(dev, "training-job-access")["WriteModels"]
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"] == f"{dev.outputs['bucketArn']}/models/iris/*"


def test_job_role_reads_only_the_data_object(prod_on_aws: Recording) -> None:
    read = statements(prod_on_aws, "training-job-access")["ReadData"]
    assert read["Resource"] == [f"{prod_on_aws.outputs['bucketArn']}/datasets/iris.csv"]
    assert set(as_list(read["Action"])) == {"s3:GetObject", "s3:GetObjectVersion"}


def test_builtin_data_needs_no_read(dev: Recording) -> None:
    assert "ReadData" not in statements(dev, "training-job-access")


def test_data_elsewhere_is_granted_that_object_only(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:training": {"data": "s3://other-bucket/train/data.csv"}})
    assert statements(run, "training-job-access")["ReadData"]["Resource"] == ["arn:aws:s3:::other-bucket/train/data.csv"]


def test_job_role_lists_only_its_prefixes(prod_on_aws: Recording) -> None:
    listing = statements(prod_on_aws, "training-job-access")["ListOwnPrefixes"]
    assert listing["Resource"] == prod_on_aws.outputs["bucketArn"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["models/iris/*", "datasets/iris.csv"]}}


def test_job_role_uses_only_the_bucket_key_through_s3(dev: Recording) -> None:
    kms = statements(dev, "training-job-access")["UseBucketKeyThroughS3"]
    assert kms["Resource"] == dev.get("aws:kms/key:Key", "data-key").state["arn"]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_job_role_has_no_unscoped_permission(dev: Recording) -> None:
    resources = [r for s in statements(dev, "training-job-access").values() for r in as_list(s["Resource"])]
    assert all(r != "*" and not r.endswith(":::*") for r in resources)
    assert all("*" not in a for s in statements(dev, "training-job-access").values() for a in as_list(s["Action"]))


# --- the queue -----------------------------------------------------------------------------


def time_limit(run: Recording, reason: str) -> dict[str, Any]:
    [action] = [a for a in run.one(JOB_QUEUE).inputs["jobStateTimeLimitActions"] if a["reason"] == reason]
    return action


def test_a_job_without_capacity_is_cancelled_after_an_hour(dev: Recording) -> None:
    # Spot or on-demand capacity often returns within the hour; without the limit the run
    # waits RUNNABLE until someone notices, and the next night's run queues behind it.
    assert time_limit(dev, "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY") == {
        "state": "RUNNABLE",
        "reason": "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
        "action": "CANCEL",
        "maxTimeSeconds": 3600,
    }


def test_a_job_no_instance_fits_fails_after_ten_minutes(dev: Recording) -> None:
    # No allowed type can ever hold it: at 86400 it would sit RUNNABLE for a day before failing.
    assert time_limit(dev, "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT") == {
        "state": "RUNNABLE",
        "reason": "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
        "action": "CANCEL",
        "maxTimeSeconds": 600,
    }


def test_queue_has_only_the_two_time_limits(dev: Recording) -> None:
    assert [a["reason"] for a in dev.one(JOB_QUEUE).inputs["jobStateTimeLimitActions"]] == [
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
    ]


def test_queue_is_enabled_with_priority_one(dev: Recording) -> None:
    # A DISABLED queue accepts no submission: the schedule's SubmitJob fails every night.
    inputs = dev.one(JOB_QUEUE).inputs
    assert (inputs["state"], inputs["priority"]) == ("ENABLED", 1)


# --- the schedule --------------------------------------------------------------------------


def test_schedule_follows_training_schedule(dev: Recording, prod_on_aws: Recording) -> None:
    assert dev.one(SCHEDULE).inputs["scheduleExpression"] == "cron(0 3 * * ? *)"
    assert prod_on_aws.one(SCHEDULE).inputs["scheduleExpression"] == "cron(0 2 ? * MON-FRI *)"


def test_schedule_runs_in_utc_without_a_flexible_window(dev: Recording) -> None:
    inputs = dev.one(SCHEDULE).inputs
    assert inputs["scheduleExpressionTimezone"] == "UTC"
    assert inputs["flexibleTimeWindow"] == {"mode": "OFF"}


def test_schedule_submits_through_the_batch_api(dev: Recording) -> None:
    assert dev.one(SCHEDULE).inputs["target"]["arn"] == "arn:aws:scheduler:::aws-sdk:batch:submitJob"


def test_schedule_submits_the_latest_revision_to_this_queue(dev: Recording) -> None:
    request = json.loads(dev.one(SCHEDULE).inputs["target"]["input"])
    assert request["JobQueue"] == dev.one(JOB_QUEUE).state["arn"]
    assert request["JobDefinition"] == dev.one(JOB_DEFINITION).inputs["name"]  # no ":<revision>"
    assert ":" not in request["JobDefinition"]
    assert request["JobName"]


def test_schedule_role_is_assumable_only_by_scheduler_for_this_account(dev: Recording) -> None:
    assert dev.one(SCHEDULE).inputs["target"]["roleArn"] == dev.named("training-schedule-role").state["arn"]
    [trust] = json.loads(dev.named("training-schedule-role").inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_schedule_role_may_submit_only_to_this_queue_and_job(dev: Recording) -> None:
    [submit] = statements(dev, "training-schedule-submit").values()
    definition = dev.one(JOB_DEFINITION).state["arnPrefix"]
    assert submit["Action"] == "batch:SubmitJob"
    assert submit["Resource"] == [dev.one(JOB_QUEUE).state["arn"], definition, f"{definition}:*"]


def test_a_throttled_submit_is_retried_for_an_hour(dev: Recording) -> None:
    # maximumRetryAttempts 0: one throttled SubmitJob silently drops the night's run.
    assert dev.one(SCHEDULE).inputs["target"]["retryPolicy"] == {
        "maximumEventAgeInSeconds": 3600,
        "maximumRetryAttempts": 10,
    }


@pytest.mark.parametrize(("stack", "name"), [("dev", "mlops-dev-train"), ("prod_on_aws", "mlops-prod-train")])
def test_schedule_name_is_unique_per_stack(request: pytest.FixtureRequest, stack: str, name: str) -> None:
    # Schedule names are per account and region: a second stack would overwrite the first one's.
    assert request.getfixturevalue(stack).one(SCHEDULE).inputs["name"] == name


def test_scheduled_jobs_are_named_for_the_stack_and_the_schedule(dev: Recording, prod_on_aws: Recording) -> None:
    assert json.loads(dev.one(SCHEDULE).inputs["target"]["input"])["JobName"] == "mlops-dev-train-scheduled"
    assert json.loads(prod_on_aws.one(SCHEDULE).inputs["target"]["input"])["JobName"] == "mlops-prod-train-scheduled"


def test_schedule_target_has_no_other_settings(dev: Recording) -> None:
    # No dead-letter queue yet: a submit that fails after every retry is dropped (the monitoring
    # issue adds one).
    assert set(dev.one(SCHEDULE).inputs["target"]) == {"arn", "roleArn", "input", "retryPolicy"}


def test_schedule_role_trust_is_exactly_scheduler_for_this_account(dev: Recording) -> None:
    # Without the account condition, any account's schedule could submit through this role.
    assert json.loads(dev.named("training-schedule-role").inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
            }
        ],
    }


def test_schedule_role_policy_is_exactly_the_submit_grant(dev: Recording) -> None:
    definition = dev.one(JOB_DEFINITION).state["arnPrefix"]
    policy = json.loads(dev.named("training-schedule-submit").inputs["policy"])
    assert dev.named("training-schedule-submit").inputs["role"] == dev.named("training-schedule-role").state["name"]
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SubmitTrainingJob",
                "Effect": "Allow",
                "Action": "batch:SubmitJob",
                "Resource": [dev.one(JOB_QUEUE).state["arn"], definition, f"{definition}:*"],
            }
        ],
    }


@pytest.mark.parametrize(("stack", "name"), [("dev", "mlops-dev-train"), ("prod_on_aws", "mlops-prod-train")])
def test_queue_and_job_definition_names_are_unique_per_stack(request: pytest.FixtureRequest, stack: str, name: str) -> None:
    run: Recording = request.getfixturevalue(stack)
    assert (run.one(JOB_QUEUE).inputs["name"], run.one(JOB_DEFINITION).inputs["name"]) == (name, name)


# --- outputs -------------------------------------------------------------------------------


def test_queue_and_job_definition_are_exported(dev: Recording) -> None:
    assert dev.outputs["jobQueue"] == dev.one(JOB_QUEUE).inputs["name"] == "mlops-dev-train"
    assert dev.outputs["jobDefinition"] == dev.one(JOB_DEFINITION).inputs["name"] == "mlops-dev-train"


def test_train_now_command_submits_to_the_queue(dev: Recording) -> None:
    command = shlex.split(dev.outputs["trainNowCommand"])
    assert command[:3] == ["aws", "batch", "submit-job"]
    assert command[command.index("--region") + 1] == "us-east-1"
    assert command[command.index("--job-queue") + 1] == dev.outputs["jobQueue"]
    assert command[command.index("--job-definition") + 1] == dev.outputs["jobDefinition"]
    assert command[command.index("--query") + 1] == "jobId", "prints the id the next commands use"


def test_describe_command_reads_the_submitted_job(dev: Recording) -> None:
    command = shlex.split(dev.outputs["describeJobCommand"])
    assert command[:3] == ["aws", "batch", "describe-jobs"]
    assert command[command.index("--jobs") + 1] == "$JOB_ID"


def test_logs_command_follows_the_jobs_log_stream(dev: Recording) -> None:
    command = shlex.split(dev.outputs["logsCommand"])
    assert command[:4] == ["aws", "logs", "tail", dev.outputs["trainingLogGroup"]]
    assert "--follow" in command
    assert "container.logStreamName" in command[command.index("--log-stream-names") + 1]


def test_train_now_command_is_exact(dev: Recording) -> None:
    # The README's quick start pipes this into JOB_ID: another --query or --output breaks it.
    assert dev.outputs["trainNowCommand"] == (
        "aws batch submit-job --region us-east-1 --job-queue mlops-dev-train --job-definition mlops-dev-train"
        " --job-name mlops-dev-train-manual --query jobId --output text"
    )


def test_describe_command_is_exact(dev: Recording) -> None:
    assert dev.outputs["describeJobCommand"] == (
        'aws batch describe-jobs --region us-east-1 --jobs "$JOB_ID"'
        " --query 'jobs[0].{status:status,reason:statusReason,attempts:length(attempts),"
        "exitCode:container.exitCode,logStream:container.logStreamName}'"
    )


def test_logs_command_is_exact(dev: Recording) -> None:
    assert dev.outputs["logsCommand"] == (
        "aws logs tail /aws/batch/mlops-dev-train --region us-east-1 --follow --log-stream-names"
        ' "$(aws batch describe-jobs --region us-east-1 --jobs "$JOB_ID"'
        " --query 'jobs[0].container.logStreamName' --output text)\""
    )


@pytest.mark.parametrize("cls", [BatchTrainingArgs, JobResources])
def test_batch_arguments_cannot_change_once_made(cls: type) -> None:
    # The component reads its args while it registers children and again in apply callbacks; an
    # args object changed in between would give the queue and the job definition different values.
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen is True  # type: ignore[attr-defined]


def test_batch_training_args_are_given_by_name() -> None:
    # Twenty-odd fields of similar types: passed by position, two swapped ones would go unnoticed.
    assert all(f.kw_only for f in dataclasses.fields(BatchTrainingArgs))
