"""offline/prices.py: the dated price table, and what each kind of resource bills while idle."""

from __future__ import annotations

import pytest

from offline.engine import Registration
from offline.prices import gcp_machine_hourly, instance_hourly, price, price_table
from tests.registrations import reg


def test_price_table_is_dated_and_sourced() -> None:
    table = price_table()
    assert table["as_of"] and table["hours_per_month"] == 730
    assert all(url.startswith(("https://aws.amazon.com/", "https://cloud.google.com/")) for url in table["sources"])


def test_egress_prices_come_from_the_dated_table() -> None:
    table = price_table()["cross_cloud_egress"]
    assert (table["aws_internet_out_per_gb"], table["gcp_nat_processing_per_gib"]) == (0.09, 0.045)
    assert table["as_of"] == "2026-12-01" and len(table["sources"]) == 3


# --- each price kind, on hand-made resources ---------------------------------------------------

def priced(resource: Registration, idle_nodes: int = 0) -> tuple[str, float | None, str]:
    cost = price(resource, idle_nodes=idle_nodes)
    return cost.kind, cost.monthly, cost.note


def test_a_month_is_730_hours_and_spot_is_35_percent_of_on_demand() -> None:
    table = price_table()
    assert (table["hours_per_month"], table["instances"]["spot_factor"], table["gcp"]["spot_factor"]) == (730, 0.35, 0.35)


SQL = "gcp:sql/databaseInstance:DatabaseInstance"

