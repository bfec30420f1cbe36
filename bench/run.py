"""Benchmark the model server against MLServer's scikit-learn runtime, side by side.

    make bench            (or: .venv/bin/python bench/run.py [--duration 10])

Trains iris with the real train.py, then for each server in turn (never both at once,
so they don't share the cores): starts it, times start to ready, checks that it gives
the same answers, and loads it with wrk over loopback: single-row requests at 16 and 64
connections, and 256-row batches, in JSON and (where the server has the extension) as
binary tensor data. Also measures the physical limit: in-process predict
calls/s and rows/s on the same machine. Prints a table, the ratios and the targets.
This is not a test: it prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.datasets import load_iris

REPO = Path(__file__).resolve().parents[1]
TRAIN = REPO / "images" / "train" / "train.py"
SERVER = REPO / "images" / "serve" / "server.py"
MLSERVER_VENV = REPO / ".venv-mlserver"
MLSERVER_REQUIREMENTS = REPO / "bench" / "requirements-mlserver.txt"
MODEL = "iris"
INFER_PATH = f"/v2/models/{MODEL}/infer"
READY_PATH = f"/v2/models/{MODEL}/ready"
BATCH_ROWS = 256
BINARY_HEADER = "Inference-Header-Content-Length"
READY_BOUND_SECONDS = 120.0

# The body is read from a file: binary tensor data would not survive a Lua string literal.
LUA_TEMPLATE = """
wrk.method = "POST"
wrk.path = "%(path)s"
%(headers)s
local body_file = io.open("%(body_file)s", "rb")
wrk.body = body_file:read("*a")
body_file:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"non_2xx\\": %%d, \\"socket_errors\\": %%d, "
    .. "\\"p50_us\\": %%d, \\"p99_us\\": %%d}\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    rows: int
    connections: int
    binary: bool = False  # binary tensor data in and out, instead of JSON


SCENARIOS = [
    Scenario("single row, 16 connections", 1, 16),
    Scenario("single row, 64 connections", 1, 64),
    Scenario(f"batch of {BATCH_ROWS} rows, 16 connections", BATCH_ROWS, 16),
    Scenario(f"binary batch of {BATCH_ROWS} rows, 16 connections", BATCH_ROWS, 16, binary=True),
]


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    rows_per_second: float
    p50_ms: float
    p99_ms: float
    failed: int


@dataclass
class ServerResult:
    name: str
    start_to_ready_s: float
    loads: dict[str, LoadResult]  # by scenario name; a scenario the server can't run is absent


# --- setup --------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    log("installing wrk from Debian (apt-get install -y wrk)")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or sys.exit("bench: wrk is still missing after apt-get install")


def ensure_mlserver() -> Path:
    """MLServer in a venv of its own: it pins other fastapi/starlette than the server's."""
    marker = MLSERVER_VENV / ".installed"
    if not marker.exists() or marker.read_text() != MLSERVER_REQUIREMENTS.read_text():
        log(f"creating {MLSERVER_VENV.name} from {MLSERVER_REQUIREMENTS.relative_to(REPO)}")
        subprocess.run([sys.executable, "-m", "venv", str(MLSERVER_VENV)], check=True)
        pip = [str(MLSERVER_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "-r", str(MLSERVER_REQUIREMENTS)], check=True)
        marker.write_text(MLSERVER_REQUIREMENTS.read_text())
    return MLSERVER_VENV / "bin" / "mlserver"


def train_model(output: Path) -> Path:
    subprocess.run(
        [sys.executable, str(TRAIN), "--data", f"builtin:{MODEL}", "--model", MODEL, "--output", output.as_uri()],
        check=True,
        stdout=sys.stderr,  # progress goes with the other progress lines; stdout is the report
    )
    version = (output / MODEL / "LATEST").read_text().strip()
    return output / MODEL / version / "model.joblib"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request_rows(rows: int) -> np.ndarray:
    features, _labels = load_iris(return_X_y=True)
    return np.resize(features, (rows, 4))


def infer_request(rows: int, binary: bool = False) -> tuple[bytes, dict[str, str]]:
    """The same v2 request for both servers, FP64: flat JSON data as the spec shows, or
    binary tensor data both ways, as tritonclient sends by default. Returns body and headers."""
    data = request_rows(rows)
    tensor: dict[str, Any] = {"name": "input-0", "shape": list(data.shape), "datatype": "FP64"}
    if not binary:
        tensor["data"] = data.ravel().tolist()
        return json.dumps({"inputs": [tensor]}).encode(), {"Content-Type": "application/json"}
    raw = data.astype("<f8").tobytes()
    tensor["parameters"] = {"binary_data_size": len(raw)}
    header = json.dumps({"inputs": [tensor], "parameters": {"binary_data_output": True}}).encode()
    return header + raw, {"Content-Type": "application/octet-stream", BINARY_HEADER: str(len(header))}


