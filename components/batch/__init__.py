"""GPU training on AWS Batch (compute.kind: ec2), in parts with one job each.

- args.py: what the component is given;
- job.py: what a job is (the job definition, its role, its log group);
- capacity.py: where it runs (the compute environment, launch template, instance role, queue);
- trigger.py: when it runs (the Scheduler schedule and its role);
- component.py: `BatchTraining`, which composes them.
"""

from components.batch.args import BatchTrainingArgs
from components.batch.component import BatchTraining

__all__ = ["BatchTraining", "BatchTrainingArgs"]