PRICE_CASES: dict[str, tuple[Registration, int, tuple[str, float | None, str]]] = {
    "nat-gateway-hourly": (reg("aws:ec2/natGateway:NatGateway"), 0,
                           ("hourly", 32.85, "$0.045/h x 730 h; " + price_table()["types"]["aws:ec2/natGateway:NatGateway"]["note"])),
    "kms-key-monthly": (reg("aws:kms/key:Key"), 0, ("monthly", 1.0, price_table()["types"]["aws:kms/key:Key"]["note"])),
    "gateway-endpoint-free": (reg("aws:ec2/vpcEndpoint:VpcEndpoint"), 0, ("free", 0.0, "Gateway endpoint: free")),
    "interface-endpoint-per-zone": (reg("aws:ec2/vpcEndpoint:VpcEndpoint", vpcEndpointType="Interface", subnetIds=["a", "b"]), 0,
                                    ("hourly", 14.6, "Interface endpoint: $0.01/h x 2 zone(s)")),
    "interface-endpoint-at-least-one-zone": (reg("aws:ec2/vpcEndpoint:VpcEndpoint", vpcEndpointType="Interface"), 0,
                                             ("hourly", 7.3, "Interface endpoint: $0.01/h x 1 zone(s)")),
    "instance-on-demand-default-root": (reg("aws:ec2/instance:Instance", instanceType="g4dn.xlarge"), 0,
                                        ("instance", 384.62, "g4dn.xlarge on-demand $0.526/h x 730 h + 8 GB gp3 x $0.08/GB-month")),
    "instance-spot-gp2-root": (reg("aws:ec2/instance:Instance", instanceType="g4dn.xlarge",
                                   instanceMarketOptions={"marketType": "spot"}, rootBlockDevice={"volumeSize": 100, "volumeType": "gp2"}), 0,
                               ("instance", 144.39, "g4dn.xlarge spot estimate $0.1841/h x 730 h + 100 GB gp2 x $0.1/GB-month")),
    "instance-unknown-type": (reg("aws:ec2/instance:Instance", instanceType="x9.huge"), 0,
                              ("unpriced", None, "UNPRICED: instance type x9.huge is not in offline/data/prices.json")),
    "instance-unknown-volume": (reg("aws:ec2/instance:Instance", instanceType="g4dn.xlarge", rootBlockDevice={"volumeType": "io2"}), 0,
                                ("unpriced", None, "UNPRICED: EBS volume type io2 is not in offline/data/prices.json")),
    "pool-at-zero": (reg("gcp:container/nodePool:NodePool", nodeConfig={"machineType": "e2-standard-4"}), 0,
                     ("usage", 0.0, "e2-standard-4: 0 nodes while idle; nodes bill only while pods need them")),
    "pool-with-minimum": (reg("gcp:container/nodePool:NodePool", nodeConfig={"machineType": "e2-standard-4"},
                              autoscaling={"totalMinNodeCount": 2}), 0,
                          ("node-pool", 215.66, "2 x e2-standard-4 at $0.134012/h x 730 h + 100 GB disk x $0.1/GB-month each")),
    "pool-per-zone-minimum-spot-disk": (reg("gcp:container/nodePool:NodePool", nodeConfig={"machineType": "e2-standard-4", "spot": True, "diskSizeGb": 50},
                                            autoscaling={"minNodeCount": 1}), 0,
                                        ("node-pool", 39.24, "1 x e2-standard-4 at $0.0469/h x 730 h + 50 GB disk x $0.1/GB-month each")),
    "pool-unknown-machine": (reg("gcp:container/nodePool:NodePool", nodeConfig={"machineType": "z9"}, autoscaling={"totalMinNodeCount": 1}), 0,
                             ("unpriced", None, "UNPRICED: machine type z9 is not in offline/data/prices.json")),
    "nat-with-idle-nodes": (reg("gcp:compute/routerNat:RouterNat"), 3,
                            ("cloud-nat", 6.72, "gateway IP $0.005/h + 3 idle node(s) x $0.0014/VM-h")),
    "cluster-ip-service": (reg("kubernetes:core/v1:Service", spec={"type": "ClusterIP"}), 0, ("free", 0.0, "ClusterIP: no cloud resource")),
    "load-balancer-service": (reg("kubernetes:core/v1:Service", spec={"type": "LoadBalancer"}), 0,
                              ("hourly", 18.25, "LoadBalancer: one forwarding rule $0.025/h x 730 h")),
    # 0.0413 + 3.75 x 0.007 = $0.06755/h x 730 h = $49.31, + 10 GB x $0.17 = $51.01.
    "cloud-sql-custom-tier": (reg(SQL, settings={"tier": "db-custom-1-3840", "diskSize": 10, "availabilityType": "ZONAL"}), 0,
                              ("cloud-sql", 51.01, "db-custom-1-3840: 1 vCPU x $0.0413/h + 3.75 GB x $0.007/h x 730 h"
                               " + 10 GB SSD x $0.17/GB-month; backups $0.08/GB-month (usage)")),
    # 2 x (2 x 0.0413 + 7.5 x 0.007 = $0.1351/h x 730 h = $98.623, + 20 GB x $0.17 = $3.40) = $204.05.
    "cloud-sql-regional-doubles": (reg(SQL, settings={"tier": "db-custom-2-7680", "diskSize": 20, "availabilityType": "REGIONAL"}), 0,
                                   ("cloud-sql", 204.05, "db-custom-2-7680: 2 vCPU x $0.0413/h + 7.5 GB x $0.007/h x 730 h"
                                    " + 20 GB SSD x $0.17/GB-month, x 2 (REGIONAL: a standby); backups $0.08/GB-month (usage)")),
    # $0.0105/h x 730 h = $7.665, + 10 GB x $0.17 = $9.37.
    "cloud-sql-shared-core": (reg(SQL, settings={"tier": "db-f1-micro", "diskSize": 10}), 0,
                              ("cloud-sql", 9.37, "db-f1-micro: shared core $0.0105/h x 730 h + 10 GB SSD x $0.17/GB-month;"
                               " backups $0.08/GB-month (usage)")),
    "cloud-sql-unknown-tier": (reg(SQL, settings={"tier": "db-perf-optimized-N-2"}), 0,
                               ("unpriced", None, "UNPRICED: Cloud SQL tier db-perf-optimized-N-2 is not in offline/data/prices.json")),
    "usage": (reg("aws:s3/bucket:Bucket"), 0, ("usage", 0.0, price_table()["types"]["aws:s3/bucket:Bucket"].get("note") or "usage")),
    "free": (reg("aws:s3/bucketVersioning:BucketVersioning"), 0,
             ("free", 0.0, price_table()["types"]["aws:s3/bucketVersioning:BucketVersioning"].get("note") or "free")),
    "unknown-type": (reg("aws:lambda/function:Function"), 0, ("unpriced", None, "UNPRICED: this type is not in offline/data/prices.json")),
}


@pytest.mark.parametrize("case", PRICE_CASES)
def test_each_price_kind_bills_its_hours_units_and_volumes(case: str) -> None:
    resource, idle_nodes, expected = PRICE_CASES[case]
    assert priced(resource, idle_nodes) == expected


def test_spot_prices_round_to_four_digits() -> None:
    # 0.526 x 0.35 = 0.1841 exactly; 0.134012 x 0.35 = 0.0469042 -> 0.0469.
    assert (instance_hourly("g4dn.xlarge", spot=True), gcp_machine_hourly("e2-standard-4", spot=True),
            instance_hourly("g4dn.xlarge", spot=False), gcp_machine_hourly("e2-standard-4", spot=False)) == (
        0.1841, 0.0469, 0.526, 0.134012)
