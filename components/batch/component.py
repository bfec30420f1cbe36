"""The Batch training component: a job, where it runs and when, and the commands that drive it."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.batch.args import BatchTrainingArgs
from components.batch.capacity import gpu_queue
from components.batch.job import training_job
from components.batch.trigger import training_schedule
from components.network import NetworkArgs, TrainingNetwork


class BatchTraining(pulumi.ComponentResource):
    """GPU training on AWS Batch: nothing runs between jobs; a schedule or one command starts a run.

    A job (components/batch/job.py) is the training image on the train.py contract, run as its
    own role. It runs on a queue (capacity.py) whose compute environment scales from zero:
    Batch launches one GPU instance when a job is RUNNABLE and terminates it when the queue
    is empty. A schedule (trigger.py) submits it on the training cron.

    Public attributes: `job_queue`, `job_definition` (names), `log_group`, and the commands
    `submit_command`, `describe_command` and `logs_command`.
    """

    job_queue: pulumi.Output[str]
    job_definition: pulumi.Output[str]
    log_group: pulumi.Output[str]
    submit_command: pulumi.Output[str]
    describe_command: pulumi.Output[str]
    logs_command: pulumi.Output[str]

    def __init__(self, name: str, args: BatchTrainingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:batch:BatchTraining", name, None, opts)
        # Every lookup goes through this component's provider.
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        job = training_job(name, args, region=region, parent=self)
        network = TrainingNetwork(f"{name}-net", NetworkArgs(subnets=args.subnets), opts=pulumi.ResourceOptions(parent=self))
        queue = gpu_queue(name, args, network=network, parent=self)
        training_schedule(name, args, queue=queue, definition=job.definition, parent=self)

        self.job_queue = queue.name
        self.job_definition = job.definition.name
        self.log_group = job.log_group.name
        self._cli_commands(args, region=region)
        self.register_outputs(
            {
                "jobQueue": self.job_queue,
                "jobDefinition": self.job_definition,
                "logGroup": self.log_group,
                "submitCommand": self.submit_command,
                "describeCommand": self.describe_command,
                "logsCommand": self.logs_command,
            }
        )

    def _cli_commands(self, args: BatchTrainingArgs, *, region: pulumi.Output[str]) -> None:
        """The AWS CLI lines that start a run now, show its state and follow its log."""
        self.submit_command = pulumi.Output.concat(
            "aws batch submit-job --region ",
            region,
            " --job-queue ",
            self.job_queue,
            " --job-definition ",
            self.job_definition,
            f" --job-name {args.name_prefix}-train-manual --query jobId --output text",
        )
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
