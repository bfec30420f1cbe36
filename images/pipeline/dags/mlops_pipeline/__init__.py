"""The pipeline's tasks, one small module each; mlops_dags.py (beside this package) builds the DAGs.

The modules without "airflow" in their imports (settings, conf_schema, command, data_check,
versions, reproduce, gate, notify, batch, cluster_job, rollout) are plain Python over boto3
and the Kubernetes client, so the program's tests import them from the main venv; tasks,
operators and dag are the Airflow side.
"""
