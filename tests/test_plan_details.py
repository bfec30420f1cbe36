"""offline/plan_details.py: one readable line per policy statement and per security group rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline.plan_details import details, statement_lines
from tests.registrations import reg

STATEMENTS: dict[str, tuple[dict[str, Any], str]] = {
    "not-action": ({"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}, "Deny all but iam:*, sts:* on *"),
    "not-resource": ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": ["a", "b"]}, "Allow s3:GetObject on a, b"),
    "conditions-sorted": ({"Effect": "Allow", "Action": "kms:Decrypt", "Condition": {"StringLike": {"b": ["x", "y"], "a": "z"}, "Bool": {"c": "true"}}},
                          "Allow kms:Decrypt when Bool c=true and StringLike a=z and StringLike b=x,y"),
    "principals-sorted": ({"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": "f", "AWS": ["1", "2"]}, "Sid": "S"},
                          "Allow sts:AssumeRoleWithWebIdentity by AWS:1,2 Federated:f  [S]"),
    "no-effect": ({"Action": "s3:*"}, "? s3:*"),
}


@pytest.mark.parametrize("case", STATEMENTS)
def test_a_policy_statement_is_one_readable_line(case: str) -> None:
    statement, line = STATEMENTS[case]
    assert statement_lines({"Statement": [statement, "not a statement"]}) == [line]


def test_security_group_rules_name_ports_peers_and_nobody() -> None:
    group = reg("aws:ec2/securityGroup:SecurityGroup", "sg", ingress=[
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/8"], "ipv6CidrBlocks": ["::/0"],
         "securityGroups": ["sg-1"], "prefixListIds": ["pl-1"], "self": True, "description": "https"},
        {"protocol": "udp", "fromPort": 1000, "toPort": 2000},
    ])
    assert details(group) == ["ingress tcp/443 from 10.0.0.0/8, ::/0, sg-1, pl-1, self  (https)",
                              "ingress udp/1000-2000 from (nobody)", "egress: none"]


def test_a_default_security_group_shows_its_rules_too() -> None:
    assert details(reg("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d")) == ["ingress: none", "egress: none"]


def test_an_alert_policy_shows_its_query() -> None:
    condition = {"displayName": "Down", "conditionPrometheusQueryLanguage": {"query": "up < 1", "duration": "300s"}}
    assert details(reg("gcp:monitoring/alertPolicy:AlertPolicy", "a", conditions=[condition])) == ["query: up < 1"]


def test_a_cloud_monitoring_dashboard_shows_each_group_and_its_charts() -> None:
    tiles = [
        {"widget": {"title": "iris", "collapsibleGroup": {}}},
        {"widget": {"title": "Request rate", "xyChart": {}}},
        {"widget": {"title": "Errors", "xyChart": {}}},
        {"widget": {"title": "digits", "collapsibleGroup": {}}},
        {"widget": {"title": "Request rate", "xyChart": {}}},
    ]
    dashboard = reg("gcp:monitoring/dashboard:Dashboard", "d", dashboardJson=json.dumps({"mosaicLayout": {"tiles": tiles}}))
    assert details(dashboard) == ["group iris: Request rate, Errors", "group digits: Request rate"]


def test_each_alert_rule_is_one_line_with_its_severity_duration_and_promql() -> None:
    rules = reg("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "r", spec={"groups": [{"name": "g", "rules": [
        {"alert": "Down", "expr": "up < 1", "for": "5m", "labels": {"severity": "critical"}},
        {"alert": "Slow", "expr": "p99 > 0.5", "for": "10m", "labels": {"severity": "warning"}},
    ]}]})
    assert details(rules) == ["Down (critical, for 5m): up < 1", "Slow (warning, for 10m): p99 > 0.5"]
