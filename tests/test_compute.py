"""The GPU training instance (compute.kind: ec2), as the program registers it for each stack."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from components.compute import DLAMI_PARAMETER, render_user_data
from offline.engine import ACCOUNT_ID, MOCK_AMI_ID, Recording, Registration
from tests.support import RunWith

INSTANCE = "aws:ec2/instance:Instance"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
COMPONENT = "mlops:compute:GpuTrainingInstance"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/train@sha256:abc123"


def instance(run: Recording) -> dict[str, Any]:
    return run.one(INSTANCE).inputs


def user_data(run: Recording) -> str:
    return instance(run)["userData"]


def policy(run: Recording) -> list[dict[str, Any]]:
    """The statements of the instance role's inline policy."""
    role_policy = run.named("training-access").inputs
    return json.loads(role_policy["policy"])["Statement"]


def statement(run: Recording, sid: str) -> dict[str, Any]:
    return next(s for s in policy(run) if s["Sid"] == sid)


def actions(entry: dict[str, Any]) -> list[str]:
    return [entry["Action"]] if isinstance(entry["Action"], str) else entry["Action"]


def render(**changes: Any) -> str:
    values: dict[str, Any] = {
        "image_ref": IMAGE,
        "bucket_name": "data-bucket",
        "model_name": "iris",
        "data": "builtin:iris",
        "gpus": 1,
        "on_calendar": "*-*-* 03:00:00 UTC",
    }
    return render_user_data(**{**values, **changes})


# --- the component -------------------------------------------------------------------------


def test_training_component_owns_its_resources(dev: Recording) -> None:
    component = dev.one(COMPONENT)
    children = {r.type for r in dev.children_of(component)}
    assert {INSTANCE, SECURITY_GROUP, "aws:iam/role:Role", "mlops:network:TrainingNetwork"} <= children


def test_every_training_resource_uses_the_explicit_provider(dev: Recording) -> None:
    component = dev.one(COMPONENT)
    network = dev.one("mlops:network:TrainingNetwork")
    [in_region] = [p for p in dev.of_type("pulumi:providers:aws") if p.name == "aws"]
    resources = [r for r in dev.children_of(component) + dev.children_of(network) if r.custom]
    assert resources
    assert all(r.provider.startswith(f"{in_region.urn}::") for r in resources)


# --- the instance --------------------------------------------------------------------------


def test_ami_is_looked_up_not_hard_coded(dev: Recording) -> None:
    lookups = [args["name"] for token, args in dev.invokes if token == "aws:ssm/getParameter:getParameter"]
    assert lookups == [DLAMI_PARAMETER]
    assert instance(dev)["ami"] == MOCK_AMI_ID


def test_instance_type_comes_from_the_stack(dev: Recording, prod: Recording) -> None:
    assert instance(dev)["instanceType"] == "g4dn.xlarge"
    assert instance(prod)["instanceType"] == "g5.xlarge"


def test_instance_sits_in_a_private_subnet(dev: Recording) -> None:
    private_subnet = dev.named("training-net-private-0")
    assert instance(dev)["subnetId"] == private_subnet.id


def test_instance_has_no_public_ip(dev: Recording) -> None:
    assert instance(dev)["associatePublicIpAddress"] is False


def test_instance_has_no_ssh_key(dev: Recording) -> None:
    assert "keyName" not in instance(dev)


def test_instance_uses_the_training_security_group(dev: Recording) -> None:
    [group_id] = instance(dev)["vpcSecurityGroupIds"]
    assert group_id == dev.named("training-sg").id


def test_security_group_allows_no_inbound(dev: Recording) -> None:
    assert dev.named("training-sg").inputs["ingress"] == []


def test_security_group_allows_only_https_out(dev: Recording) -> None:
    [rule] = dev.named("training-sg").inputs["egress"]
    assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 443, 443)
    assert rule["cidrBlocks"] == ["0.0.0.0/0"]


def test_imdsv2_required(dev: Recording) -> None:
    options = instance(dev)["metadataOptions"]
    assert options["httpTokens"] == "required"
    assert options["httpEndpoint"] == "enabled"


