"""The pipeline on Apache Airflow: its spec for the DAG image, the chart, its database and its network."""
