"""policy/rules/pods.py: each Kubernetes workload rule on compliant and non-compliant inputs."""

from __future__ import annotations

from tests.policy.support import CRONJOB, DEPLOYMENT, DIGEST, RuleCases, container_security, pod

WORKLOAD_KINDS = {
    "kubernetes:apps/v1:Deployment": lambda spec: {"spec": {"template": {"spec": spec}}},
    "kubernetes:apps/v1:StatefulSet": lambda spec: {"spec": {"template": {"spec": spec}}},
    "kubernetes:apps/v1:DaemonSet": lambda spec: {"spec": {"template": {"spec": spec}}},
    "kubernetes:batch/v1:Job": lambda spec: {"spec": {"template": {"spec": spec}}},
    "kubernetes:batch/v1:CronJob": lambda spec: {"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}},
    "kubernetes:core/v1:Pod": lambda spec: {"spec": spec},
}
ROOT_POD = pod(pod_security={"runAsNonRoot": False})["spec"]["template"]["spec"]
HOST_PID_POD = pod(hostPID=True)["spec"]["template"]["spec"]

class TestPodRules(RuleCases):
    """Each Kubernetes workload rule on the inputs it accepts and refuses, on each of its types, in each environment."""

    ACCEPTED = {
        "non-root": ("k8s-run-as-non-root", DEPLOYMENT, pod()),
        "no-escalation": ("k8s-no-privilege-escalation", DEPLOYMENT, pod()),
        "read-only-root": ("k8s-read-only-root-filesystem", DEPLOYMENT, pod()),
        "drops-all": ("k8s-drop-all-capabilities", DEPLOYMENT, pod()),
        "runtime-default-seccomp": ("k8s-seccomp-runtime-default", DEPLOYMENT, pod()),
        "limits": ("k8s-resource-limits", DEPLOYMENT, pod()),
        "digest": ("k8s-image-digest", DEPLOYMENT, pod()),
        "unprivileged": ("k8s-no-privileged-or-host", DEPLOYMENT, pod()),
        "cronjob-hardened": ("k8s-run-as-non-root", CRONJOB, {"spec": {"jobTemplate": pod()}}),
    }

    REJECTED = {
        "root-user": ("k8s-run-as-non-root", DEPLOYMENT, pod(pod_security={"runAsNonRoot": False})),
        "container-overrides-non-root": ("k8s-run-as-non-root", DEPLOYMENT, pod(container=container_security(runAsNonRoot=False))),
        "escalation-allowed": ("k8s-no-privilege-escalation", DEPLOYMENT, pod(container=container_security(allowPrivilegeEscalation=True))),
        "writable-root": ("k8s-read-only-root-filesystem", DEPLOYMENT, pod(container=container_security(readOnlyRootFilesystem=False))),
        "keeps-capabilities": ("k8s-drop-all-capabilities", DEPLOYMENT, pod(container=container_security(capabilities={"drop": ["NET_RAW"]}))),
        "unconfined-seccomp": ("k8s-seccomp-runtime-default", DEPLOYMENT, pod(pod_security={"seccompProfile": {"type": "Unconfined"}})),
        "no-memory-limit": ("k8s-resource-limits", DEPLOYMENT, pod(container={"resources": {"limits": {"cpu": "1"}}})),
        "tag-not-digest": ("k8s-image-digest", DEPLOYMENT, pod(container={"image": "registry/serve:latest"})),
        "host-network": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostNetwork=True)),
        "privileged-container": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(container=container_security(privileged=True))),
        "cronjob-root": ("k8s-run-as-non-root", CRONJOB, {"spec": {"jobTemplate": pod(pod_security={"runAsNonRoot": False})}}),
    }

    REJECTED_ON_EVERY_TYPE = {
        **{rule: {kind: wrap(ROOT_POD) for kind, wrap in WORKLOAD_KINDS.items()} for rule in ("k8s-run-as-non-root",)},
        "k8s-no-privilege-escalation": {k: w({"containers": [{"name": "c"}]}) for k, w in WORKLOAD_KINDS.items()},
        "k8s-read-only-root-filesystem": {k: w({"containers": [{"name": "c"}]}) for k, w in WORKLOAD_KINDS.items()},
        "k8s-drop-all-capabilities": {k: w({"containers": [{"name": "c"}]}) for k, w in WORKLOAD_KINDS.items()},
        "k8s-seccomp-runtime-default": {k: w({"containers": [{"name": "c"}]}) for k, w in WORKLOAD_KINDS.items()},
        "k8s-resource-limits": {k: w({"containers": [{"name": "c"}]}) for k, w in WORKLOAD_KINDS.items()},
        "k8s-image-digest": {k: w({"containers": [{"name": "c", "image": "serve:latest"}]}) for k, w in WORKLOAD_KINDS.items()},
        "k8s-no-privileged-or-host": {kind: wrap(HOST_PID_POD) for kind, wrap in WORKLOAD_KINDS.items()},
    }

    VALUE_CASES = {
        "host-namespace-hostNetwork": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostNetwork=True), False),
        "host-namespace-hostPID": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostPID=True), False),
        "host-namespace-hostIPC": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostIPC=True), False),
        "host-namespaces-false": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(hostNetwork=False, hostPID=False, hostIPC=False), True),
        "privileged-init-container": ("k8s-no-privileged-or-host", DEPLOYMENT, pod(initContainers=[{"name": "init", "securityContext": {"privileged": True}}]), False),
        **{f"seccomp-{p}": ("k8s-seccomp-runtime-default", DEPLOYMENT, pod(pod_security={"seccompProfile": {"type": p}}), True)
           for p in ("RuntimeDefault", "Localhost")},
        "seccomp-container-overrides-pod": ("k8s-seccomp-runtime-default", DEPLOYMENT, pod(pod_security={"seccompProfile": {"type": "Unconfined"}}, container=container_security(seccompProfile={"type": "RuntimeDefault"})), True),
        "non-root-from-container-only": ("k8s-run-as-non-root", DEPLOYMENT, pod(pod_security={"runAsNonRoot": None}, container=container_security(runAsNonRoot=True)), True),
        "non-root-as-string-is-not-true": ("k8s-run-as-non-root", DEPLOYMENT, pod(pod_security={"runAsNonRoot": "true"}), False),
        **{f"limit-{r}-missing": ("k8s-resource-limits", DEPLOYMENT, pod(container={"resources": {"limits": {k: "1" for k in ("cpu", "memory") if k != r}}}), False)
           for r in ("cpu", "memory")},
        "init-container-without-limits": ("k8s-resource-limits", DEPLOYMENT, pod(initContainers=[{"name": "init"}]), False),
        "drop-all-among-others": ("k8s-drop-all-capabilities", DEPLOYMENT, pod(container=container_security(capabilities={"drop": ["NET_RAW", "ALL"]})), True),
        "escalation-unset": ("k8s-no-privilege-escalation", DEPLOYMENT, pod(container={"securityContext": {"readOnlyRootFilesystem": True}}), False),
        "digest-too-short": ("k8s-image-digest", DEPLOYMENT, pod(container={"image": "serve@sha256:" + "a" * 63}), False),
        "digest-then-more": ("k8s-image-digest", DEPLOYMENT, pod(container={"image": DIGEST + "x"}), False),
    }