def test_containers_can_reach_instance_metadata(dev: Recording) -> None:
    assert instance(dev)["metadataOptions"]["httpPutResponseHopLimit"] == 2


def test_root_volume_is_encrypted(dev: Recording) -> None:
    assert instance(dev)["rootBlockDevice"]["encrypted"] is True


def test_root_volume_is_gp3_and_large_enough_for_the_dlami(dev: Recording) -> None:
    root = instance(dev)["rootBlockDevice"]
    assert root["volumeType"] == "gp3"
    assert root["volumeSize"] >= 100


def test_dev_runs_on_spot(dev: Recording) -> None:
    assert instance(dev)["instanceMarketOptions"]["marketType"] == "spot"


def test_spot_instance_stops_and_resumes_on_interruption(dev: Recording) -> None:
    spot = instance(dev)["instanceMarketOptions"]["spotOptions"]
    assert spot == {"spotInstanceType": "persistent", "instanceInterruptionBehavior": "stop"}


def test_prod_runs_on_demand(prod: Recording) -> None:
    assert "instanceMarketOptions" not in instance(prod)


def test_spot_setting_overrides_the_environment_default(run_with: RunWith) -> None:
    run = run_with("prod", **{"mlops:compute": {"spot": True}})
    assert instance(run)["instanceMarketOptions"]["marketType"] == "spot"


def test_new_user_data_replaces_the_instance(dev: Recording) -> None:
    assert instance(dev)["userDataReplaceOnChange"] is True


def test_compute_none_creates_no_instance_or_vpc(run_with: RunWith) -> None:
    run = run_with("dev", **{"mlops:compute": {"kind": "none"}})
    assert run.of_type(INSTANCE) == []
    assert run.of_type("aws:ec2/vpc:Vpc") == []
    assert "trainingInstanceId" not in run.outputs


# --- the instance role ---------------------------------------------------------------------


