"""The multi-line facts shown under a resource: policy statements, security group rules, documents.

One readable line per IAM or KMS policy statement and per security group rule; a type
without its own renderer (and no settings of its own) shows every JSON-document input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from offline.engine import Registration
from offline.plan_settings import SETTINGS
from offline.values import json_document, redact, show


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal(principal: Any) -> str:
    if principal == "*" or not isinstance(principal, dict):
        return show(principal)
    return " ".join(f"{kind}:{','.join(map(str, _as_list(who)))}" for kind, who in sorted(principal.items()))


def _condition(condition: Any) -> str:
    if not isinstance(condition, dict):
        return ""
    parts = [
        f"{operator} {key}={','.join(map(str, _as_list(value)))}"
        for operator, tests in sorted(condition.items())
        if isinstance(tests, dict)
        for key, value in sorted(tests.items())
    ]
    return " when " + " and ".join(parts) if parts else ""


def statement_lines(document: Any) -> list[str]:
    """One readable line per policy statement: Effect, Action, Resource, Principal, Condition."""
    if not isinstance(document, dict):
        return []
    lines = []
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict):
            continue
        actions = ", ".join(map(str, _as_list(statement.get("Action") or statement.get("NotAction"))))
        line = f"{statement.get('Effect', '?')} {actions}"
        if "NotAction" in statement:
            line = f"{statement.get('Effect', '?')} all but {actions}"
        if "Principal" in statement:
            line += f" by {_principal(statement['Principal'])}"
        if "Resource" in statement or "NotResource" in statement:
            resources = ", ".join(map(str, _as_list(statement.get("Resource") or statement.get("NotResource"))))
            line += f" on {resources}"
        line += _condition(statement.get("Condition"))
        if "Sid" in statement:
            line += f"  [{statement['Sid']}]"
        lines.append(line)
    return lines


def _rules(direction: str, rules: Any) -> list[str]:
    lines = []
    for rule in _as_list(rules):
        if not isinstance(rule, dict):
            continue
        ports = f"{rule.get('fromPort')}" if rule.get("fromPort") == rule.get("toPort") else f"{rule.get('fromPort')}-{rule.get('toPort')}"
        peers = [*_as_list(rule.get("cidrBlocks")), *_as_list(rule.get("ipv6CidrBlocks")),
                 *_as_list(rule.get("securityGroups")), *_as_list(rule.get("prefixListIds"))]
        if rule.get("self"):
            peers.append("self")
        where = "from" if direction == "ingress" else "to"
        line = f"{direction} {rule.get('protocol')}/{ports} {where} {', '.join(map(str, peers)) or '(nobody)'}"
        if rule.get("description"):
            line += f"  ({rule['description']})"
        lines.append(line)
    return lines or [f"{direction}: none"]


# Multi-line details, one fact per line, shown under the resource.
Details = Callable[[dict[str, Any]], list[str]]


def _document_details(*keys: str) -> Details:
    def details(inputs: dict[str, Any]) -> list[str]:
        lines = []
        for key in keys:
            document = json_document(inputs.get(key))
            for line in statement_lines(document):
                lines.append(f"{key}: {line}" if len(keys) > 1 else line)
        return lines

    return details


def _alert_query(inputs: dict[str, Any]) -> list[str]:
    return [f"query: {condition['conditionPrometheusQueryLanguage'].get('query')}" for condition in inputs.get("conditions") or []
            if isinstance(condition, dict) and isinstance(condition.get("conditionPrometheusQueryLanguage"), dict)]


def _dashboard_groups(inputs: dict[str, Any]) -> list[str]:
    """One line per group of a Cloud Monitoring dashboard: its title and its charts' titles."""
    document = json_document(inputs.get("dashboardJson"))
    tiles = _as_list((document or {}).get("mosaicLayout", {}).get("tiles")) if isinstance(document, dict) else []
    groups: list[tuple[str, list[str]]] = []
    for tile in tiles:
        widget = (tile.get("widget") or {}) if isinstance(tile, dict) else {}
        if "collapsibleGroup" in widget:
            groups.append((str(widget.get("title")), []))
        elif groups:
            groups[-1][1].append(str(widget.get("title")))
    return [f"group {title}: {', '.join(charts)}" for title, charts in groups]


def _alert_rules(inputs: dict[str, Any]) -> list[str]:
    """One line per alert rule: its name, severity, how long it must hold, and its PromQL."""
    groups = (inputs.get("spec") or {}).get("groups") or []
    return [
        f"{rule.get('alert')} ({(rule.get('labels') or {}).get('severity')}, for {rule.get('for')}): {rule.get('expr')}"
        for group in groups
        for rule in group.get("rules") or []
    ]


DETAILS: dict[str, Details] = {
    "gcp:monitoring/alertPolicy:AlertPolicy": _alert_query,
    "gcp:monitoring/dashboard:Dashboard": _dashboard_groups,
    "kubernetes:monitoring.coreos.com/v1:PrometheusRule": _alert_rules,
    "aws:iam/role:Role": _document_details("assumeRolePolicy"),
    "aws:iam/rolePolicy:RolePolicy": _document_details("policy"),
    "aws:iam/userPolicy:UserPolicy": _document_details("policy"),
    "aws:s3/bucketPolicy:BucketPolicy": _document_details("policy"),
    "aws:kms/key:Key": _document_details("policy"),
    "aws:ec2/securityGroup:SecurityGroup": lambda i: _rules("ingress", i.get("ingress")) + _rules("egress", i.get("egress")),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": lambda i: _rules("ingress", i.get("ingress")) + _rules("egress", i.get("egress")),
}


def _generic_details(inputs: dict[str, Any]) -> list[str]:
    """For a type without its own renderer: every JSON-document input, and every policy in it."""
    lines = []
    for key, value in sorted(inputs.items()):
        document = json_document(value)
        if document is None:
            continue
        statements = statement_lines(document)
        if statements:
            lines += [f"{key}: {line}" for line in statements]
        else:
            lines.append(f"{key}: {show(document)}")
    return lines


def details(resource: Registration) -> list[str]:
    """The resource's multi-line facts: policy statements, rules, training settings."""
    inputs = redact(resource.inputs)
    renderer = DETAILS.get(resource.type) or (None if resource.type in SETTINGS else _generic_details)
    return renderer(inputs) if renderer else []
