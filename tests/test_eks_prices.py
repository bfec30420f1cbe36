"""What an EKS stack bills while idle: the control plane, Auto Mode's nodes under the workloads, the
NLB, the RDS database and the control plane's logs (offline/managed_prices.py, offline/auto_mode_cost.py)."""

from __future__ import annotations

from typing import Any

import pytest

from offline.auto_mode_cost import NodeType, PodShape, cheapest_nodes, minimum_replicas, node_types, reserved_millicores, runs_auto_mode
from offline.cost_by_project import OneMoreProject, ProjectCost
from offline.cost_text import one_more_line
from offline.engine import Recording, Registration
from offline.managed_prices import AutoMode
from offline.prices import price, price_table
from offline.stack_cost import stack_cost
from tests.registrations import reg

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SPREAD = [
    {"topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway", "maxSkew": 1},
    {"topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule", "maxSkew": 1},
]
C6A_LARGE_MONTH = 68.9464
"""(0.0765 + 0.00918) x 730 h + 80 GB gp3 x $0.08: one c6a.large node of Auto Mode a month."""


def server(*, cpu: str = "1", memory: str = "1Gi", gpus: int = 0, spread: bool = True, replicas: int | None = None,
           project: str = "iris") -> dict[str, Any]:
    limits: dict[str, Any] = {"cpu": cpu, "memory": memory, **({"nvidia.com/gpu": gpus} if gpus else {})}
    pod: dict[str, Any] = {"containers": [{"name": "server", "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": limits}}]}
    if spread:
        pod["topologySpreadConstraints"] = SPREAD
    spec: dict[str, Any] = {"template": {"spec": pod}, **({"replicas": replicas} if replicas is not None else {})}
    return {"metadata": {"name": f"{project}-server", "namespace": "mlops-prod-aws", "labels": {"mlops/project": project}}, "spec": spec}


def priced(resource: Registration, auto_mode: AutoMode | None = None) -> tuple[str, float | None, str]:
    cost = price(resource, auto_mode=auto_mode)
    return cost.kind, cost.monthly, cost.note


def test_the_control_plane_bills_every_hour_with_no_free_tier() -> None:
    kind, monthly, note = priced(reg("aws:eks/cluster:Cluster"))
    assert (kind, monthly) == ("hourly", 73.0)
    assert note.startswith("$0.1/h x 730 h; EKS control plane in standard support; no free tier")


def test_a_node_is_what_its_pods_may_use_after_the_reservations() -> None:
    # kube-reserved CPU: 60m + 10m for two cores, +5m each for the next two, +2.5m each above four.
    assert [reserved_millicores(n) for n in (1, 2, 4, 8, 16)] == [60, 70, 80, 90, 110]
    large = next(t for t in node_types() if t.name == "c6a.large")
    # 4096 MiB less 7.5% VM overhead, 11 x 29 + 255 MiB kube-reserved, 100 MiB eviction threshold.
    assert (large.millicores, large.mebibytes, large.hourly) == (1930, 3114, pytest.approx(0.08568))


def test_the_management_fee_is_twelve_percent_of_on_demand() -> None:
    eks = price_table()["eks"]
    assert eks["management_fee_share"] == 0.12
    for name, entry in eks["node_types"].items():
        assert entry["management_fee"] == pytest.approx(0.12 * entry["on_demand"], abs=1e-6), name


def test_prod_serving_pods_get_a_c6a_large_each() -> None:
    # Two replicas spread across nodes (DoNotSchedule on the hostname) keep two nodes, whatever fits on one.
    replicas = AutoMode({("mlops-prod-aws", "iris-server"): 2})
    kind, monthly, note = priced(reg(DEPLOYMENT, **server()), replicas)
    assert (kind, monthly) == ("auto-mode-nodes", round(2 * C6A_LARGE_MONTH, 2))
    assert note == ("2 pod(s) of 1000m CPU, 1024Mi, one per node: 2 x c6a.large at $0.0765/h + Auto Mode $0.00918/h "
                    "x 730 h + 80 GB gp3 x $0.08/GB-month each")


def test_pods_without_a_spread_are_packed_onto_the_fewest_nodes() -> None:
    small = reg(DEPLOYMENT, **server(cpu="500m", memory="512Mi", spread=False))
    assert priced(small, AutoMode({("mlops-prod-aws", "iris-server"): 3}))[:2] == ("auto-mode-nodes", round(C6A_LARGE_MONTH, 2))
    # A fourth does not fit the c6a.large's 1930m: a c6a.xlarge costs what two of them do an hour, and is one node (one volume).
    kind, monthly, note = priced(small, AutoMode({("mlops-prod-aws", "iris-server"): 4}))
    assert (monthly, note.split(": ")[1].split(" at ")[0]) == (round((0.153 + 0.01836) * 730 + 6.4, 2), "1 x c6a.xlarge")


def test_memory_decides_the_type_where_it_is_the_larger_ask() -> None:
    kind, _, note = priced(reg(DEPLOYMENT, **server(cpu="1", memory="6Gi", spread=False)), AutoMode())
    assert "1 x m6a.large" in note and kind == "auto-mode-nodes"


