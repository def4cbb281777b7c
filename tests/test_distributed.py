"""Data-parallel training under torchrun: two gloo processes on the CPU train what one process trains.

Every run is a real launch (``python -m torch.distributed.run --standalone``, which finds a free port
itself) of a small MLP on scikit-learn's digits; the single-process reference is trained once per
module and compared with the data-parallel runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch.distributed")

from rigorml.compiler.compose import compose  # noqa: E402
from rigorml.compiler.resolve import resolve_spec  # noqa: E402
from rigorml.compiler.validate import validate_data  # noqa: E402
from rigorml.runtime.distributed import DistributedConfigError, World  # noqa: E402

# No dropout: the ranks draw their own dropout masks, so only a dropout-free model can match one
# process step for step. Two micro-batches per step exercise the gradient accumulation, and the
# 1257 training examples end each epoch on a batch of 9: all of it rank 0's, none of it rank 1's
# (the weighting of unequal shards, and an empty one).
SPEC = """\
version: 1
experiment: {name: ddp-test, task: classification}
seeds: {replicates: 1}
data:
  source: builtin:digits
  loader: {batch_size: 32}
model:
  source: builtin:mlp
  params: {hidden_sizes: [32]}
training:
  epochs: 3
  grad_accumulation_steps: 2
  optimizer: {name: adamw, lr: 0.003}
  scheduler: {name: cosine}
  deterministic: true
  log_every_steps: 1
  checkpoint: {every_epochs: 1, every_steps: 5, keep: 3}
"""

RUNNER = textwrap.dedent(
    """
    import json, os, sys
    from rigorml.runtime.train import train_run
    resolved = json.load(open(sys.argv[1]))
    result = train_run(resolved, "base", 0, sys.argv[2])
    rank = os.environ.get("RANK", "0")
    with open(os.path.join(sys.argv[3], f"rank-{rank}.json"), "w") as handle:
        json.dump({"status": result.status, "steps": result.steps, "metrics": result.metrics}, handle)
    from rigorml.runtime.distributed import exit_worker
    exit_worker(0)
    """
)

#: Files of a run directory that differ between any two runs, or that only the lock creates.
_ALWAYS_DIFFERENT = {".tracker.lock"}


def resolved_config(tmp_path: Path, text: str = SPEC) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    composed = compose(str(spec))
    assert not composed.diagnostics, composed.diagnostics
    validated = validate_data(composed.data, composed.source_map)
    assert not validated.diagnostics, validated.diagnostics
    from rigorml.schemas.spec import Spec

    _, resolved = resolve_spec(Spec.model_validate(composed.data))
    path = tmp_path / "resolved.json"
    path.write_text(json.dumps(resolved), encoding="utf-8")
    return path


def start(config: Path, run_dir: Path, report_dir: Path, nproc: int) -> subprocess.Popen:
    """One training launch: torchrun with ``nproc`` processes, or plain Python for one."""
    report_dir.mkdir(parents=True, exist_ok=True)
    script = report_dir / "runner.py"
    script.write_text(RUNNER, encoding="utf-8")
    launcher = [sys.executable] if nproc == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"]
    return subprocess.Popen(
        [*launcher, str(script), str(config), str(run_dir), str(report_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"},
    )


def train(config: Path, run_dir: Path, report_dir: Path, nproc: int) -> str:
    process = start(config, run_dir, report_dir, nproc)
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0, out
    return out


def weights(run_dir: Path) -> dict:
    return torch.load(run_dir / "model.pt", weights_only=True)


def max_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@pytest.fixture(scope="module")
def single_process(tmp_path_factory) -> tuple[Path, Path]:
    """The config and the run directory of the one-process reference run."""
    tmp = tmp_path_factory.mktemp("single")
    config = resolved_config(tmp)
    train(config, tmp / "run", tmp / "report", nproc=1)
    return config, tmp / "run"


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory, single_process) -> tuple[Path, Path]:
    """The run directory and the per-rank reports of the same run trained by two processes."""
    tmp = tmp_path_factory.mktemp("ddp")
    train(single_process[0], tmp / "run", tmp / "report", nproc=2)
    return tmp / "run", tmp / "report"


def test_two_processes_train_the_weights_one_process_trains(single_process, two_processes):
    difference = max_difference(weights(two_processes[0]), weights(single_process[1]))
    print(f"max |DDP - single-process| over the final weights: {difference:.3g}")
    assert difference < 1e-5


def test_only_rank_0_writes_the_run(single_process, two_processes):
    run_dir, reports = two_processes
    # The same files as one process writes: nothing came from rank 1.
    listing = lambda root: {str(p.relative_to(root)) for p in root.rglob("*")} - _ALWAYS_DIFFERENT  # noqa: E731
    assert listing(run_dir) == listing(single_process[1])
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "finished" and "test/f1_macro" in result["metrics"]
    ranks = [json.loads((reports / f"rank-{n}.json").read_text()) for n in (0, 1)]
    assert ranks[0]["metrics"] == result["metrics"] and ranks[1]["metrics"] == {}
    assert ranks[0]["steps"] == ranks[1]["steps"] == result["steps"]


def test_run_json_records_the_world_size(single_process, two_processes):
    world_size = lambda run_dir: json.loads((run_dir / "run.json").read_text())["environment"]["world_size"]  # noqa: E731
    assert (world_size(single_process[1]), world_size(two_processes[0])) == (1, 2)


def test_the_loss_of_the_whole_batch_is_logged_once_per_step(single_process, two_processes):
    from rigorml.runtime.tracking import read_metrics

    losses = lambda run: [(r["step"], r["metrics"]["train/loss"]) for r in read_metrics(run) if r["axis"] == "step"]  # noqa: E731
    ddp, single = losses(two_processes[0]), losses(single_process[1])
    assert [step for step, _ in ddp] == [step for step, _ in single]  # one record per step: rank 0's
    assert max(abs(a - b) for (_, a), (_, b) in zip(ddp, single)) < 1e-5


def _newest_checkpoint_step(run_dir: Path) -> int | None:
    steps = [int(p.name[5:14]) for p in (run_dir / "checkpoints").glob("ckpt-*.pt")] if (run_dir / "checkpoints").is_dir() else []
    return max(steps) if steps else None


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def test_a_killed_two_process_run_resumes_from_its_checkpoint_and_finishes(tmp_path, single_process, two_processes):
    config = single_process[0]
    run_dir = tmp_path / "run"
    process = start(config, run_dir, tmp_path / "report", nproc=2)
    deadline = time.monotonic() + 120
    while _newest_checkpoint_step(run_dir) is None and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "the run ended before its first checkpoint: nothing to resume"
    # torchrun starts each worker in a session of its own: kill all three, as a lost machine would.
    for pid in (process.pid, *_children(process.pid)):
        os.kill(pid, signal.SIGKILL)
    process.wait()
    killed_at = _newest_checkpoint_step(run_dir)
    assert not (run_dir / "model.pt").exists() and killed_at is not None

    out = train(config, run_dir, tmp_path / "report", nproc=2)
    result = json.loads((run_dir / "result.json").read_text())
    assert result["status"] == "finished", out
    assert json.loads((run_dir / "run.json").read_text())["attempt"] == 2  # a resumed attempt, not a new run
    uninterrupted = weights(two_processes[0])
    assert all(torch.equal(tensor, uninterrupted[name]) for name, tensor in weights(run_dir).items())


def test_a_batch_size_that_does_not_divide_by_the_processes_is_refused():
    World(rank=0, size=2).check_batch_size(32)
    with pytest.raises(DistributedConfigError, match="batch_size 15 .* divisible by the 2 training processes"):
        World(rank=1, size=2).check_batch_size(15)


def test_each_rank_takes_its_share_of_every_global_batch():
    batch = torch.arange(10, 42)
    shards = [World(rank, 0, 2).shard(batch, 32) for rank in (0, 1)]
    assert torch.equal(torch.cat(shards), batch)
    short = torch.arange(20)  # a last batch of 20 with a global batch size of 32: 16 and 4
    assert [len(World(rank, 0, 2).shard(short, 32)) for rank in (0, 1)] == [16, 4]
    assert World().shard(batch, 32) is batch


RUN_SPEC = """\
version: 1
experiment: {name: run-ddp, task: classification}
seeds: {replicates: 1}
data:
  source: builtin:iris
  loader: {batch_size: 16}
