"""Run inside .venv-airflow: start runs through Airflow's REST API app (in process, FastAPI's test
client) and print each answer as one JSON line: [{"status": ..., "body": ...}, ...].

    python rest_trigger.py '<dag id>' '[{<conf>}, ...]'

The DAG must be serialized in the metadata database (`airflow dags reserialize`). The auth manager is
the environment's (the tests use the simple one with every user an admin: the token endpoint
differs from FAB's, POST /api/v2/dags/<dag>/dagRuns does not).
"""

from __future__ import annotations

import json
import sys

from airflow.api_fastapi.app import create_app
from fastapi.testclient import TestClient


def main() -> None:
    dag_id, confs = sys.argv[1], json.loads(sys.argv[2])
    client = TestClient(create_app())
    token = client.get("/auth/token").json()["access_token"]
    answers = []
    for conf in confs:
        answer = client.post(
            f"/api/v2/dags/{dag_id}/dagRuns",
            json={"logical_date": None, "conf": conf},
            headers={"Authorization": f"Bearer {token}"},
        )
        answers.append({"status": answer.status_code, "body": answer.json()})
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
