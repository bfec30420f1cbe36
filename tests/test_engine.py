"""The mock engine (offline/engine.py): the ids, ARNs and computed outputs its mocks answer with.

The program's tests rely on these values: a bucket policy names the bucket's ARN, the job
queue points at the compute environment's ARN, a kubeconfig carries the cluster's endpoint,
`make diff` links a guard to its bucket by the bucket's name. Each is checked here, on a
tiny program with one resource of each specially answered type (tests/mock_program.py).
"""

from __future__ import annotations

import base64
import dataclasses
import re
import gc
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import MockCallArgs, MockResourceArgs

from offline.engine import (
    ACCOUNT_ID,
    MOCK_GCP_ACCESS_TOKEN,
    MOCK_GKE_CA,
    MOCK_GKE_ENDPOINT,
    MOCK_SECRET_ACCESS_KEY,
    ROOT,
    Recording,
    Registration,
    RecordingMocks,
    _no_cyclic_gc,
    run_program,
    run_stack,
)

PROGRAM = ROOT / "tests" / "mock_program.py"


@pytest.fixture(scope="module")
def mocked() -> Recording:
    return run_program("dev", {"aws:region": "us-east-1"}, program=PROGRAM)


def computed(recording: Recording, name: str) -> tuple[str, dict[str, Any]]:
    """A resource's id and what the engine added to or changed in its inputs."""
    resource = recording.named(name)
    return resource.id, {k: v for k, v in resource.state.items() if resource.inputs.get(k, object()) != v}


# --- AWS ---------------------------------------------------------------------------------


def test_account_id_is_the_documentation_account() -> None:
    # Every ARN the tests compare is built from it; the README's examples show the same one.
    assert ACCOUNT_ID == "123456789012"


def test_a_named_bucket_is_its_own_id_with_its_arn_and_the_stack_region(mocked: Recording) -> None:
    assert computed(mocked, "named") == ("kept", {"arn": "arn:aws:s3:::kept", "region": "us-east-1"})


def test_a_prefixed_bucket_gets_a_generated_name_after_its_prefix(mocked: Recording) -> None:
    bucket_id, state = computed(mocked, "prefixed")
    assert bucket_id == state["bucket"] == "mlops-dev-data-3c424ff7cf6f42867"
    assert state["arn"] == "arn:aws:s3:::mlops-dev-data-3c424ff7cf6f42867"


def test_a_bucket_with_neither_name_nor_prefix_is_named_after_the_resource(mocked: Recording) -> None:
    assert computed(mocked, "unnamed")[0] == "unnamede882bcaadb1e02e20"


def test_a_bucket_lives_in_its_provider_region(mocked: Recording) -> None:
    # The backup bucket is created through a second-region provider; its replica rule names that region.
    assert computed(mocked, "backup")[1]["region"] == "us-west-2"


def test_a_bucket_own_region_wins_over_the_provider_region(mocked: Recording) -> None:
    assert mocked.named("pinned").state["region"] == "eu-central-1"


def test_an_ecr_repository_answers_with_its_url_registry_and_arn(mocked: Recording) -> None:
    assert computed(mocked, "repo")[1] == {
        "repositoryUrl": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/train",
        "registryId": "123456789012",
        "arn": "arn:aws:ecr:us-east-1:123456789012:repository/mlops-dev/train",
    }


