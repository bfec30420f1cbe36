"""train's operators: an AWS Batch job (Airflow's BatchOperator) or a Job from the project's CronJob.

Both plan the run's command the same way (training.py), and both run the trainer locally instead
when MLOPS_PIPELINE_LOCAL_TRAINER is set (the test seam, images/pipeline/README.md). An exit of 6
(trained and stored, below the gate) is a result: train succeeds and evaluate reports it. A job
that failed otherwise has used its own retries (Batch's retry strategy, the Job's backoffLimit),
so train fails at once with the job's reason; an API error is raised for Airflow to retry.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

import boto3
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.providers.amazon.aws.operators.batch import BatchOperator
from airflow.sdk import BaseOperator

from mlops_pipeline import batch, cluster_job
from mlops_pipeline.command import Run
from mlops_pipeline.settings import Project, local_trainer
from mlops_pipeline.tasks import failures_reported
from mlops_pipeline.training import FINAL_EXIT_CODES, GATE_FAILED, command_for, planned_run, run_local

POLL_SECONDS = 15
IMAGE_PULL_GRACE_SECONDS = 300  # a pull that still fails after this is not a registry hiccup


class Training:
    """The steps both operators share: plan the command, or run it locally."""

    mlops_project: Project

    def plan(self, context: Any) -> tuple[dict[str, Any], Run, list[str]]:
        p = self.mlops_project
        plan = context["ti"].xcom_pull(task_ids="validate_data")
        run = planned_run(p, plan, context["run_id"], boto3.client("s3", region_name=p.region))
        command = command_for(p, run)
        return plan, run, command

    def run_locally(self, trainer: str, command: list[str], image: str, log: Any) -> None:
        code = run_local(trainer, command, image=image, log=log.info)
        result(code, f"the local trainer exited {code}")


def raw(response: Any) -> dict[str, Any]:
    """A Kubernetes API answer as the JSON the API sent (camelCase, as the manifests are written)."""
    return json.loads(response.data)


def result(code: int | None, reason: str) -> None:
    """0 and 6 are results; 2..5 fail at once; anything else is worth Airflow's retry."""
    if code in (0, GATE_FAILED):
        return
    if code in FINAL_EXIT_CODES:
        raise AirflowFailException(reason)
    raise AirflowException(reason)


class BatchTraining(Training, BatchOperator):
    """BatchOperator on the project's job definition and the stack's queue, with the run's command."""

    def __init__(self, *, mlops_project: Project, **kwargs: Any) -> None:
        super().__init__(
            job_name=f"{mlops_project.name}-train",  # the run's own name is set when it starts
            job_definition=mlops_project.runtime["job_definition"],
            job_queue=mlops_project.job_queue or "",
            region_name=mlops_project.region,
            aws_conn_id=None,  # the pod's own identity (IRSA, web identity or a dev key), not a connection
            **kwargs,
        )
        self.mlops_project = mlops_project

    def execute(self, context: Any) -> str | None:
        with failures_reported(context):
            plan, run, command = self.plan(context)
            if (trainer := local_trainer()) is not None:
                self.run_locally(trainer, command, plan["image"] or self.mlops_project.image, self.log)
                return None
            p = self.mlops_project
            client = boto3.client("batch", region_name=p.region)
            self.job_name = batch.job_name(p.name, run.run_id, context["ti"].try_number)
            self.job_definition = batch.definition_for(client, p.runtime["job_definition"], plan["image"])
            self.container_overrides = batch.submission(
                name=self.job_name, job_definition=self.job_definition, job_queue=self.job_queue, command=command
            )["containerOverrides"]
            try:
                return super().execute(context)
            except AirflowException:
                if not self.job_id:
                    raise  # not submitted: the API failed, worth a retry
                job = client.describe_jobs(jobs=[self.job_id])["jobs"][0]
                if job["status"] != "FAILED":
                    raise
                if batch.exit_code(job) == GATE_FAILED:
                    self.log.info("Batch job %s: below the gate (exit 6), stored and left to evaluate", self.job_id)
                    return self.job_id
                raise AirflowFailException(self.failed(job)) from None

    def failed(self, job: dict[str, Any]) -> str:
        reason = f"Batch job {job['jobId']} ({job['jobName']}) failed: {batch.failure(job)}"
        if not job.get("attempts"):
            minutes = self.mlops_project.runnable_timeout_minutes
            reason += (
                f". It never started: a job still RUNNABLE after pipeline.runnableTimeoutMinutes ({minutes}) "
                "is cancelled by the queue (no capacity for its GPUs: see README, Training on AWS Batch)"
            )
        return reason


