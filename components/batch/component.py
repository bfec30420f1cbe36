"""The Batch training component: the stack's shared capacity, each project's job and schedule, and
the commands that drive them."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.batch.args import BatchTrainingArgs
from components.batch.capacity import gpu_queue
from components.batch.dead_letters import dead_letter_queue
from components.batch.failures import failure_notification
from components.batch.job import training_job, training_log_group
from components.batch.trigger import schedule_role, training_schedule
from components.network import NetworkArgs, TrainingNetwork


class BatchTraining(pulumi.ComponentResource):
    """GPU training on AWS Batch: nothing runs between jobs; a schedule or one command starts a run.

    One queue (capacity.py) whose compute environment scales from zero serves every project:
    Batch launches a GPU instance when a job is RUNNABLE and terminates it when the queue is
    empty. Each project has its own job (job.py: its image on the train.py contract, its own
    role and log streams), its own schedule (trigger.py) with its dead-letter queue and alarm
    (dead_letters.py), and its failure rule (failures.py), all telling the stack's topic.

    Public attributes: `job_queue`, `log_group`, `describe_command`, `logs_command`, and per
    project `job_definitions` and `submit_commands`.
    """

    job_queue: pulumi.Output[str]
    log_group: pulumi.Output[str]
    job_definitions: dict[str, pulumi.Output[str]]
    submit_commands: dict[str, pulumi.Output[str]]
    describe_command: pulumi.Output[str]
    logs_command: pulumi.Output[str]

    def __init__(self, name: str, args: BatchTrainingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:batch:BatchTraining", name, None, opts)
        # Every lookup goes through this component's provider.
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        log_group = training_log_group(name, args, parent=self)
        definitions = {
            project: training_job(name, args, project, region=region, log_group=log_group, parent=self)
            for project in args.projects
        }
        network = args.network or TrainingNetwork(
            f"{name}-net", NetworkArgs(subnets=args.subnets), opts=pulumi.ResourceOptions(parent=self)
        )
        queue = gpu_queue(name, args, network=network, parent=self)
        dead_letters = {project: dead_letter_queue(name, args, project, parent=self) for project in args.projects}
        role = schedule_role(
            name, queue=queue, definitions=list(definitions.values()), dead_letter_queues=list(dead_letters.values()), parent=self
        )
        for project, definition in definitions.items():
            training_schedule(
                name, args, project, queue=queue, definition=definition, role=role,
                dead_letter_queue=dead_letters[project], parent=self,
            )
            failure_notification(name, args, project, definition=definition, log_group=log_group, region=region, parent=self)

        self.job_queue = queue.name
        self.log_group = log_group.name
        self.job_definitions = {project: definition.name for project, definition in definitions.items()}
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