def test_without_an_autoscaler_the_replicas_are_the_deployments_own() -> None:
    assert "3 pod(s)" in priced(reg(DEPLOYMENT, **server(replicas=3)), AutoMode())[2]
    assert "1 pod(s)" in priced(reg(DEPLOYMENT, **server()), AutoMode())[2]
    assert priced(reg(DEPLOYMENT, **server(replicas=0)), AutoMode())[:2] == ("usage", 0.0)


def test_a_gpu_server_gets_the_cheapest_gpu_node() -> None:
    kind, monthly, note = priced(reg(DEPLOYMENT, **server(cpu="2", memory="8Gi", gpus=1)), AutoMode())
    assert (kind, monthly) == ("auto-mode-nodes", round((0.526 + 0.06312) * 730 + 6.4, 2))
    assert "1 x g4dn.xlarge" in note


def test_a_pod_no_known_type_holds_is_unpriced_not_free() -> None:
    kind, monthly, note = priced(reg(DEPLOYMENT, **server(cpu="64", memory="1Gi")), AutoMode())
    assert (kind, monthly) == ("unpriced", None)
    assert note == "UNPRICED: no node type in offline/data/prices.json (eks.node_types) holds a pod of 64000m CPU, 1024Mi"


def test_off_auto_mode_a_deployment_bills_nothing_of_its_own() -> None:
    # A kubeconfig cluster is yours; on GKE the node pool holds the nodes.
    assert priced(reg(DEPLOYMENT, **server()))[:2] == ("free", 0.0)


def test_cheapest_nodes_trade_count_against_rate() -> None:
    big = NodeType("big", vcpu=8, memory_gib=32, max_pods=58, gpus=0, on_demand=0.1, management_fee=0.0)
    small = NodeType("small", vcpu=2, memory_gib=4, max_pods=29, gpus=0, on_demand=0.06, management_fee=0.0)
    pod = PodShape(millicores=900, mebibytes=512, gpus=0)
    # Six pods: three smalls ($0.18/h) or one big ($0.10/h); spread, six of the cheaper small.
    packed = cheapest_nodes(pod, 6, one_per_node=False, types=[big, small])
    spread = cheapest_nodes(pod, 6, one_per_node=True, types=[big, small])
    assert packed is not None and spread is not None
    assert ((packed.type.name, packed.count), (spread.type.name, spread.count)) == (("big", 1), ("small", 6))


def test_auto_mode_and_autoscaler_minimums_are_read_from_the_stack() -> None:
    cluster = reg("aws:eks/cluster:Cluster", computeConfig={"enabled": True})
    hpa = reg("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "hpa",
              metadata={"namespace": "mlops-prod-aws"}, spec={"scaleTargetRef": {"kind": "Deployment", "name": "iris-server"}, "minReplicas": 2})
    assert (runs_auto_mode([cluster]), runs_auto_mode([reg("aws:eks/cluster:Cluster", computeConfig={"enabled": False})])) == (True, False)
    assert minimum_replicas([hpa]) == {("mlops-prod-aws", "iris-server"): 2}


def test_an_nlb_service_bills_its_hours_and_a_gke_one_its_forwarding_rule() -> None:
    nlb = reg("kubernetes:core/v1:Service", spec={"type": "LoadBalancer", "loadBalancerClass": "eks.amazonaws.com/nlb"})
    assert priced(nlb) == ("hourly", 16.43, "LoadBalancer: one NLB $0.0225/h x 730 h + 0 LCU while idle x $0.006/LCU-h")
    gke = reg("kubernetes:core/v1:Service", spec={"type": "LoadBalancer"})
    assert priced(gke)[:2] == ("hourly", 18.25)


RDS_CASES: dict[str, tuple[dict[str, Any], tuple[str, float | None, str]]] = {
    "micro-gp3": ({"instanceClass": "db.t4g.micro", "allocatedStorage": 20, "storageType": "gp3"},
                  ("rds-instance", 13.98, "db.t4g.micro $0.016/h x 730 h + 20 GB gp3 x $0.115/GB-month")),
    "small-multi-az": ({"instanceClass": "db.t4g.small", "allocatedStorage": 50, "storageType": "gp3", "multiAz": True},
                       ("rds-instance", 58.22, "db.t4g.small $0.032/h x 730 h + 50 GB gp3 x $0.115/GB-month x 2 (Multi-AZ)")),
    "unknown-class": ({"instanceClass": "db.x2iedn.32xlarge", "allocatedStorage": 20, "storageType": "gp3"},
                      ("unpriced", None, "UNPRICED: RDS instance class db.x2iedn.32xlarge is not in offline/data/prices.json")),
    "unknown-storage": ({"instanceClass": "db.t4g.micro", "allocatedStorage": 20, "storageType": "io2"},
                        ("unpriced", None, "UNPRICED: RDS storage type io2 is not in offline/data/prices.json")),
}


@pytest.mark.parametrize("case", RDS_CASES)
def test_an_rds_database_bills_its_class_and_its_storage(case: str) -> None:
    inputs, expected = RDS_CASES[case]
    assert priced(reg("aws:rds/instance:Instance", **inputs)) == expected


