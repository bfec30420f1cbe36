"""The metric names the rules and the dashboard use, in one place.

The server's are what images/serve/app.py exports (a test reads a running server's
/metrics for each); the others are kube-state-metrics', which runs in kube-prometheus-stack
on a kubeconfig cluster and as GKE's managed kube state metrics package on GKE.
"""

from __future__ import annotations

# The model server's (images/serve/app.py); every series carries `model`, the project's name.
REQUESTS = "inference_requests_total"
"""Infer requests, by `code` (the HTTP status)."""
LATENCY = "inference_request_duration_seconds"
"""A histogram: `_bucket`, `_sum` and `_count` series."""
MODEL_INFO = "mlops_model_info"
"""1 for the version a server answers with, labelled `version`."""
MODEL_LOADED = "mlops_model_loaded_timestamp_seconds"
"""When the served version was loaded, Unix seconds."""
MODEL_TRAINED = "mlops_model_trained_timestamp_seconds"
"""When the served version was trained (its metadata.json's created_at), Unix seconds."""

MODEL_LOAD_FAILURES = "mlops_model_load_failures_total"
"""Promoted versions the server refused to swap in (sha256, library versions, metadata); it kept the old one."""

SERVER_METRICS = (REQUESTS, LATENCY + "_bucket", MODEL_INFO, MODEL_LOADED, MODEL_TRAINED, MODEL_LOAD_FAILURES)

# kube-state-metrics'.
DEPLOYMENT_AVAILABLE = "kube_deployment_status_replicas_available"
HPA_CURRENT = "kube_horizontalpodautoscaler_status_current_replicas"
HPA_MAX = "kube_horizontalpodautoscaler_spec_max_replicas"
POD_PHASE = "kube_pod_status_phase"

KUBE_STATE_METRICS = (DEPLOYMENT_AVAILABLE, HPA_CURRENT, HPA_MAX, POD_PHASE)
