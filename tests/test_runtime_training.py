"""Real training runs: exact resume after SIGKILL, reproducibility, per-component seeds, idempotence.

Training happens in subprocesses (the runtime sets process-wide determinism flags, and a kill must be a
real ``kill -9``). The model is a small MLP on scikit-learn's digits, so each run takes a second or two.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from rigorml.compiler.compose import compose  # noqa: E402
from rigorml.compiler.resolve import resolve_spec  # noqa: E402
from rigorml.compiler.validate import validate_data  # noqa: E402

SPEC = """\
version: 1
experiment: {name: resume-test, task: classification}
seeds: {replicates: 2}
data:
  source: builtin:digits
  loader: {batch_size: 32}
model:
  source: builtin:mlp
  params: {hidden_sizes: [32], dropout: 0.1}
training:
  epochs: 4
  optimizer: {name: adamw, lr: 0.003}
  scheduler: {name: cosine}
  deterministic: true
  log_every_steps: 1
  checkpoint: {every_epochs: 1, every_steps: 7, keep: 3}
variants:
  baseline: {role: baseline}
  wide: {overrides: {model.params.hidden_sizes: [64]}}
"""

RUNNER = textwrap.dedent(
    """
    import json, sys
    from rigorml.runtime.train import train_run
    resolved = json.load(open(sys.argv[1]))
    result = train_run(resolved, sys.argv[2], int(sys.argv[3]), sys.argv[4])
    print(result.status, result.steps)
    """
)


def resolved_config(tmp_path: Path, text: str = SPEC, *overrides: str) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    composed = compose(str(spec), list(overrides))
    assert not composed.diagnostics, composed.diagnostics
    validated = validate_data(composed.data, composed.source_map)
    assert not validated.diagnostics, validated.diagnostics
    from rigorml.schemas.spec import Spec

    _, resolved = resolve_spec(Spec.model_validate(composed.data))
    path = tmp_path / f"resolved-{len(list(tmp_path.glob('resolved-*.json')))}.json"
    path.write_text(json.dumps(resolved), encoding="utf-8")
    return path


def start(config: Path, arm: str, replicate: int, run_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(config), arm, str(replicate), str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def train(config: Path, arm: str, replicate: int, run_dir: Path) -> str:
    process = start(config, arm, replicate, run_dir)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out


def weights(run_dir: Path) -> dict:
    return torch.load(run_dir / "model.pt", weights_only=True)


def logged(run_dir: Path) -> list:
    """The training metrics a run logged, in order: (axis, step, metrics) per log call.

    System samples (``system/...`` on the wall-clock axis) and timestamps differ between any two runs.
    """
    from rigorml.runtime.tracking import read_metrics

    return [(r["axis"], r.get(r["axis"]), r["metrics"]) for r in read_metrics(run_dir) if r["axis"] != "time"]


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_same_spec_and_seed_give_identical_weights_and_metrics(tmp_path):
    config = resolved_config(tmp_path)
    train(config, "baseline", 0, tmp_path / "a")
    train(config, "baseline", 0, tmp_path / "b")
    assert_same_weights(weights(tmp_path / "a"), weights(tmp_path / "b"))
    assert logged(tmp_path / "a") == logged(tmp_path / "b")


def test_replicates_differ(tmp_path):
    config = resolved_config(tmp_path)
    train(config, "baseline", 0, tmp_path / "a")
    train(config, "baseline", 1, tmp_path / "b")
    a, b = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert any(not torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_random_points_then_resume_reproduces_the_uninterrupted_run(tmp_path, seed):
    config = resolved_config(tmp_path)
    reference = tmp_path / "reference"
    train(config, "wide", 1, reference)
    expected_weights, expected_metrics = weights(reference), logged(reference)

    interrupted = tmp_path / "interrupted"
    rng = random.Random(seed)
    kills = 0
    for _ in range(3):  # kill it up to three times, after a checkpoint and more logged steps
        process = start(config, "wide", 1, interrupted)
        target = rng.randint(2, 40)  # steps logged beyond the newest checkpoint before the kill
        if _wait_until_past_a_checkpoint(interrupted, target, process):
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        else:
            process.communicate()
            break
    out = train(config, "wide", 1, interrupted)
    assert kills >= 1, out
    assert_same_weights(weights(interrupted), expected_weights)
    assert logged(interrupted) == expected_metrics


def _newest_checkpoint_step(run_dir: Path) -> int | None:
    steps = [int(p.name[5:14]) for p in (run_dir / "checkpoints").glob("ckpt-*.pt")] if (run_dir / "checkpoints").is_dir() else []
    return max(steps) if steps else None


def _last_logged_step(run_dir: Path) -> int:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return 0
    steps = [json.loads(line).get("step", 0) for line in path.read_bytes().split(b"\n")[:-1] if b'"axis": "step"' in line or b'"axis":"step"' in line]
    return max(steps, default=0)


def _wait_until_past_a_checkpoint(run_dir: Path, beyond: int, process: subprocess.Popen) -> bool:
    """Wait until a checkpoint exists and ``beyond`` more steps were logged; False if the run ended first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        step = _newest_checkpoint_step(run_dir)
        if step is not None and _last_logged_step(run_dir) >= step + min(beyond, 6):
            return True
        time.sleep(0.005)
    return False


