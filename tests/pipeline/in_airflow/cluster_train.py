"""Run inside .venv-airflow: run ClusterJobTraining's Job steps against a small fake of the Kubernetes
API (on loopback, through the real Kubernetes client) and print what happened as JSON.

    python cluster_train.py '<project>' '{"cronjob": <the CronJob>, "plan": ..., "run_id": ..., "cases": [{"exit_code": N, "exists": bool}, ...]}'

prints one result per case, in order, as a JSON list on the last line.

The fake holds the CronJob; takes a Job (409 if it exists); answers it running once, then
finished with the trainer's exit code (Complete for 0, Failed otherwise, as the pod failure
policy has it); lists its one pod, and serves that pod's log.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

from kubernetes import client

from mlops_pipeline import operators
from mlops_pipeline.command import Run
from mlops_pipeline.dag import build_dag
from mlops_pipeline.settings import projects, read_runtime, read_spec
from mlops_pipeline.training import command_for

LOG = "train: stored s3://b/models/iris/20261202T030000000000Z-0a1b2c3d (accuracy 0.9333), not promoted (--no-promote)"


class FakeApi:
    def __init__(self, cronjob: dict[str, Any], job_name: str, exit_code: int, exists: bool) -> None:
        self.cronjob, self.job_name, self.exit_code = cronjob, job_name, exit_code
        self.jobs: dict[str, dict[str, Any]] = {}
        self.created: list[dict[str, Any]] = []
        self.reads = 0
        self.exists = exists

    def job_status(self) -> dict[str, Any]:
        self.reads += 1
        if self.reads < 2:
            return {"active": 1}
        kind = "Complete" if self.exit_code == 0 else "Failed"
        reason = "" if kind == "Complete" else "PodFailurePolicy"
        message = "" if kind == "Complete" else f"Container train for pod x failed with exit code {self.exit_code} matching FailJob rule at index 0"
        return {"conditions": [{"type": kind, "status": "True", "reason": reason, "message": message}]}

    def pod(self, job: str) -> dict[str, Any]:
        state = {"terminated": {"exitCode": self.exit_code}} if self.reads >= 2 else {"running": {}}
        return {"metadata": {"name": f"{job}-abcde", "creationTimestamp": "2026-12-02T03:00:01Z"},
                "status": {"containerStatuses": [{"name": "train", "state": state}]}}

    def handle(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        namespace = self.cronjob["metadata"]["namespace"]
        if method == "GET" and path == f"/apis/batch/v1/namespaces/{namespace}/cronjobs/{self.cronjob['metadata']['name']}":
            return 200, self.cronjob
        if method == "POST" and path == f"/apis/batch/v1/namespaces/{namespace}/jobs":
            assert body is not None
            self.created.append(body)
            if self.exists:
                return 409, {"kind": "Status", "reason": "AlreadyExists", "code": 409}
            return 201, body
        if method == "GET" and (found := re.fullmatch(rf"/apis/batch/v1/namespaces/{namespace}/jobs/([^/]+)", path)):
            return 200, {"metadata": {"name": found.group(1)}, "status": self.job_status()}
        if method == "GET" and path == f"/api/v1/namespaces/{namespace}/pods":
            return 200, {"items": [self.pod(self.job_name)]}
        if method == "GET" and re.fullmatch(rf"/api/v1/namespaces/{namespace}/pods/[^/]+/log", path):
            return 200, LOG
        return 404, {"kind": "Status", "code": 404, "message": f"{method} {path}"}


def serve(api: FakeApi) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, payload = api.handle(method, urlparse(self.path).path, body)
            text = payload if isinstance(payload, str) else json.dumps(payload)
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
            self.end_headers()
            self.wfile.write(text.encode())

        def do_GET(self) -> None:
            self.answer("GET")

        def do_POST(self) -> None:
            self.answer("POST")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class names it so)
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    project_name, given = sys.argv[1], json.loads(sys.argv[2])
    operators.POLL_SECONDS = 0
    [project] = [p for p in projects(read_spec(), read_runtime()) if p.name == project_name]
    train: Any = build_dag(project).get_task("train")
    logged: list[str] = []
    train.log.info = lambda message, *args: logged.append(message % args)
    print(json.dumps([case(train, project, given, **c, logged=logged) for c in given["cases"]]))


def case(train: Any, project: Any, given: dict[str, Any], *, exit_code: int, exists: bool, logged: list[str]) -> dict[str, Any]:
    run = Run(data="builtin:iris", params={}, seed=42, run_id=given["run_id"], baseline=None)
    command = command_for(project, run)
    api = FakeApi(given["cronjob"], operators.cluster_job.job_name(project.runtime["cronjob"], run.run_id, 1), exit_code, exists)
    server = serve(api)
    kube = client.ApiClient(client.Configuration(host=f"http://127.0.0.1:{server.server_port}"))
    error, returned = None, None
    logged.clear()
    try:
        returned = train.run_job(client.BatchV1Api(kube), client.CoreV1Api(kube), given["plan"], run, command, 1)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    server.shutdown()
    return {"created": api.created, "command": command, "returned": returned, "error": error, "logged": list(logged)}


if __name__ == "__main__":
    main()
