"""What the stack exports of Airflow, the REST call that is each project's trainNowCommand, and a stack
with `pipeline.kind: none`, which registers nothing of Airflow and keeps its outputs as they were."""

from __future__ import annotations

import shlex

import pytest

from components.pipeline_backends import trigger_command
from offline.engine import Recording
from tests.pipeline.airflow_support import AIRFLOW_COMPONENTS, RELEASE

AIRFLOW_OUTPUTS = {"airflowNamespace", "airflowAdminPassword", "airflowApiCommand"}


def test_airflow_outputs_name_its_namespace_password_and_port_forward(dev: Recording) -> None:
    assert AIRFLOW_OUTPUTS <= set(dev.outputs)
    assert dev.outputs["airflowNamespace"] == "mlops-dev-airflow"
    assert dev.outputs["airflowApiCommand"] == "kubectl port-forward -n mlops-dev-airflow service/airflow-api-server 8080:8080"
    assert "airflowAdminPassword" in dev.secret_outputs and "airflowNamespace" not in dev.secret_outputs


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_train_now_starts_the_projects_dag_over_the_rest_api(request: pytest.FixtureRequest, stack: str) -> None:
    command = request.getfixturevalue(stack).outputs["projects"]["iris"]["trainNowCommand"]
    assert command == (
        "TOKEN=$(curl -s -X POST http://localhost:8080/auth/token -H 'Content-Type: application/json' "
        "-d '{\"username\":\"admin\",\"password\":\"'\"$(pulumi stack output airflowAdminPassword --show-secrets "
        f"--stack {stack})\"'\"}}' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])') "
        "&& curl -s -X POST http://localhost:8080/api/v2/dags/iris/dagRuns -H \"Authorization: Bearer $TOKEN\" "
        "-H 'Content-Type: application/json' -d '{\"logical_date\": null, \"conf\": {}}'"
    )


def test_the_shell_reads_a_login_then_a_trigger_each_with_a_json_body() -> None:
    # shlex reads it as the shell would: the login body is JSON once the password is substituted in.
    command = trigger_command("iris", stack="dev")
    first, second = command.split(" && ")
    login = shlex.split(first.removeprefix("TOKEN=$(").split(" | ")[0])
    body = login[login.index("-d") + 1]
    assert body == '{"username":"admin","password":"$(pulumi stack output airflowAdminPassword --show-secrets --stack dev)"}'
    trigger = shlex.split(second)
    assert trigger[trigger.index("-d") + 1] == '{"logical_date": null, "conf": {}}'
    assert trigger[4] == "http://localhost:8080/api/v2/dags/iris/dagRuns"


def test_a_stack_without_airflow_registers_nothing_of_it(dev_scheduled: Recording) -> None:
    assert [r.name for r in dev_scheduled.resources if r.type in (RELEASE, *AIRFLOW_COMPONENTS)] == []
    assert [r.name for r in dev_scheduled.resources if r.name.startswith("airflow") or "pipeline" in r.name] == []
    assert AIRFLOW_OUTPUTS.isdisjoint(dev_scheduled.outputs)
    assert set(dev_scheduled.outputs["imageRefs"]) == set(dev_scheduled.outputs["registryUrls"]) == {"train", "serve"}
    assert dev_scheduled.outputs["projects"]["iris"]["trainNowCommand"].startswith("aws batch submit-job ")


def test_a_stack_without_airflow_has_the_outputs_it_had_before_it(dev: Recording, dev_scheduled: Recording) -> None:
    # The same keys but Airflow's (and the DAG image's), the same project outputs but trainNowCommand.
    assert set(dev.outputs) - set(dev_scheduled.outputs) == AIRFLOW_OUTPUTS
    assert {k: v for k, v in dev.outputs["projects"]["iris"].items() if k != "trainNowCommand"} == {
        k: v for k, v in dev_scheduled.outputs["projects"]["iris"].items() if k != "trainNowCommand"}
