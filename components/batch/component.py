"""The Batch training component: the stack's shared capacity, each project's job and schedule, and
the commands that drive them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from components.batch.args import BatchTrainingArgs
from components.batch.capacity import gpu_queue
from components.batch.dead_letters import dead_letter_queue
from components.batch.failures import failure_notification
from components.batch.job import training_job, training_log_group
from components.batch.pipeline_access import pipeline_statements
from components.batch.trigger import schedule_role, training_schedule
from components.network import NetworkArgs, TrainingNetwork
from components.project_names import REPRODUCE_SUFFIX


PIPELINE_SCHEDULES = "pipelineSchedules"
"""The component's input naming each project's cron where the pipeline, not a schedule here, starts its runs."""


class BatchTraining(pulumi.ComponentResource):
    """GPU training on AWS Batch: nothing runs between jobs; a schedule, Airflow or one command starts a run.

    One queue (capacity.py) whose compute environment scales from zero serves every project:
    Batch launches a GPU instance when a job is RUNNABLE and terminates it when the queue is
    empty. Each project has its own job (job.py: its image on the train.py contract, its own
    role and log streams) and its failure rule (failures.py), telling the stack's topic. Without
    Airflow (`scheduled`), each also has its schedule (trigger.py) with its dead-letter queue and
    alarm (dead_letters.py); with it, Airflow submits the runs as `pipeline_statements` allow.

    Public attributes: `job_queue`, `job_queue_arn`, `log_group`, `describe_command`,
    `logs_command`, `pipeline_statements`, and per project `job_definitions`,
    `job_definition_arns` and `submit_commands`.
    """

    job_queue: pulumi.Output[str]
    job_queue_arn: pulumi.Output[str]
    log_group: pulumi.Output[str]
    job_definitions: dict[str, pulumi.Output[str]]
    job_definition_arns: dict[str, pulumi.Output[str]]
    """Each project's job definition ARN with its revision: the one Pulumi registered."""
    submit_commands: dict[str, pulumi.Output[str]]
    describe_command: pulumi.Output[str]
    logs_command: pulumi.Output[str]
    pipeline_statements: list[Mapping[str, Any]]
    """What Airflow's identity may do here (pipeline_access.py)."""

    def __init__(self, name: str, args: BatchTrainingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Without a schedule of its own, the component records the cron each project's runs are
        # started on (by Airflow), so the review tools still count them (offline/cost_by_project.py).
        started_elsewhere = None if args.scheduled else {
            PIPELINE_SCHEDULES: {project: p.training.schedule for project, p in args.projects.items()}
        }
        super().__init__("mlops:batch:BatchTraining", name, started_elsewhere, opts)
        # Every lookup goes through this component's provider.
        invoke = pulumi.InvokeOutputOptions(parent=self)
        region = aws.get_region_output(opts=invoke).region
        log_group = training_log_group(name, args, parent=self)
        jobs = {
            project: training_job(name, args, project, region=region, log_group=log_group, parent=self)
            for project in args.projects
        }
        definitions = {project: job.definition for project, job in jobs.items()}
        network = args.network or TrainingNetwork(
            f"{name}-net", NetworkArgs(subnets=args.subnets), opts=pulumi.ResourceOptions(parent=self)
        )
        queue = gpu_queue(name, args, network=network, parent=self)
        if args.scheduled:
            self._schedules(name, args, queue=queue, definitions=definitions)
        for project, definition in definitions.items():
            failure_notification(name, args, project, definition=definition, log_group=log_group, region=region, parent=self)

        self.job_queue = queue.name
        self.job_queue_arn = queue.arn
        self.log_group = log_group.name
        self.job_definitions = {project: definition.name for project, definition in definitions.items()}
        self.job_definition_arns = {project: definition.arn for project, definition in definitions.items()}
        self.pipeline_statements = pipeline_statements(
            queue_arn=queue.arn,
            family_arns=[definition.arn_prefix for definition in definitions.values()],
            reproduce_family_arns=[pulumi.Output.concat(d.arn_prefix, REPRODUCE_SUFFIX) for d in definitions.values()],
            job_role_arns=[job.role.arn for job in jobs.values()],
            train_repository_arn=args.train_repository_arn,
            jobs_arn=pulumi.Output.concat(
                "arn:", aws.get_partition_output(opts=invoke).partition, ":batch:", region, ":",
                aws.get_caller_identity_output(opts=invoke).account_id, ":job/*",
            ),
        )
        self._cli_commands(region=region)
        self.register_outputs(
            {
                "jobQueue": self.job_queue,
                "jobDefinitions": self.job_definitions,
                "logGroup": self.log_group,
                "submitCommands": self.submit_commands,
                "describeCommand": self.describe_command,
                "logsCommand": self.logs_command,
            }
        )

    def _schedules(
        self, name: str, args: BatchTrainingArgs, *, queue: aws.batch.JobQueue, definitions: Mapping[str, aws.batch.JobDefinition]
    ) -> None:
        """Each project's schedule, its dead-letter queue and alarm, and the schedules' one role."""
        dead_letters = {project: dead_letter_queue(name, args, project, parent=self) for project in definitions}
        role = schedule_role(
            name, queue=queue, definitions=list(definitions.values()), dead_letter_queues=list(dead_letters.values()), parent=self
        )
        for project, definition in definitions.items():
            training_schedule(
                name, args, project, queue=queue, definition=definition, role=role,
                dead_letter_queue=dead_letters[project], parent=self,
            )

    def _cli_commands(self, *, region: pulumi.Output[str]) -> None:
        """The AWS CLI lines that start a project's run now, show a run's state and follow its log."""
        self.submit_commands = {
            project: pulumi.Output.concat(
                "aws batch submit-job --region ",
                region,
                " --job-queue ",
                self.job_queue,
                " --job-definition ",
                definition,
                " --job-name ",
                definition,
                "-manual --query jobId --output text",
            )
            for project, definition in self.job_definitions.items()
        }
        describe = pulumi.Output.concat("aws batch describe-jobs --region ", region, ' --jobs "$JOB_ID"')
        self.describe_command = pulumi.Output.concat(
            describe,
            " --query 'jobs[0].{status:status,reason:statusReason,attempts:length(attempts),"
            "exitCode:container.exitCode,logStream:container.logStreamName}'",
        )
        self.logs_command = pulumi.Output.concat(
            "aws logs tail ",
            self.log_group,
            " --region ",
            region,
            ' --follow --log-stream-names "$(',
            describe,
            " --query 'jobs[0].container.logStreamName' --output text)\"",
        )