def predictions_in(headers: dict[str, str], body: bytes) -> np.ndarray:
    """The predict output of a v2 response, from JSON data or from binary tensor data."""
    json_length = int(headers.get(BINARY_HEADER.lower(), len(body)))
    output = json.loads(body[:json_length])["outputs"][0]
    if "data" in output:
        return np.asarray(output["data"])
    return np.frombuffer(body[json_length:], "<i8")  # iris predicts INT64 class ids


# --- the servers -------------------------------------------------------------------------


def http_request(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status (0 if there was no answer), headers with lower-case names, and body."""
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, {}, b""


@contextmanager
def running(command: list[str], env: dict[str, str], port: int, log_file: Path) -> Iterator[float]:
    """Start a server; yield seconds from process start until its model answers ready."""
    with log_file.open("wb") as sink:
        started = time.monotonic()
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = started + READY_BOUND_SECONDS
        while http_request(f"http://127.0.0.1:{port}{READY_PATH}")[0] != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"bench: {command[0]} did not become ready; see {log_file}:\n{log_file.read_text()[-3000:]}")
            time.sleep(0.01)
        yield time.monotonic() - started
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def our_server(model_file: Path, port: int, workers: int) -> tuple[list[str], dict[str, str]]:
    latest = f"{model_file.parents[1].as_uri()}/LATEST"
    env = {**os.environ, "MODEL_URI": latest, "MODEL_NAME": MODEL}
    command = [sys.executable, str(SERVER), "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return command, env


def mlserver(model_file: Path, port: int, workdir: Path, parallel_workers: int) -> tuple[list[str], dict[str, str]]:
    models = workdir / "mlserver"
    (models / MODEL).mkdir(parents=True, exist_ok=True)
    (models / "settings.json").write_text(
        json.dumps(
            {
                "host": "127.0.0.1",
                "http_port": port,
                "grpc_port": free_port(),
                "metrics_port": free_port(),
                "debug": False,
                "parallel_workers": parallel_workers,
            }
        )
    )
    (models / MODEL / "model-settings.json").write_text(
        json.dumps(
            {
                "name": MODEL,
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": str(model_file), "version": "v1"},
            }
        )
    )
    return [str(MLSERVER_VENV / "bin" / "mlserver"), "start", str(models)], dict(os.environ)


def check_answers(name: str, port: int, expected: np.ndarray, binary: bool) -> bool:
    """Both servers must give the model's own predictions before their speed means anything.

    False if a binary request is refused: the server lacks the binary tensor data extension.
    """
    status, headers, body = http_request(f"http://127.0.0.1:{port}{INFER_PATH}", *infer_request(BATCH_ROWS, binary))
    if status != 200 and binary:
        log(f"{name}: binary tensor data refused with {status}: {body[:200]!r}")
        return False
    if status != 200:
        sys.exit(f"bench: {name}: infer answered {status}: {body[:500]!r}")
    if predictions_in(headers, body).tolist() != expected.tolist():
        sys.exit(f"bench: {name} gave other predictions than the model ({'binary' if binary else 'JSON'} request)")
    return True


def run_wrk(wrk: str, port: int, scenario: Scenario, seconds: int, workdir: Path) -> LoadResult:
    stem = f"infer-{scenario.rows}-{'binary' if scenario.binary else 'json'}"
    body, headers = infer_request(scenario.rows, scenario.binary)
    (workdir / f"{stem}.body").write_bytes(body)
    script = workdir / f"{stem}.lua"
    header_lines = "\n".join(f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items())
    script.write_text(LUA_TEMPLATE % {"path": INFER_PATH, "headers": header_lines, "body_file": workdir / f"{stem}.body"})
    command = [wrk, "-t2", f"-c{scenario.connections}", f"-d{seconds}s", "-s", str(script), f"http://127.0.0.1:{port}"]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next((line for line in output.splitlines() if line.startswith("WRK_RESULT ")), None)
    if line is None:
        sys.exit(f"bench: wrk printed no result:\n{output}")
    result = json.loads(line.removeprefix("WRK_RESULT "))
    requests_per_second = result["requests"] / (result["duration_us"] / 1e6)
    return LoadResult(
        requests_per_second=requests_per_second,
        rows_per_second=requests_per_second * scenario.rows,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        failed=result["non_2xx"] + result["socket_errors"],
    )


def measure_server(
    name: str, launch: Callable[[int], tuple[list[str], dict[str, str]]], wrk: str, args: argparse.Namespace, workdir: Path, expected: np.ndarray
) -> ServerResult:
    """Load runs on one started server, then start-to-ready as the median of fresh starts."""
    log(f"starting {name}")
    port = free_port()
    with running(*launch(port), port, workdir / f"{name}.log"):
        check_answers(name, port, expected, binary=False)
        binary = check_answers(name, port, expected, binary=True)
        loads = {}
        for scenario in SCENARIOS:
            if scenario.binary and not binary:
                continue
            run_wrk(wrk, port, scenario, args.warmup, workdir)  # first connections, lazy imports, allocator
            loads[scenario.name] = run_wrk(wrk, port, scenario, args.duration, workdir)
            log(f"{name}: {scenario.name}: {loads[scenario.name].requests_per_second:,.0f} req/s")
    # The first start above also warmed the page cache and bytecode, as on a node that has run it before.
    starts = []
    for attempt in range(args.starts):
        port = free_port()
        with running(*launch(port), port, workdir / f"{name}-start-{attempt}.log") as start_to_ready:
            starts.append(start_to_ready)
    log(f"{name}: start to ready {', '.join(f'{s:.2f}' for s in starts)} s")
    return ServerResult(name=name, start_to_ready_s=statistics.median(starts), loads=loads)


# --- the physical limit ------------------------------------------------------------------


def _predict_rate(model_file: str, rows: int, seconds: float, fast_config: bool) -> tuple[int, float]:
    model = joblib.load(model_file)
    data = request_rows(rows)
    config = {"assume_finite": True, "skip_parameter_validation": True} if fast_config else {}
    with sklearn.config_context(**config):
        model.predict(data)
        calls, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            model.predict(data)
            calls += 1
    return calls, elapsed


def predict_limit(model_file: Path, rows: int, processes: int, seconds: float, fast_config: bool) -> float:
    """predict calls per second summed over `processes` processes running at once."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        results = pool.starmap(_predict_rate, [(str(model_file), rows, seconds, fast_config)] * processes)
    return sum(calls / elapsed for calls, elapsed in results)


# --- report ----------------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, Linux {platform.release()}, Python {platform.python_version()}"


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def report(ours: ServerResult, theirs: ServerResult, limits: dict[str, float], args: argparse.Namespace) -> None:
    single16, single64, batch, binary_batch = (s.name for s in SCENARIOS)
    print(f"\nMachine: {machine()}")
    print(f"Model: iris, StandardScaler+LogisticRegression, scikit-learn {sklearn.__version__}; wrk -t2, {args.duration:g}s per run after {args.warmup:g}s warm-up")
    print(f"Servers: ours with {args.workers} workers; MLServer 1.7.1 (mlserver-sklearn) with parallel_workers={args.mlserver_parallel_workers}, debug off\n")
    header = f"| {'scenario':<56} | {'ours':>22} | {'MLServer':>22} | {'ratio':>6} |"
    print(header)
    print("|" + "|".join("-" * (len(part) + 0) for part in header.split("|")[1:-1]) + "|")

    def row(label: str, ours_value: str, theirs_value: str, ratio: float | None) -> None:
        print(f"| {label:<56} | {ours_value:>22} | {theirs_value:>22} | {'' if ratio is None else f'{ratio:.2f}x':>6} |")

    def rate(result: LoadResult | None, rows: int) -> float | None:
        if result is None:
            return None
        return result.rows_per_second if rows > 1 else result.requests_per_second

    def cell(result: LoadResult | None, text: Callable[[LoadResult], str]) -> str:
        return "n/a" if result is None else text(result)

    for scenario in SCENARIOS:
        a, b = ours.loads.get(scenario.name), theirs.loads.get(scenario.name)
        unit = "rows/s" if scenario.rows > 1 else "req/s"
        a_rate, b_rate = rate(a, scenario.rows), rate(b, scenario.rows)
        ratio = a_rate / b_rate if a_rate is not None and b_rate is not None else None
        row(f"{scenario.name}: {unit}", "n/a" if a_rate is None else f"{a_rate:,.0f}", "n/a" if b_rate is None else f"{b_rate:,.0f}", ratio)
        row(f"{scenario.name}: p50 / p99 ms", cell(a, lambda r: f"{r.p50_ms:.2f} / {r.p99_ms:.2f}"), cell(b, lambda r: f"{r.p50_ms:.2f} / {r.p99_ms:.2f}"), None)
        if (a and a.failed) or (b and b.failed):
            row(f"{scenario.name}: failed requests", cell(a, lambda r: str(r.failed)), cell(b, lambda r: str(r.failed)), None)
    row(f"start to model ready, median of {args.starts}: s", f"{ours.start_to_ready_s:.2f}", f"{theirs.start_to_ready_s:.2f}", ours.start_to_ready_s / theirs.start_to_ready_s)

    if binary_batch in ours.loads:
        speedup = ours.loads[binary_batch].rows_per_second / ours.loads[batch].rows_per_second
        print(f"\nOurs, binary tensor data vs JSON at {BATCH_ROWS} rows: {speedup:.2f}x rows/s")
    if binary_batch not in theirs.loads:
        print("MLServer: n/a for binary tensor data (it refused the request: no binary tensor data extension)")

    print("\nPhysical limit, in-process predict on this machine (no HTTP, no JSON):")
    for label, value in limits.items():
        print(f"  {label:<60} {value:>12,.0f}")

    batch_limit = max(v for k, v in limits.items() if k.startswith(f"rows/s at {BATCH_ROWS} rows, {args.workers} proc"))
    a16, b16, a64, b64 = ours.loads[single16], theirs.loads[single16], ours.loads[single64], theirs.loads[single64]
    targets = [
        (f"single-row req/s >= 3x MLServer at 16 conns ({a16.requests_per_second / b16.requests_per_second:.2f}x)", a16.requests_per_second >= 3 * b16.requests_per_second),
        (f"single-row req/s >= 3x MLServer at 64 conns ({a64.requests_per_second / b64.requests_per_second:.2f}x)", a64.requests_per_second >= 3 * b64.requests_per_second),
        (f"lower p99 at 16 conns ({a16.p99_ms:.2f} vs {b16.p99_ms:.2f} ms)", a16.p99_ms < b16.p99_ms),
        (f"lower p99 at 64 conns ({a64.p99_ms:.2f} vs {b64.p99_ms:.2f} ms)", a64.p99_ms < b64.p99_ms),
        (
            f"batch rows/s >= 60% of in-process predict on all {args.workers} cores "
            f"({ours.loads[batch].rows_per_second / batch_limit:.0%} of {batch_limit:,.0f})",
            ours.loads[batch].rows_per_second >= 0.6 * batch_limit,
        ),
        (
            f"start to ready <= 1/3 of MLServer's ({ours.start_to_ready_s:.2f} vs {theirs.start_to_ready_s:.2f} s)",
            ours.start_to_ready_s <= theirs.start_to_ready_s / 3,
        ),
    ]
    print("\nTargets:")
    for label, met in targets:
        print(f"  [{verdict(met):^7}] {label}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before each measured run (default 2)")
    parser.add_argument("--predict-seconds", type=float, default=5.0, help="seconds per in-process predict measurement (default 5)")
    parser.add_argument("--starts", type=int, default=3, help="fresh starts timed per server; the median counts (default 3)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="our server's workers (default: CPUs)")
    parser.add_argument(
        "--mlserver-parallel-workers", type=int, default=1,
        help="MLServer's inference worker processes (default 1, its own default and its best here)",
    )  # fmt: skip
    args = parser.parse_args()

    wrk = ensure_wrk()
    ensure_mlserver()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        model_file = train_model(workdir / "models")
        expected = joblib.load(model_file).predict(request_rows(BATCH_ROWS))

        ours = measure_server("ours", lambda port: our_server(model_file, port, args.workers), wrk, args, workdir, expected)
        theirs = measure_server(
            "mlserver", lambda port: mlserver(model_file, port, workdir, args.mlserver_parallel_workers), wrk, args, workdir, expected
        )

        log("measuring in-process predict")
        limits: dict[str, float] = {}
        for processes in sorted({1, args.workers}):
            for fast in (False, True):
                config = "server's sklearn config" if fast else "default sklearn config"
                limits[f"calls/s at 1 row, {processes} proc, {config}"] = predict_limit(model_file, 1, processes, args.predict_seconds, fast)
                limits[f"rows/s at {BATCH_ROWS} rows, {processes} proc, {config}"] = BATCH_ROWS * predict_limit(
                    model_file, BATCH_ROWS, processes, args.predict_seconds, fast
                )
    report(ours, theirs, limits, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
