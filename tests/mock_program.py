"""A tiny Pulumi program with one resource of each type the mock engine answers specially.

tests/test_engine.py runs it under offline/engine.py and checks the ids, ARNs and computed
outputs the mocks return: the program's own tests rely on them (a bucket policy names the
bucket's ARN, a job queue points at the compute environment's ARN, a kubeconfig carries the
cluster's endpoint).
"""

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build
import pulumi_gcp as gcp
import pulumi_random as random

west = aws.Provider("west", region="us-west-2")
aws.s3.Bucket("named", bucket="kept")
aws.s3.Bucket("prefixed", bucket_prefix="mlops-dev-data-")
aws.s3.Bucket("unnamed")
aws.s3.Bucket("backup", bucket="kept-backup", opts=pulumi.ResourceOptions(provider=west))
aws.s3.Bucket("pinned", bucket="kept-pinned", region="eu-central-1")
aws.ecr.Repository("repo", name="mlops-dev/train")
docker_build.Image("image", tags=["123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-dev/train:abc"], push=False)
aws.kms.Key("key")
aws.iam.Role("role", assume_role_policy="{}")
aws.iam.Role("pathed", assume_role_policy="{}", path="/mlops/", name="given")
aws.iam.InstanceProfile("profile")
aws.iam.OpenIdConnectProvider("oidc", url="https://container.googleapis.com/v1/projects/p/locations/r/clusters/c",
                              client_id_lists=["sts.amazonaws.com"])
aws.ec2.LaunchTemplate("lt")
aws.batch.ComputeEnvironment("ce", name_prefix="mlops-dev-train-", type="MANAGED")
aws.batch.ComputeEnvironment("ce-named", name="mlops-dev-fixed", type="MANAGED")
aws.batch.JobQueue("queue", name="mlops-dev-train", state="ENABLED", priority=1)
aws.batch.JobDefinition("jobdef", name="mlops-dev-train", type="container")
aws.cloudwatch.LogGroup("logs", name="/aws/batch/mlops-dev")
aws.rds.Instance("db", identifier="mlops-dev-airflow", instance_class="db.t4g.micro")
aws.rds.ParameterGroup("db-params", name_prefix="mlops-dev-airflow-", family="postgres16")
aws.iam.AccessKey("access-key", user="u")
random.RandomPassword("password", length=12, special=False)
random.RandomPassword("long-password", length=40, special=False)
random.RandomBytes("bytes", length=32)
aws.ssm.Parameter("parameter", type="String", value="v")
aws.ssm.Parameter("west-parameter", type="String", value="v", opts=pulumi.ResourceOptions(provider=west))
topic = aws.sns.Topic("topic", name="mlops-dev-notifications")
aws.sns.TopicSubscription("subscription", topic=topic.arn, protocol="email", endpoint="oncall@example.com")
aws.sqs.Queue("queue-dlq", name="mlops-dev-iris-train-dlq")
aws.cloudwatch.EventRule("rule", name="mlops-dev-iris-failed")
aws.cloudwatch.MetricAlarm("alarm", name="mlops-dev-iris-train-dlq-not-empty", comparison_operator="GreaterThanThreshold", evaluation_periods=1)

google = gcp.Provider("gcp", project="proj", region="europe-west4")
on_gcp = pulumi.ResourceOptions(provider=google)
gcp.compute.Network("net", name="mlops-net", opts=on_gcp)
gcp.compute.Network("unnamed-net", opts=on_gcp)
gcp.compute.Subnetwork("subnet", name="mlops-sub", ip_cidr_range="10.0.0.0/20", network="n", opts=on_gcp)
gcp.compute.Router("router", name="mlops-router", network="n", opts=on_gcp)
gcp.compute.RouterNat("nat", name="mlops-nat", router="mlops-router", nat_ip_allocate_option="AUTO_ONLY",
                      source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES", opts=on_gcp)
gcp.serviceaccount.Account("sa", account_id="mlops-train", opts=on_gcp)
gcp.container.Cluster("cluster", name="mlops", location="europe-west4-a", opts=on_gcp)
gcp.container.Cluster("regional", name="mlops-regional",
                      control_plane_endpoints_config={"dns_endpoint_config": {"allow_external_traffic": False}},
                      opts=on_gcp)
gcp.container.NodePool("pool", name="gpu", cluster="projects/proj/locations/europe-west4/clusters/mlops", opts=on_gcp)
gcp.artifactregistry.Repository("ar", repository_id="mlops", format="DOCKER", opts=on_gcp)
gcp.projects.Service("api", service="container.googleapis.com", opts=on_gcp)
random.RandomId("random-id", byte_length=2, prefix="mlops-prod-airflow-")
gcp.compute.GlobalAddress("peering-range", name="mlops-prod-google-services", network="projects/proj/global/networks/n",
                          purpose="VPC_PEERING", address_type="INTERNAL", prefix_length=20, opts=on_gcp)
gcp.servicenetworking.Connection("peering", network="projects/proj/global/networks/n", service="servicenetworking.googleapis.com",
                                 reserved_peering_ranges=["mlops-prod-google-services"], opts=on_gcp)
gcp.sql.DatabaseInstance("sql", name="mlops-prod-airflow-1a2b", database_version="POSTGRES_16", opts=on_gcp)
gcp.sql.Database("sql-database", name="airflow", instance="mlops-prod-airflow-1a2b", opts=on_gcp)
gcp.sql.User("sql-user", name="airflow", instance="mlops-prod-airflow-1a2b", password="p", opts=on_gcp)