class ClusterJobTraining(Training, BaseOperator):
    """A Job from the project's suspended CronJob, created in-cluster, waited for, its log printed."""

    def __init__(self, *, mlops_project: Project, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mlops_project = mlops_project

    def execute(self, context: Any) -> str | None:
        with failures_reported(context):
            plan, run, command = self.plan(context)
            if (trainer := local_trainer()) is not None:
                self.run_locally(trainer, command, plan["image"] or self.mlops_project.image, self.log)
                return None
            from kubernetes import client, config

            config.load_incluster_config()  # the pod's ServiceAccount: Airflow's, with its Role in the workloads namespace
            return self.run_job(client.BatchV1Api(), client.CoreV1Api(), plan, run, command, context["ti"].try_number)

    def run_job(self, jobs: Any, core: Any, plan: dict[str, Any], run: Run, command: list[str], try_number: int) -> str:
        """Create (or adopt) the run's Job, wait for it, print its pod's log, and fail with its reason."""
        from kubernetes.client.exceptions import ApiException

        namespace, cronjob_name = self.mlops_project.workloads_namespace, self.mlops_project.runtime["cronjob"]
        cronjob = raw(jobs.read_namespaced_cron_job(cronjob_name, namespace, _preload_content=False))
        name = cluster_job.job_name(cronjob_name, run.run_id, try_number)
        manifest = cluster_job.job_manifest(cronjob, name=name, args=command, run_id=run.run_id, try_number=try_number, image=plan["image"])
        try:
            jobs.create_namespaced_job(namespace, manifest)
            self.log.info("created Job %s/%s from cronjob/%s", namespace, name, cronjob_name)
        except ApiException as exc:
            if exc.status != 409:
                raise
            self.log.info("Job %s/%s exists (this try ran before): adopting it", namespace, name)
        finished, message, pod = self.wait(jobs, core, namespace, name)
        if pod is not None:
            pod_name = pod["metadata"]["name"]
            self.log.info("log of pod %s:\n%s", pod_name, core.read_namespaced_pod_log(pod_name, namespace, container=cluster_job.CONTAINER))
        code = cluster_job.exit_code(pod) if pod else None
        if finished == "Failed":
            if code == GATE_FAILED:
                self.log.info("Job %s: below the gate (exit 6), stored and left to evaluate", name)
                return name
            raise AirflowFailException(f"Job {namespace}/{name} failed: {message}" + (f"; exit code {code}" if code is not None else ""))
        return name

    def wait(self, jobs: Any, core: Any, namespace: str, name: str) -> tuple[str, str, dict[str, Any] | None]:
        """Poll until the Job finishes (the task's execution_timeout bounds it); fail on an image that won't pull."""
        pull_failing_since: float | None = None
        while True:
            job = raw(jobs.read_namespaced_job(name, namespace, _preload_content=False))
            pods = raw(core.list_namespaced_pod(namespace, label_selector=f"job-name={name}", _preload_content=False))["items"]
            latest = max(pods, key=lambda pod: pod["metadata"]["creationTimestamp"], default=None)
            if (finished := cluster_job.outcome(job)) is not None:
                return finished[0], finished[1], latest
            stuck = cluster_job.stuck(latest) if latest else None
            pull_failing_since = (pull_failing_since or time.monotonic()) if stuck else None
            if stuck and time.monotonic() - (pull_failing_since or 0) > IMAGE_PULL_GRACE_SECONDS:
                raise AirflowFailException(
                    f"Job {namespace}/{name}: the image can't be pulled ({stuck}); a reproduced version's image "
                    "may be gone (the registry keeps the newest registry.keepImages)"
                )
            self.log.info("Job %s/%s running (%s)", namespace, name, datetime.now(timezone.utc).isoformat(timespec="seconds"))
            time.sleep(POLL_SECONDS)
