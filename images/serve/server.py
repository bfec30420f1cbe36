"""Start the model server: uvicorn with N worker processes, each serving app.create_app().

    MODEL_URI=file:///tmp/models/iris/LATEST MODEL_NAME=iris python server.py --port 8080
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import uvicorn


def default_workers() -> int:
    # CPUs this process may run on, which honours cpusets; a Kubernetes CPU limit is a
    # quota that this does not see, so set WEB_CONCURRENCY there.
    return int(os.environ.get("WEB_CONCURRENCY") or len(os.sched_getaffinity(0)))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="serve", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"), help="bind address (default 0.0.0.0, or HOST)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")), help="default 8080, or PORT")
    parser.add_argument("--workers", type=int, default=default_workers(), help="worker processes (default: CPUs, or WEB_CONCURRENCY)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1: {args.workers}")
    if not os.environ.get("MODEL_URI"):
        parser.error("MODEL_URI is not set (s3://bucket/models/<name>/LATEST or file:///...)")
    # Set but empty is a broken Secret, not "no authentication": refuse rather than serve openly.
    token = os.environ.get("MLOPS_AUTH_TOKEN")
    if token is not None and not token.strip():
        parser.error("MLOPS_AUTH_TOKEN is set but empty: give it the bearer token, or unset it to serve without one")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Workers are processes, so /metrics aggregates through files; prometheus-client reads
    # this variable when it is imported, which is why app.py is only imported by uvicorn.
    owned_metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        owned_metrics_dir = tempfile.mkdtemp(prefix="serve-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = owned_metrics_dir
    # This server's workers only: where the one that answers a load call tells the others.
    state_dir = tempfile.mkdtemp(prefix="serve-state-")
    os.environ["SERVE_STATE_DIR"] = state_dir
    # Workers re-import the app by name: make this folder importable from any cwd.
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        uvicorn.run(
            "app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=False,  # one log line per request would cost more than the prediction
            timeout_graceful_shutdown=30,
        )
    finally:
        if owned_metrics_dir is not None:
            shutil.rmtree(owned_metrics_dir, ignore_errors=True)
        shutil.rmtree(state_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