def test_an_image_is_pinned_by_a_digest_of_its_tags(mocked: Recording) -> None:
    # A content-tag change must change the digest, or a rebuilt image would not roll out.
    digest = "sha256:f4f4ea53d05383284872aa065d188a6bdd9b2c37c86c19179b0ea2a9064075bb"
    assert computed(mocked, "image")[1] == {
        "digest": digest, "ref": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/train@{digest}"}


def test_a_kms_key_id_is_a_uuid_and_its_arn_names_it(mocked: Recording) -> None:
    key_id = "45a8cf02-115b-5f63-eb29-70cf98d9862e"
    assert computed(mocked, "key") == (key_id, {"keyId": key_id, "arn": f"arn:aws:kms:us-east-1:123456789012:key/{key_id}"})


def test_a_role_gets_a_generated_name_as_its_id_and_a_global_arn(mocked: Recording) -> None:
    # IAM ARNs have no region; a trust policy compares them exactly.
    assert computed(mocked, "role") == ("role-4b168d8", {"name": "role-4b168d8", "arn": "arn:aws:iam::123456789012:role/role-4b168d8"})


def test_a_role_arn_carries_its_path_and_given_name(mocked: Recording) -> None:
    assert computed(mocked, "pathed") == ("given", {"arn": "arn:aws:iam::123456789012:role/mlops/given"})


def test_an_instance_profile_gets_a_generated_name(mocked: Recording) -> None:
    assert computed(mocked, "profile")[1]["name"] == "profile-1900eab"


def test_an_oidc_provider_arn_is_its_url_without_the_scheme(mocked: Recording) -> None:
    # The web-identity roles trust `<provider host/path>:sub`; the scheme would never match.
    arn = "arn:aws:iam::123456789012:oidc-provider/container.googleapis.com/v1/projects/p/locations/r/clusters/c"
    assert computed(mocked, "oidc") == (arn, {"arn": arn})


def test_a_launch_template_is_at_version_one(mocked: Recording) -> None:
    assert computed(mocked, "lt") == ("lt-67d4143062b55c25f", {
        "latestVersion": 1, "defaultVersion": 1, "arn": "arn:aws:ec2:us-east-1:123456789012:lt/lt-67d4143062b55c25f"})


def test_a_compute_environment_name_is_its_prefix_and_a_suffix(mocked: Recording) -> None:
    name = "mlops-dev-train-e64c826b6b33"
    assert computed(mocked, "ce") == (name, {
        "name": name,
        "arn": f"arn:aws:batch:us-east-1:123456789012:compute-environment/{name}",
        "ecsClusterArn": f"arn:aws:ecs:us-east-1:123456789012:cluster/AWSBatch-{name}",
        "status": "VALID",
    })


def test_a_named_compute_environment_keeps_its_name(mocked: Recording) -> None:
    assert computed(mocked, "ce-named")[0] == "mlops-dev-fixed"


def test_a_job_queue_id_is_its_arn(mocked: Recording) -> None:
    arn = "arn:aws:batch:us-east-1:123456789012:job-queue/mlops-dev-train"
    assert computed(mocked, "queue") == (arn, {"arn": arn})


def test_a_job_definition_id_is_its_arn_at_revision_one(mocked: Recording) -> None:
    prefix = "arn:aws:batch:us-east-1:123456789012:job-definition/mlops-dev-train"
    assert computed(mocked, "jobdef") == (f"{prefix}:1", {"arn": f"{prefix}:1", "arnPrefix": prefix, "revision": 1})


def test_a_log_group_id_is_its_name(mocked: Recording) -> None:
    assert computed(mocked, "logs") == (
        "/aws/batch/mlops-dev", {"arn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/batch/mlops-dev"})


def test_a_database_instance_answers_with_its_address_endpoint_and_port(mocked: Recording) -> None:
    # Its id is the DbiResourceId (provider v5 on), its address names its identifier, region and account.
    instance_id, state = computed(mocked, "db")
    address = state["address"]
    assert re.fullmatch(r"db-[0-9A-F]{17}", instance_id)
    assert re.fullmatch(r"mlops-dev-airflow\.c[0-9a-f]{11}\.us-east-1\.rds\.amazonaws\.com", address)
    assert (state["endpoint"], state["port"]) == (f"{address}:5432", 5432)
    assert state["arn"] == "arn:aws:rds:us-east-1:123456789012:db:mlops-dev-airflow"


def test_a_prefixed_parameter_group_gets_a_generated_name_after_its_prefix(mocked: Recording) -> None:
    group_id, state = computed(mocked, "db-params")
    assert re.fullmatch(r"mlops-dev-airflow-[0-9a-f]{26}", group_id)
    assert state == {"name": group_id, "arn": f"arn:aws:rds:us-east-1:123456789012:pg:{group_id}"}


def test_an_access_key_id_looks_like_one_and_its_secret_is_the_mock_secret(mocked: Recording) -> None:
    # The tests look for MOCK_SECRET_ACCESS_KEY to prove the secret never shows in a plan or diff.
    assert MOCK_SECRET_ACCESS_KEY == "mock-secret-access-key"
    key_id, state = computed(mocked, "access-key")
    assert (key_id, state["secret"], state["status"]) == ("AKIAB54189A4D7368178", MOCK_SECRET_ACCESS_KEY, "Active")


def test_random_bytes_are_the_asked_length_in_base64_and_hex_with_the_providers_constant_id(mocked: Recording) -> None:
    made = mocked.named("bytes")
    raw = base64.b64decode(made.state["base64"])
    assert (len(raw), made.state["hex"], made.id) == (32, raw.hex(), "none")


def test_a_random_password_has_the_asked_length(mocked: Recording) -> None:
    assert (mocked.named("password").state["result"], mocked.named("long-password").state["result"]) == (
        "mockRandomPa", "mockRandomPassword0123456789mockRandomPa")


def test_a_random_id_is_its_prefix_then_its_bytes_in_hex(mocked: Recording) -> None:
    # The Cloud SQL instance's name is this `hex`: two bytes, four hex digits after the prefix.
    state = mocked.named("random-id").state
    assert (state["hex"], state["dec"]) == ("mlops-prod-airflow-9e16", "mlops-prod-airflow-40470")


def test_any_other_aws_resource_gets_an_arn_in_its_provider_region(mocked: Recording) -> None:
    assert (mocked.named("parameter").state["arn"], mocked.named("west-parameter").state["arn"]) == (
        "arn:aws:ssm:us-east-1:123456789012:parameter/parameter-e6a4633b795e2fe1f",
        "arn:aws:ssm:us-west-2:123456789012:west-parameter/west-parameter-42e4525cd1a7830b6",
    )


def test_a_topic_id_is_its_arn(mocked: Recording) -> None:
    arn = "arn:aws:sns:us-east-1:123456789012:mlops-dev-notifications"
    assert computed(mocked, "topic") == (arn, {"arn": arn})


def test_a_subscription_is_its_topics_arn_and_an_id_and_pending(mocked: Recording) -> None:
    # SNS returns a pending e-mail subscription's ARN too (ReturnSubscriptionArn).
    subscription_id, state = computed(mocked, "subscription")
    topic, _, suffix = subscription_id.rpartition(":")
    assert (topic, state) == ("arn:aws:sns:us-east-1:123456789012:mlops-dev-notifications", {"arn": subscription_id, "pendingConfirmation": True})
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", suffix)


def test_a_queue_id_is_its_url_and_its_arn_names_it(mocked: Recording) -> None:
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/mlops-dev-iris-train-dlq"
    assert computed(mocked, "queue-dlq") == (url, {"url": url, "arn": "arn:aws:sqs:us-east-1:123456789012:mlops-dev-iris-train-dlq"})


def test_a_rule_and_an_alarm_are_their_names_with_their_arns(mocked: Recording) -> None:
    assert computed(mocked, "rule") == ("mlops-dev-iris-failed", {"arn": "arn:aws:events:us-east-1:123456789012:rule/mlops-dev-iris-failed"})
    assert computed(mocked, "alarm") == (
        "mlops-dev-iris-train-dlq-not-empty",
        {"arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mlops-dev-iris-train-dlq-not-empty"},
    )


def test_a_resource_id_is_its_name_and_a_hash(mocked: Recording) -> None:
    assert mocked.named("parameter").id == "parameter-e6a4633b795e2fe1f"


def call(token: str, mocks: RecordingMocks | None = None, **args: Any) -> dict[str, Any]:
    """What the engine answers a data source (invoke) with, in a us-east-1 stack."""
    answer, failures = (mocks or RecordingMocks(region="us-east-1")).call(MockCallArgs(token, args, ""))
    assert failures == []
    return answer


ANSWERS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # The subnets are spread over these three zones; their names must be the stack region's.
    "availability-zones": ("aws:index/getAvailabilityZones:getAvailabilityZones", {}, {
        "names": ["us-east-1a", "us-east-1b", "us-east-1c"], "zoneIds": ["us-east-1a", "us-east-1b", "us-east-1c"],
        "id": "us-east-1"}),
    # The image build logs in with these; the tests look for the token to prove it is never shown.
    "ecr-token": ("aws:ecr/getAuthorizationToken:getAuthorizationToken", {}, {
        "userName": "AWS", "password": "mock-registry-token",
        "proxyEndpoint": "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "authorizationToken": "", "expiresAt": "", "id": "us-east-1"}),
    "region": ("aws:index/getRegion:getRegion", {}, {
        "region": "us-east-1", "name": "us-east-1", "id": "us-east-1", "endpoint": "ec2.us-east-1.amazonaws.com",
        "description": "us-east-1"}),
    "region-asked-for": ("aws:index/getRegion:getRegion", {"region": "us-west-2"}, {
        "region": "us-west-2", "name": "us-west-2", "id": "us-west-2", "endpoint": "ec2.us-west-2.amazonaws.com",
        "description": "us-west-2"}),
    "caller-identity": ("aws:index/getCallerIdentity:getCallerIdentity", {}, {
        "accountId": "123456789012", "arn": "arn:aws:iam::123456789012:user/offline", "userId": "AIDAOFFLINE",
        "id": "123456789012"}),
    "partition": ("aws:index/getPartition:getPartition", {}, {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}),
    "gcp-client-config-without-provider": ("gcp:organizations/getClientConfig:getClientConfig", {}, {
        "accessToken": "ya29.mock-access-token", "id": "", "project": "", "region": "", "zone": "", "defaultLabels": {}}),
}


@pytest.mark.parametrize("case", ANSWERS)
def test_a_data_source_answers_as_the_real_one_shaped_for_the_stack_region(case: str) -> None:
    token, args, expected = ANSWERS[case]
    assert call(token, **args) == expected


def test_the_gcp_client_config_answers_with_the_provider_project_and_region() -> None:
    # The kubeconfig's token and the Artifact Registry URLs read these.
    mocks = RecordingMocks(region="us-east-1")
    mocks.new_resource(MockResourceArgs("pulumi:providers:gcp", "gcp", {"project": "proj", "region": "europe-west4"}, "", ""))
    assert MOCK_GCP_ACCESS_TOKEN == "ya29.mock-access-token"
    assert call("gcp:organizations/getClientConfig:getClientConfig", mocks) == {
        "accessToken": MOCK_GCP_ACCESS_TOKEN, "id": "proj", "project": "proj", "region": "europe-west4", "zone": "",
        "defaultLabels": {}}


def test_every_invoke_is_recorded_with_its_token_and_args() -> None:
    mocks = RecordingMocks(region="us-east-1")
    call("aws:index/getRegion:getRegion", mocks, region="us-west-2")
    assert mocks.recording.invokes == [("aws:index/getRegion:getRegion", {"region": "us-west-2"})]


def test_a_data_source_the_engine_does_not_know_fails_the_run(tmp_path: Path) -> None:
    # An invented answer would let a program pass offline and fail on the real cloud.
    program = tmp_path / "main.py"
    program.write_text("import pulumi_aws as aws\naws.ec2.get_ami(most_recent=True, owners=['amazon'])\n")
    with pytest.raises(Exception, match="no answer for the call aws:ec2/getAmi:getAmi"):
        run_program("dev", {"aws:region": "us-east-1"}, program=program)


# --- Google Cloud ------------------------------------------------------------------------

COMPUTE = "https://www.googleapis.com/compute/v1/projects/proj"


def test_a_network_id_and_self_link_are_global(mocked: Recording) -> None:
    assert computed(mocked, "net") == ("projects/proj/global/networks/mlops-net",
                                       {"project": "proj", "selfLink": f"{COMPUTE}/global/networks/mlops-net"})


def test_an_unnamed_gcp_resource_gets_a_generated_name(mocked: Recording) -> None:
    assert computed(mocked, "unnamed-net")[0] == "projects/proj/global/networks/unnamed-net-bbf5d5e"


def test_a_subnetwork_and_a_router_are_regional(mocked: Recording) -> None:
    assert (computed(mocked, "subnet"), computed(mocked, "router")) == (
        ("projects/proj/regions/europe-west4/subnetworks/mlops-sub",
         {"project": "proj", "region": "europe-west4", "selfLink": f"{COMPUTE}/regions/europe-west4/subnetworks/mlops-sub"}),
        ("projects/proj/regions/europe-west4/routers/mlops-router",
         {"project": "proj", "region": "europe-west4", "selfLink": f"{COMPUTE}/regions/europe-west4/routers/mlops-router"}),
    )


def test_a_router_nat_id_is_project_region_router_name(mocked: Recording) -> None:
    assert computed(mocked, "nat") == ("proj/europe-west4/mlops-router/mlops-nat", {"project": "proj", "region": "europe-west4"})


def test_a_service_account_answers_with_its_email_and_member(mocked: Recording) -> None:
    # IAM bindings use `member`; the Workload Identity annotation uses `email`.
    email = "mlops-train@proj.iam.gserviceaccount.com"
    assert computed(mocked, "sa") == (f"projects/proj/serviceAccounts/{email}", {
        "project": "proj", "email": email, "member": f"serviceAccount:{email}",
        "name": f"projects/proj/serviceAccounts/{email}", "uniqueId": "1da10adc92b9f5ffc7"})


def test_a_cluster_answers_with_its_endpoints_and_ca(mocked: Recording) -> None:
    # The kubeconfig the program builds reads the endpoint and the CA certificate.
    assert (MOCK_GKE_ENDPOINT, MOCK_GKE_CA) == (
        "34.118.0.10", "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm1vY2sKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=")
    assert computed(mocked, "cluster") == ("projects/proj/locations/europe-west4-a/clusters/mlops", {
        "project": "proj",
        "endpoint": MOCK_GKE_ENDPOINT,
        "controlPlaneEndpointsConfig": {
            "dnsEndpointConfig": {"endpoint": "gke-0f1e2d3c4b5a69788796a5b4c3d2e1f0-123456789012.europe-west4.gke.goog"},
            "ipEndpointsConfig": {"enabled": True},
        },
        "masterAuth": {"clusterCaCertificate": MOCK_GKE_CA, "clientCertificateConfig": {"issueClientCertificate": False}},
        "selfLink": "https://container.googleapis.com/v1/projects/proj/locations/europe-west4-a/clusters/mlops",
        "labelFingerprint": "de75f243",
    })


def test_a_cluster_without_a_location_is_regional_and_keeps_its_endpoint_settings(mocked: Recording) -> None:
    _, state = computed(mocked, "regional")
    assert (state["location"], mocked.named("regional").state["controlPlaneEndpointsConfig"]) == ("europe-west4", {
        "dnsEndpointConfig": {"allowExternalTraffic": False,
                              "endpoint": "gke-0f1e2d3c4b5a69788796a5b4c3d2e1f0-123456789012.europe-west4.gke.goog"},
        "ipEndpointsConfig": {"enabled": True},
    })


def test_a_global_address_and_the_peering_connection_are_global(mocked: Recording) -> None:
    assert computed(mocked, "peering-range") == ("projects/proj/global/addresses/mlops-prod-google-services", {
        "project": "proj", "selfLink": f"{COMPUTE}/global/addresses/mlops-prod-google-services"})
    assert computed(mocked, "peering") == ("projects/proj/global/networks/n:servicenetworking.googleapis.com", {
        "project": "proj", "peering": "servicenetworking-googleapis-com"})


def test_a_cloud_sql_instance_answers_with_its_private_ip_and_connection_name(mocked: Recording) -> None:
    # The connection string and Airflow's egress rule are built from privateIpAddress.
    name = "mlops-prod-airflow-1a2b"
    assert computed(mocked, "sql") == (f"projects/proj/instances/{name}", {
        "project": "proj",
        "connectionName": f"proj:europe-west4:{name}",
        "privateIpAddress": "10.40.0.3",
        "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/proj/instances/{name}",
    })


def test_a_cloud_sql_database_and_user_have_the_providers_ids(mocked: Recording) -> None:
    assert (computed(mocked, "sql-database")[0], computed(mocked, "sql-user")[0]) == (
        "projects/proj/instances/mlops-prod-airflow-1a2b/databases/airflow", "airflow//mlops-prod-airflow-1a2b")


def test_a_node_pool_id_is_under_its_cluster(mocked: Recording) -> None:
    assert computed(mocked, "pool") == ("projects/proj/locations/europe-west4/clusters/mlops/nodePools/gpu",
                                        {"project": "proj", "instanceGroupUrls": [], "managedInstanceGroupUrls": []})


def test_an_artifact_registry_id_is_its_full_path_and_its_name_the_repository_id(mocked: Recording) -> None:
    assert computed(mocked, "ar") == ("projects/proj/locations/europe-west4/repositories/mlops", {
        "project": "proj", "name": "mlops", "location": "europe-west4", "createTime": "2026-01-01T00:00:00Z"})


def test_a_project_service_id_is_project_slash_service(mocked: Recording) -> None:
    assert computed(mocked, "api") == ("proj/container.googleapis.com", {"project": "proj"})


# --- running another checkout --------------------------------------------------------------


def test_run_stack_of_another_checkout_runs_that_checkout_program_with_its_stack_file(tmp_path: Path) -> None:
    # `make diff` renders BASE from its own tree: running this checkout's program there would
    # show HEAD's resources on both sides, and every change would vanish from the review.
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.qa.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text("import pulumi_aws as aws\naws.s3.Bucket('only', bucket='qa-only')\n")
    recording = run_stack("qa", root=tmp_path)
    assert [(r.name, r.state["region"]) for r in recording.resources] == [("only", "eu-west-1")]


def test_of_type_orders_by_name_then_urn_whatever_the_arrival_order() -> None:
    # The SDK registers from a thread pool: two same-named resources under different parents may
    # arrive in either order, and a test comparing lists must see one order.
    first = Registration("t:m:T", "x", "urn:a::x", "1", {}, {}, "", "", False, False, False, True)
    second = dataclasses.replace(first, urn="urn:b::x")
    other = dataclasses.replace(first, name="a", urn="urn:z::a")
    recording = Recording(resources=[second, other, first])
    assert [r.urn for r in recording.of_type("t:m:T")] == ["urn:z::a", "urn:a::x", "urn:b::x"]


# --- the garbage collector during a run ----------------------------------------------------

def test_a_run_pauses_the_cyclic_gc_and_turns_it_back_on() -> None:
    with _no_cyclic_gc():
        during = gc.isenabled()
    assert (during, gc.isenabled()) == (False, True)


def test_a_run_leaves_a_paused_gc_paused() -> None:
    gc.disable()
    try:
        with _no_cyclic_gc():
            pass
        assert gc.isenabled() is False
    finally:
        gc.enable()


def test_dependencies_are_recorded_in_one_order(dev: Recording) -> None:
    # The SDK collects them in a set, whose order may differ between two runs of one program.
    with_several = [r for r in dev.resources if len(r.dependencies) > 1]
    assert with_several and all(list(r.dependencies) == sorted(r.dependencies) for r in with_several)


# --- aliases -------------------------------------------------------------------------------

RENAMED_COMPONENT = '''
import pulumi

class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Box", name, None, opts)
        pulumi.ComponentResource("test:index:Part", f"{name}-part", None, pulumi.ResourceOptions(parent=self))
        pulumi.ComponentResource("test:index:Part", "fixed", None, pulumi.ResourceOptions(parent=self))

Box("new", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old")]))
'''


def test_a_renamed_components_children_inherit_its_alias_as_the_engine_computes_it(tmp_path: Path) -> None:
    # pulumi/pulumi step_generator.go (inheritedChildAlias): `new-part` under a parent once named `old`
    # was `old-part`. Without it, make diff would show the children deleted and created again.
    program = tmp_path / "__main__.py"
    program.write_text(RENAMED_COMPONENT)
    run = run_program("dev", {"aws:region": "us-east-1"}, program=program)
    box = "urn:pulumi:dev::mlops::test:index:Box$test:index:Part"
    assert run.named("new").aliases == ("urn:pulumi:dev::mlops::pulumi:pulumi:Stack$test:index:Box::old",)
    assert run.named("new-part").aliases == (f"{box}::old-part",)
    # A child whose name does not start with the parent's keeps its URN: no alias to itself.
    assert run.named("fixed").aliases == ()