def test_a_finished_run_is_skipped_on_rerun(tmp_path):
    config = resolved_config(tmp_path)
    train(config, "baseline", 0, tmp_path / "run")
    before = (tmp_path / "run" / "model.pt").stat().st_mtime_ns
    assert train(config, "baseline", 0, tmp_path / "run").startswith("skipped")
    assert (tmp_path / "run" / "model.pt").stat().st_mtime_ns == before


def _initial_weights(config: Path, tmp_path: Path, name: str) -> dict:
    """The weights after zero steps (max_steps would still take one): build them the way train_run does."""
    code = textwrap.dedent(
        f"""
        import json, torch
        from rigorml.runtime.config import arm_config
        from rigorml.runtime.models import build_model
        from rigorml.runtime.seeding import SeedConfig
        resolved = json.load(open({str(config)!r}))
        cfg = arm_config(resolved, "baseline")
        seeds = SeedConfig.for_replicate(cfg["seeds"], 0)
        torch.manual_seed(seeds.model)
        model = build_model(cfg["model"], 64, 10)
        torch.save(model.state_dict(), {str(tmp_path / name)!r})
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    return torch.load(tmp_path / name, weights_only=True)


def test_changing_the_data_seed_changes_batches_but_not_initial_weights(tmp_path):
    base = resolved_config(tmp_path)
    other = resolved_config(tmp_path, SPEC.replace("seeds: {replicates: 2}", "seeds: {replicates: 2, data: 7}"))
    assert_same_weights(_initial_weights(base, tmp_path, "a.pt"), _initial_weights(other, tmp_path, "b.pt"))
    train(base, "baseline", 0, tmp_path / "a")
    train(other, "baseline", 0, tmp_path / "b")
    a, b = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_changing_the_model_seed_changes_initial_weights(tmp_path):
    base = resolved_config(tmp_path)
    other = resolved_config(tmp_path, SPEC.replace("seeds: {replicates: 2}", "seeds: {replicates: 2, model: 7}"))
    a, b = _initial_weights(base, tmp_path, "a.pt"), _initial_weights(other, tmp_path, "b.pt")
    assert any(not torch.equal(a[k], b[k]) for k in a)


def test_predictions_are_saved_with_example_ids_for_every_split(tmp_path):
    import numpy as np

    config = resolved_config(tmp_path)
    train(config, "baseline", 0, tmp_path / "a")
    train(config, "wide", 0, tmp_path / "b")
    for split in ("val", "test"):
        a = np.load(tmp_path / "a" / "predictions" / f"{split}.npz", allow_pickle=False)
        b = np.load(tmp_path / "b" / "predictions" / f"{split}.npz", allow_pickle=False)
        assert a["scores"].shape == (len(a["ids"]), 10)
        assert np.array_equal(a["ids"], b["ids"])  # every arm sees the same examples: pairing holds
        assert np.array_equal(a["y_true"], b["y_true"])
