"""GPU training on AWS Batch (compute.kind: ec2), in parts with one job each.

- args.py: what the component is given;
- job.py: what a project's job is (its job definition and role; the shared log group);
- capacity.py: where it runs (the compute environment, launch template, instance role, queue);
- trigger.py: when each runs (a Scheduler schedule per project, and their one role);
- dead_letters.py: a schedule's submit that failed for good (a dead-letter queue and its alarm);
- failures.py: who hears of a failed job (an EventBridge rule per project, to the topic);
- component.py: `BatchTraining`, which composes them.
"""

from components.batch.args import BatchProject, BatchTrainingArgs
from components.batch.component import BatchTraining

__all__ = ["BatchProject", "BatchTraining", "BatchTrainingArgs"]