def test_role_is_assumed_only_by_ec2(dev: Recording) -> None:
    trust = json.loads(dev.named("training-role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]


def test_instance_runs_as_the_training_role(dev: Recording) -> None:
    profile = dev.named("training-profile")
    assert instance(dev)["iamInstanceProfile"] == profile.state["name"]
    assert profile.inputs["role"] == dev.named("training-role").state["name"]


def test_instance_is_reachable_through_ssm(dev: Recording) -> None:
    attachment = dev.named("training-ssm").inputs
    assert attachment["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    assert attachment["role"] == dev.named("training-role").state["name"]


def test_role_reaches_only_the_data_bucket(dev: Recording) -> None:
    bucket_arn = dev.outputs["bucketArn"]
    s3 = [s for s in policy(dev) if any(a.startswith("s3:") for a in actions(s))]
    assert {s["Resource"] for s in s3} == {bucket_arn, f"{bucket_arn}/*"}
    assert all("*" not in action for s in s3 for action in actions(s))


def test_role_reads_data_and_writes_models(dev: Recording) -> None:
    objects = statement(dev, "ReadDataWriteModels")
    assert objects["Resource"] == f"{dev.outputs['bucketArn']}/*"
    assert {"s3:GetObject", "s3:PutObject"} <= set(actions(objects))


def test_role_uses_only_the_bucket_key(dev: Recording) -> None:
    [encryption] = [
        r.inputs
        for r in dev.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        if r.inputs["bucket"] == dev.outputs["bucketName"]
    ]
    bucket_key = encryption["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    kms = statement(dev, "UseBucketKeyThroughS3")
    assert kms["Resource"] == bucket_key
    assert set(actions(kms)) == {"kms:Decrypt", "kms:GenerateDataKey"}


def test_bucket_key_is_usable_only_through_s3(dev: Recording) -> None:
    condition = statement(dev, "UseBucketKeyThroughS3")["Condition"]
    assert condition == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_role_pulls_only_the_train_repository(dev: Recording) -> None:
    repository = dev.outputs["registryUrls"]["train"].split("/", 1)[1]
    pull = statement(dev, "PullTrainImage")
    assert pull["Resource"] == f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/{repository}"
    assert set(actions(pull)) == {
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    }


def test_registry_login_is_the_only_unscoped_permission(dev: Recording) -> None:
    unscoped = [actions(s) for s in policy(dev) if s["Resource"] == "*"]
    assert unscoped == [["ecr:GetAuthorizationToken"]]


# --- what the instance runs ----------------------------------------------------------------


def test_timer_follows_training_schedule(dev: Recording, prod: Recording) -> None:
    assert "OnCalendar=*-*-* 03:00:00 UTC\n" in user_data(dev)
    assert "OnCalendar=Mon,Tue,Wed,Thu,Fri *-*-* 02:00:00 UTC\n" in user_data(prod)


def test_timer_catches_up_a_run_missed_while_stopped(dev: Recording) -> None:
    assert "Persistent=true\n" in user_data(dev)


def test_timer_is_enabled_at_first_boot(dev: Recording) -> None:
    assert "systemctl enable --now mlops-train.timer\n" in user_data(dev)


def test_training_runs_the_pushed_image_by_digest(dev: Recording) -> None:
    image = dev.outputs["imageRefs"]["train"]
    assert "@sha256:" in image
    assert f"docker run --rm --gpus 1 --env AWS_REGION=us-east-1 {image} " in user_data(dev)


def test_training_logs_in_to_the_registry_first(dev: Recording) -> None:
    host = dev.outputs["imageRefs"]["train"].split("/", 1)[0]
    login = f"aws ecr get-login-password --region us-east-1 | docker login --username AWS --password-stdin {host}\n"
    script = user_data(dev)
    assert login in script
    assert script.index(login) < script.index("docker run")


def test_training_writes_models_to_the_bucket(dev: Recording) -> None:
    assert f"--model iris --output s3://{dev.outputs['bucketName']}/models\n" in user_data(dev)


def test_builtin_data_is_passed_as_is(dev: Recording) -> None:
    assert "--data builtin:iris " in user_data(dev)


def test_a_data_key_is_read_from_the_data_bucket(prod: Recording) -> None:
    assert f"--data s3://{prod.outputs['bucketName']}/datasets/iris.csv " in user_data(prod)


def test_an_s3_data_uri_is_passed_as_is() -> None:
    assert "--data s3://other/train.csv " in render(data="s3://other/train.csv")


def test_training_without_gpus_omits_the_gpu_flag() -> None:
    assert "--gpus" not in render(gpus=0)


def test_training_gets_the_configured_gpus() -> None:
    assert "docker run --rm --gpus 2 " in render(gpus=2)


def test_user_data_quotes_values_for_the_shell() -> None:
    data = "datasets/100% it's $HOME.csv"
    assert f"--data {shlex.quote(f's3://data-bucket/{data}')} " in render(data=data)


def test_user_data_refuses_multi_line_values() -> None:
    with pytest.raises(ValueError, match="one-line"):
        render(data="datasets/a\nMLOPS_EOF\nrm -rf /")


# --- outputs -------------------------------------------------------------------------------


def test_instance_id_is_exported(dev: Recording) -> None:
    assert dev.outputs["trainingInstanceId"].startswith("i-")


def test_run_now_command_starts_the_training_service_on_the_instance(dev: Recording) -> None:
    command = shlex.split(dev.outputs["trainNowCommand"])
    assert command[:3] == ["aws", "ssm", "send-command"]
    assert command[command.index("--instance-ids") + 1] == dev.outputs["trainingInstanceId"]
    assert command[command.index("--region") + 1] == "us-east-1"
    assert command[command.index("--document-name") + 1] == "AWS-RunShellScript"
    parameters = command[command.index("--parameters") + 1]
    assert parameters == 'commands=["systemctl start --no-block mlops-train.service"]'


def test_run_now_command_names_the_unit_the_user_data_installs(dev: Recording) -> None:
    assert "cat > /etc/systemd/system/mlops-train.service <<" in user_data(dev)
