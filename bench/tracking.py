"""Throughput of the local tracking backend: 100,000 scalar log calls, each written and fdatasync'd.

Prints, for the ``local`` backend (``open_tracker`` + ``log_metrics({"train/loss": x}, step=i)``):
log calls per second, wall and CPU microseconds per call, the floor the disk sets (the same lines
written with bare ``os.write`` + ``os.fdatasync``, in rounds interleaved with the tracker's so a
change in disk load hits both alike; the difference is the tracker's own cost), and how fast
``read_metrics`` reads them back (checking that every call is there).

With MLflow installed (``pip install mlflow``) it also times ``MlflowClient.log_metric`` (one
scalar a call) and ``log_batch`` (1,000 metrics a call) against a SQLite backend store in a
temporary directory, and prints each one's throughput relative to the local backend. Without it,
it says so; the local numbers stand alone.

Each measurement (local with its floor; MLflow's log_metric; log_batch) stops at ``--logs`` calls
or after ``--max-seconds``, whichever comes first (rates are computed over the calls made), so a
slow disk or a slow store cannot make the run unbounded.

    python bench/tracking.py [--logs 100000] [--max-seconds 120] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from rigorml.runtime.tracking import METRICS_FILE, open_tracker, read_metrics

SECTION = {
    "backend": "local",
    "capture": {"git_commit": False, "git_dirty": False, "git_diff": False, "environment": False},
    "system_metrics": False,
}


def timed_loop(count: int, budget_s: float, call) -> tuple[int, float]:
    """Run ``call(i)`` for i in 0..count-1 or until ``budget_s`` passes; returns (calls, seconds)."""
    start = time.perf_counter()
    deadline = start + budget_s
    done = 0
    for i in range(count):
        call(i)
        done = i + 1
        if done % 256 == 0 and time.perf_counter() > deadline:
            break
    return done, time.perf_counter() - start


def floor_writer(path: Path):
    """The local backend's lines written with nothing but ``os.write`` + ``os.fdatasync``: what the
    disk costs. Returns ``(call, close)``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sync = os.fdatasync if hasattr(os, "fdatasync") else os.fsync

    def call(i: int) -> None:
        line = json.dumps({"step": i, "axis": "step", "metrics": {"train/loss": 1.0 / (i + 1)}, "time": time.time()})
        os.write(fd, (line + "\n").encode())
        sync(fd)

    return call, lambda: os.close(fd)


def bench_local(base: Path, count: int, budget_s: float, round_size: int = 1000) -> dict:
    """The local backend and the disk floor, in alternating rounds of ``round_size`` calls (so a
    change in disk load hits both alike), until ``count`` calls each or ``budget_s`` in all."""
    run_dir = base / "local"
    floor_call, floor_close = floor_writer(base / "floor.jsonl")
    totals = {name: {"calls": 0, "seconds": 0.0, "cpu_s": 0.0} for name in ("local", "floor")}
    deadline = time.perf_counter() + budget_s
    with open_tracker(SECTION, run_dir, "bench", "bench", {"bench": True}) as tracker:
        calls = {
            "local": lambda i: tracker.log_metrics({"train/loss": 1.0 / (i + 1)}, step=i),
            "floor": floor_call,
        }
        while totals["local"]["calls"] < count and time.perf_counter() < deadline:
            for name, call in calls.items():
                first = totals[name]["calls"]
                last = min(first + round_size, count)
                wall, cpu = time.perf_counter(), time.process_time()
                for i in range(first, last):
                    call(i)
                totals[name]["seconds"] += time.perf_counter() - wall
                totals[name]["cpu_s"] += time.process_time() - cpu
                totals[name]["calls"] = last
    floor_close()
    start = time.perf_counter()
    records = read_metrics(run_dir)
    totals["local"]["read_s"] = time.perf_counter() - start
    totals["local"]["bytes"] = (run_dir / METRICS_FILE).stat().st_size
    done = totals["local"]["calls"]
    assert len(records) == done and records[-1]["step"] == done - 1, "the file does not hold every call"
    return totals


def bench_mlflow(base: Path, count: int, budget_s: float) -> dict | None:
    """``log_metric`` and ``log_batch`` against a SQLite store; None when MLflow is not installed."""
    try:
        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient
    except ImportError:
        return None
    client = MlflowClient(tracking_uri=f"sqlite:///{base / 'mlflow.db'}")
    experiment = client.create_experiment("bench", artifact_location=(base / "mlflow-artifacts").as_uri())
    single = client.create_run(experiment).info.run_id
    done, seconds = timed_loop(
        count, budget_s, lambda i: client.log_metric(single, "train/loss", 1.0 / (i + 1), step=i)
    )
    results = {"log_metric": {"calls": done, "seconds": seconds}}
    client.set_terminated(single)

    batched = client.create_run(experiment).info.run_id
    batch = 1000  # MLflow's limit of metrics per log_batch call
    now_ms = int(time.time() * 1000)

    def log_batch(b: int) -> None:
        steps = range(b * batch, min((b + 1) * batch, count))
        client.log_batch(batched, metrics=[Metric("train/loss", 1.0 / (i + 1), now_ms, i) for i in steps])

    batches, seconds = timed_loop(-(-count // batch), budget_s, log_batch)
    results["log_batch"] = {"calls": min(batches * batch, count), "seconds": seconds, "batch": batch}
    client.set_terminated(batched)
    return results


def rate(result: dict) -> float:
    return result["calls"] / result["seconds"] if result["seconds"] > 0 else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=int, default=100_000, help="scalar log calls per loop (default 100,000)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time limit of each measurement (default 120)")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temporary directory)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(dir=args.dir, prefix="rigorml-bench-tracking-") as tmp:
        base = Path(tmp)
        totals = bench_local(base, args.logs, args.max_seconds)
        local, floor = totals["local"], totals["floor"]
        local_rate, floor_rate = rate(local), rate(floor)
        partial = " (time limit reached)" if local["calls"] < args.logs else ""
        print(f"local backend: {local['calls']:,} scalar log calls{partial} in {local['seconds']:.2f} s")
        print(
            f"  {local_rate:,.0f} calls/s, {1e6 / local_rate:.1f} us per call (each written and fdatasync'd), "
            f"CPU {1e6 * local['cpu_s'] / local['calls']:.1f} us per call"
        )
        print(
            f"  disk floor, interleaved (bare os.write + fdatasync of the same lines): {floor_rate:,.0f} calls/s, "
            f"{1e6 / floor_rate:.1f} us per call, CPU {1e6 * floor['cpu_s'] / floor['calls']:.1f} us per call"
        )
        print(
            f"  read back with read_metrics: {local['calls']:,} records in {local['read_s']:.2f} s "
            f"({local['bytes'] / 1e6:.1f} MB)"
        )

        mlflow = bench_mlflow(base, args.logs, args.max_seconds)
        if mlflow is None:
            print("MLflow: not installed, so there is no comparison; `pip install mlflow` and rerun to time")
            print("  MlflowClient.log_metric and log_batch against a SQLite store in the same run.")
            return 0
        for name, result in mlflow.items():
            how = f"{result['batch']:,} metrics per call" if "batch" in result else "one scalar per call"
            print(
                f"MLflow {name} (SQLite store, {how}): {result['calls']:,} scalars in {result['seconds']:.2f} s, "
                f"{rate(result):,.0f} scalars/s = {rate(result) / local_rate:.2f}x the local backend"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