def test_the_control_plane_log_group_bills_its_idle_logs_and_a_batch_one_nothing() -> None:
    eks = reg("aws:cloudwatch/logGroup:LogGroup", name="/aws/eks/mlops-prod-aws/cluster", retentionInDays=90)
    assert priced(eks) == ("estimate", 1.18, "EKS control plane logs, an estimate of 2 GB/month while idle x $0.5/GB ingested "
                                             "+ 6 GB kept x $0.03/GB-month")
    assert priced(reg("aws:cloudwatch/logGroup:LogGroup", name="/aws/eks/mlops-dev/cluster"))[1] == round(2 * 0.5 + 24 * 0.03, 2)
    assert priced(reg("aws:cloudwatch/logGroup:LogGroup", name="/aws/batch/mlops-prod-aws"))[:2] == ("usage", 0.0)


@pytest.mark.parametrize("type_", ["aws:eks/accessEntry:AccessEntry", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
                                   "aws:eks/podIdentityAssociation:PodIdentityAssociation", "aws:rds/subnetGroup:SubnetGroup",
                                   "aws:rds/parameterGroup:ParameterGroup"])
def test_the_eks_and_rds_plumbing_is_free(type_: str) -> None:
    assert priced(reg(type_))[:2] == ("free", 0.0)


def test_the_gpu_node_pool_bills_only_while_gpu_pods_run() -> None:
    assert priced(reg("kubernetes:karpenter.sh/v1:NodePool"))[:2] == ("usage", 0.0)


def test_a_served_project_holds_its_nodes_and_nlb_and_the_control_plane_is_shared() -> None:
    resources = [
        reg("aws:eks/cluster:Cluster", "eks", computeConfig={"enabled": True}),
        reg(DEPLOYMENT, "serving-iris-deployment", **server()),
        reg("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "serving-iris-hpa",
            metadata={"namespace": "mlops-prod-aws", "name": "iris-server", "labels": {"mlops/project": "iris"}},
            spec={"scaleTargetRef": {"kind": "Deployment", "name": "iris-server"}, "minReplicas": 2}),
        reg("kubernetes:core/v1:Service", "serving-iris-service", metadata={"labels": {"mlops/project": "iris"}},
            spec={"type": "LoadBalancer", "loadBalancerClass": "eks.amazonaws.com/nlb"}),
    ]
    cost = stack_cost("prod-aws", resources)
    [iris] = cost.projects
    assert (cost.idle_monthly, iris.idle_monthly, cost.shared) == (
        round(73.0 + round(2 * C6A_LARGE_MONTH, 2) + 16.43, 2), round(round(2 * C6A_LARGE_MONTH, 2) + 16.43, 2), [("eks", 73.0)])


def test_one_more_project_on_auto_mode_is_not_said_to_serve_on_a_cluster_of_your_own() -> None:
    nodes = price(reg(DEPLOYMENT, "serving-copy-deployment", **server(project="copy")), auto_mode=AutoMode())
    share = ProjectCost("copy", [nodes], None, [])
    line = one_more_line(OneMoreProject("iris", {"cpu": 1, "memory": "1Gi", "minReplicas": 2}, share.idle_monthly, share))
    assert line == "  one more served project like iris (cpu 1, memory 1Gi, minReplicas 2) adds $68.95/month while idle"


def test_prod_aws_idle_cost_is_the_readmes_resource_by_resource(prod_aws: Recording) -> None:
    # README "Prod on AWS (EKS)", its idle cost: `make cost STACK=prod-aws`.
    cost = stack_cost("prod-aws", prod_aws.resources)
    assert [r.name for r in cost.resources if r.kind == "unpriced"] == []
    assert {r.name: r.monthly for r in cost.resources if r.monthly} == {
        "eks": 73.0, "serving-iris-deployment": 137.89, "serving-iris-service": 16.43, "airflow-release": 68.95,
        "airflow-database": 13.98, "network-nat": 32.85, "network-nat-eip": 3.65, "eks-logs": 1.18, "data-key": 1.0,
        "data-backup-key": 1.0, "notifications-key": 1.0, "registry-key": 1.0, "eks-secrets-key": 1.0, "airflow-database-key": 1.0,
    }
    assert cost.idle_monthly == 353.93


def test_prod_aws_idles_within_ten_percent_of_gke_prod_both_with_airflow(prod_aws: Recording, prod: Recording) -> None:
    # Like with like: each with its Airflow (GKE: a CPU node and Cloud SQL; EKS: an Auto Mode node and RDS).
    aws_cost, gke_cost = stack_cost("prod-aws", prod_aws.resources), stack_cost("prod", prod.resources)
    assert aws_cost.pipeline is not None and gke_cost.pipeline is not None
    assert (aws_cost.pipeline.idle_monthly, gke_cost.pipeline.idle_monthly) == (83.93, 105.95)
    assert (aws_cost.idle_monthly, gke_cost.idle_monthly) == (353.93, 325.72)
    assert abs(aws_cost.idle_monthly - gke_cost.idle_monthly) <= 0.10 * gke_cost.idle_monthly
