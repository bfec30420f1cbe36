"""The stack-config model: the whole `mlops:` namespace, parsed and validated once.

`StackConfig.from_pulumi()` is the only place in the program that reads `pulumi.Config`.
Components take the typed sections, never raw config. Any invalid value becomes one
`ConfigError` (a `pulumi.RunError`, so the CLI prints it without a traceback) that names
the key as written in the stack file, the bad value and what is allowed.

One module per concern: `stack` composes the sections (`storage`, `registry`, `compute`,
`serving`, `projects`, `gke`, `eks`, `monitoring`, `pipeline`, each on the base in `section`); `rules` holds the rules that
span sections, `project_rules` those on the projects against the rest of the stack;
`legacy` the single-model keys that moved under `projects`; `errors` the messages and their
hints; `cron` the schedule translation; `regions` the AWS regions; `samples` the stack
files' placeholder values. Callers import from here.
"""

from components.config.compute import GKE_GPU_MACHINES, ComputeConfig
from components.config.cron import cron_to_scheduler
from components.config.eks import EksConfig
from components.config.errors import ConfigError
from components.config.gke import GkeConfig
from components.config.pipeline import DatabaseConfig, PipelineConfig
from components.config.regions import AWS_REGIONS, check_region
from components.config.registry import RegistryConfig
from components.config.samples import DOCUMENTATION_NETWORKS, SAMPLE_GCP_PROJECT, placeholder
from components.config.section import PROJECT
from components.config.projects import (
    BUILTIN_DATASETS,
    BUILTIN_TRAINER,
    ProjectConfig,
    ServeConfig,
    TrainConfig,
    cpu_millicores,
    cpu_quantity,
    training_data_uri,
)
from components.config.serving import ServingConfig
from components.config.stack import _SECTION_MODELS, SCALAR_KEYS, SECTIONS, TOP_LEVEL_KEYS, Environment, StackConfig
from components.config.storage import StorageConfig

__all__ = [
    "AWS_REGIONS",
    "BUILTIN_DATASETS",
    "BUILTIN_TRAINER",
    "DOCUMENTATION_NETWORKS",
    "GKE_GPU_MACHINES",
    "PROJECT",
    "SAMPLE_GCP_PROJECT",
    "SCALAR_KEYS",
    "SECTIONS",
    "TOP_LEVEL_KEYS",
    "_SECTION_MODELS",  # read by tests/test_schema.py
    "ComputeConfig",
    "ConfigError",
    "DatabaseConfig",
    "EksConfig",
    "Environment",
    "GkeConfig",
    "PipelineConfig",
    "ProjectConfig",
    "RegistryConfig",
    "ServeConfig",
    "ServingConfig",
    "StackConfig",
    "StorageConfig",
    "TrainConfig",
    "check_region",
    "cpu_millicores",
    "cpu_quantity",
    "cron_to_scheduler",
    "placeholder",
    "training_data_uri",
]
