"""What a new user reads for the usual mistakes: one line each, with the fix in it."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, StackConfig
from components.config.errors import did_you_mean, unknown_top_level_key
from offline.engine import Recording, run_program, stack_config_with
from tests.config.support import iris, with_budget

# Every message a user can get, word for word. The restructuring after this one must keep
# them exactly: people search for them, and the README quotes some.
ALLOWED_TOP = "allowed keys are environment, teardown, storage, registry, compute, serving, gke, eks, monitoring, pipeline, projects"
MOVED = (
    'moved under mlops:projects.<name>.serve / .train (README "Projects"); e.g. mlops:projects: '
    "{iris: {train: {source: images/train, ...}, serve: {minReplicas: 1, ...}}}"
)


EXACT: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("enum", "dev", {"registry": {"kind": "quay"}}, ["mlops:registry.kind: \"quay\" is invalid: Input should be 'ecr' or 'artifact-registry'"]),
    # A boolean word for a text setting is no quoted boolean: no YAML hint.
    ("boolean word for text", "dev", {"registry": {"kind": "true"}}, ["mlops:registry.kind: \"true\" is invalid: Input should be 'ecr' or 'artifact-registry'"]),
    ("not a boolean", "dev", {"compute": {"spot": "yes"}}, ['mlops:compute.spot: "yes" is invalid: Input should be a valid boolean']),
    ("quoted boolean", "dev", {"compute": {"spot": "false"}},
     ['mlops:compute.spot: "false" is invalid: Input should be a valid boolean; write it as a YAML boolean, false, without quotes']),
    ("quoted boolean, capitalised", "dev", {"compute": {"spot": " True"}},
     ['mlops:compute.spot: " True" is invalid: Input should be a valid boolean; write it as a YAML boolean, true, without quotes']),
    ("not a number", "dev", {"registry": {"keepImages": "ten"}}, ['mlops:registry.keepImages: "ten" is invalid: Input should be a valid integer']),
    ("quoted number", "dev", {"registry": {"keepImages": "10"}},
     ['mlops:registry.keepImages: "10" is invalid: Input should be a valid integer; write it as a YAML number, 10, without quotes']),
    ("quoted negative number", "dev", iris(serve={"gpus": "-1"}),
     ['mlops:projects.iris.serve.gpus: "-1" is invalid: Input should be a valid integer; write it as a YAML number, -1, without quotes']),
    ("project name", "dev", {"projects": {"Iris": {"train": {"source": "images/train"}}}},
     ['mlops:projects.Iris: "Iris" is not a DNS label: lowercase letters, digits and \'-\', starting with a letter, at most 63: '
      "it names the project's objects and identities"]),
    ("memory", "dev", iris(serve={"memory": "1GB"}),
     ["mlops:projects.iris.serve.memory: \"1GB\" is invalid: '1GB' is not a Kubernetes memory quantity such as 512Mi or 2Gi"]),
    ("mistyped section key", "dev", {"serving": {"clustre": "gke"}},
     ["mlops:serving.clustre: unknown key (did you mean cluster?); allowed keys in mlops:serving are cluster"]),
    ("mistyped project key", "dev", iris(serve={"minReplica": 2}),
     ["mlops:projects.iris.serve.minReplica: unknown key (did you mean minReplicas?); allowed keys in "
      "mlops:projects.iris.serve are minReplicas, maxReplicas, targetCpuUtilization, cpu, memory, gpus, modelVersion, image, alerts"]),
    ("mistyped project section", "dev", {"projects": {"iris": {"trian": {}}}},
     ["mlops:projects.iris.trian: unknown key (did you mean train?); allowed keys in mlops:projects.iris are train, serve"]),
    ("old single-model keys", "dev", {"serving": {"cluster": "kubeconfig", "model": "iris", "minReplicas": 1}, "training": {"schedule": "0 3 * * *"}},
     [f"mlops:serving.model, serving.minReplicas, training.schedule: {MOVED}"]),
    ("cron shape", "dev", iris(schedule="0 3 * *"),
     ["mlops:projects.iris.train.schedule: \"0 3 * *\" is invalid: '0 3 * *' is not a 5-field cron expression "
      "(minute hour day-of-month month day-of-week)"]),
    ("cron word", "dev", iris(schedule="0 3 L * *"),
     ["mlops:projects.iris.train.schedule: \"0 3 L * *\" is invalid: the day-of-month field has 'L', which is not a number (day-of-month is 1-31)"]),
    ("cron range", "dev", iris(schedule="0 24 * * *"),
     ["mlops:projects.iris.train.schedule: \"0 24 * * *\" is invalid: the hour field has 24, which is out of range (hour is 0-23)"]),
    ("cron step", "dev", iris(schedule="*/x 3 * * *"),
     ["mlops:projects.iris.train.schedule: \"*/x 3 * * *\" is invalid: the minute field has step 'x'; a step is a whole number >= 1"]),
    ("release channel", "dev", {"gke": {"releaseChannel": "NIGHTLY"}},
     ["mlops:gke.releaseChannel: \"NIGHTLY\" is invalid: Input should be 'RAPID', 'REGULAR' or 'STABLE'"]),
    ("backup region", "dev", {"storage": {"backupRegion": "us-gov-west-1"}},
     ["mlops:storage.backupRegion: \"us-gov-west-1\" is invalid: 'us-gov-west-1' is not an AWS region; did you mean us-west-1?"]),
    ("more training GPUs than the type has", "dev", iris(gpus=2),
     ["mlops:projects.iris.train.gpus: 2 is more than the smallest of compute.instanceType has (1); the job would wait for an "
      "instance it can never get"]),
    ("serving on eks in public subnets", "dev", {"serving": {"cluster": "eks"}},
     ['mlops:compute.subnets: "public" must be private with serving.cluster: eks: the cluster\'s nodes and API server '
      "interfaces run in the private subnets, behind the NAT gateway"]),
    ("serving on eks training on the cluster", "dev", {"serving": {"cluster": "eks"}, "compute": {"kind": "none"}},
     ['mlops:serving.cluster: "eks" needs compute.kind: ec2, not none: an EKS stack trains on AWS Batch GPU instances '
      "(training on the cluster itself is built for GKE and kubeconfig clusters only)"]),
    ("serving on gke without gke", "dev", {"serving": {"cluster": "gke"}},
     ['mlops:serving.cluster: "gke" needs compute.kind: gke (the program\'s GKE cluster), not ec2']),
    ("artifact registry with ec2", "dev", {"registry": {"kind": "artifact-registry"}, "gke": {"project": "mlops-dev-123456"}},
     ['mlops:registry.kind: "artifact-registry" must be ecr with compute.kind: ec2: the instance pulls with its IAM role']),
    ("artifact registry without a project", "dev", {"registry": {"kind": "artifact-registry"}, "compute": {"kind": "none"}},
     ["mlops:gke.project: (unset) is required with registry.kind: artifact-registry (the Google Cloud project id)"]),
    ("gke with ecr and nothing else", "dev", {"compute": {"kind": "gke"}, "serving": {"cluster": "gke"}},
     ["mlops:gke.project: (unset) is required with compute.kind: gke (the Google Cloud project id)",
      'mlops:registry.kind: "ecr" must be artifact-registry with compute.kind: gke: the nodes pull with their own '
      "service account, where ECR would need a static pull token",
      "mlops:gke.zones: (unset) is required with compute.kind: gke (for example [us-central1-a])",
      "mlops:gke.authorizedNetworks: (unset) is required with compute.kind: gke: the CIDRs that run kubectl and "
      "pulumi (the control plane admits no one else)"]),
    ("nodes", "dev", {"compute": {"minNodes": 3, "maxNodes": 1}}, ["mlops:compute.minNodes: 3 must be <= maxNodes (1)"]),
    ("replicas", "dev", iris(serve={"minReplicas": 3, "maxReplicas": 2}),
     ["mlops:projects.iris.serve.minReplicas: 3 must be <= maxReplicas (2)"]),
    ("prod replicas", "prod", {"storage": {"backupRegion": "us-west-2"}, **iris(serve={"minReplicas": 1})},
     ["mlops:projects.iris.serve.minReplicas: 1 must be >= 2 in prod, so a rollout or a node loss keeps serving"]),
    ("prod backup", "prod", iris(serve={"minReplicas": 2}),
     ["mlops:storage.backupRegion: (unset) is required in prod (an AWS region other than aws:region)"]),
    ("backup in the same region", "dev", {"storage": {"backupRegion": "us-east-1"}},
     ['mlops:storage.backupRegion: "us-east-1" must differ from aws:region, or the backup shares its fate']),
    ("builtin data set", "dev", iris(data="builtin:mnist"),
     ['mlops:projects.iris.train.data: "builtin:mnist" is invalid: builtin data sets are iris, wine, breast_cancer, digits']),
    ("teardown", "prod", {"teardown": "yes", "storage": {"backupRegion": "us-west-2"}},
     ['mlops:teardown: "yes" is invalid: must be true or false']),
    ("environment", "dev", {"environment": "staging"}, ["mlops:environment: \"staging\" is invalid: Input should be 'dev' or 'prod'"]),
]


@pytest.mark.parametrize(("stack", "raw", "expected"), [pytest.param(*rest, id=case) for case, *rest in EXACT])
def test_each_message_reads_exactly(stack: str, raw: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as refused:
        StackConfig.parse(with_budget({"environment": stack, **raw}), project="mlops", stack=stack, aws_region="us-east-1")
    assert refused.value.problems == expected

FROM_THE_STACK_FILE: list[tuple[str, dict[str, Any], list[str]]] = [
    ("unknown key", {"mlops:zzz": "1"}, [f"mlops:zzz: unknown key; {ALLOWED_TOP}"]),
    ("mistyped key", {"mlops:projetcs": {"iris": {}}}, [f"mlops:projetcs: unknown key (did you mean projects?); {ALLOWED_TOP}"]),
    ("old training section", {"mlops:training": {"gpus": 1}}, [f"mlops:training.gpus: {MOVED}"]),
    # A dotted key is a flat nested setting only if its first part is a section.
    ("dotted key of no section", {"mlops:foo.bar": "1"}, [f"mlops:foo.bar: unknown key; {ALLOWED_TOP}"]),
    ("flat nested key", {"mlops:storage.backupRegion": "us-west-2"},
     ["mlops:storage.backupRegion: is set as one flat key, so the program never sees it; set nested settings with "
      "--path: `pulumi config set --path 'mlops:storage.backupRegion' <value>`, which writes backupRegion under mlops:storage"]),
    ("section not an object", {"mlops:storage": "30"}, ["mlops:storage: must be an object of settings, got '30'"]),
    ("missing environment", {"mlops:environment": None}, ["mlops:environment: missing; set it to dev or prod"]),
    ("missing region", {"aws:region": None}, ["aws:region: missing; set the AWS region to deploy to (for example us-east-1)"]),
    ("mistyped region", {"aws:region": "us-east1"}, ["aws:region: \"us-east1\" is invalid: 'us-east1' is not an AWS region; did you mean us-east-1?"]),
]


@pytest.mark.parametrize(("changes", "expected"), [pytest.param(*rest, id=case) for case, *rest in FROM_THE_STACK_FILE])
def test_each_stack_file_message_reads_exactly(changes: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as refused:
        run_program("dev", stack_config_with("dev", changes), Recording())
    assert refused.value.problems == expected


def test_several_problems_are_one_numbered_message() -> None:
    # One problem is its own line; several get a count and one indented line each.
    assert str(ConfigError(["a"])) == "a"
    assert str(ConfigError(["a", "b"])) == "2 problems in the stack config:\n  a\n  b"


@pytest.mark.parametrize(
    ("key", "allowed", "hint"),
    [
        ("minReplica", ["minReplicas", "maxReplicas"], " (did you mean minReplicas?)"),
        ("zzz", ["minReplicas", "maxReplicas"], ""),
        ("anything", [], ""),
    ],
)
def test_did_you_mean_names_the_nearest_allowed_key_or_nothing(key: str, allowed: list[str], hint: str) -> None:
    assert did_you_mean(key, allowed) == hint


def test_a_dotted_key_of_a_section_is_told_to_use_path() -> None:
    # The section list decides: the same dotted key is only "unknown" where no section has that name.
    assert unknown_top_level_key("storage.x", ("storage",), ("environment", "storage")) == (
        "mlops:storage.x: is set as one flat key, so the program never sees it; set nested settings with "
        "--path: `pulumi config set --path 'mlops:storage.x' <value>`, which writes x under mlops:storage"
    )
    assert unknown_top_level_key("storage.x", (), ("environment",)) == (
        "mlops:storage.x: unknown key; allowed keys are environment"
    )