model:
  source: builtin:mlp
  params: {hidden_sizes: [8]}
training:
  epochs: 2
  optimizer: {name: adamw, lr: 0.01}
"""


def rigorml_run(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rigorml.compiler", "run", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_rigorml_run_with_nproc_2_trains_each_run_under_torchrun(tmp_path):
    (tmp_path / "spec.yaml").write_text(RUN_SPEC, encoding="utf-8")
    done = rigorml_run("spec.yaml", "--nproc", "2", "--run-dir", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "x 2 data-parallel process(es)" in done.stderr and "[1/1] base seed 0: finished" in done.stderr
    run_dir = tmp_path / "out" / "base" / "seed-0"
    assert json.loads((run_dir / "result.json").read_text())["status"] == "finished"
    log = (run_dir / "train.log").read_text()
    assert "OMP_NUM_THREADS" in log  # torchrun's notice: torchrun started the processes
    assert log.count("[1/1] arm base, seed 0") == 1  # train.py prints in the first process only


def test_rigorml_run_refuses_a_batch_size_the_processes_cannot_share(tmp_path):
    (tmp_path / "spec.yaml").write_text(RUN_SPEC.replace("batch_size: 16", "batch_size: 15"), encoding="utf-8")
    done = rigorml_run("spec.yaml", "--nproc", "2", "--run-dir", "out", cwd=tmp_path)
    assert done.returncode == 2
    assert "data.loader.batch_size 15 is the global batch size and must be divisible by --nproc 2" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "base").exists()  # nothing was started
