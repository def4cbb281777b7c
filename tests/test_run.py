"""`rigorml run`: lint, compile, train every arm over every replicate seed, evaluate; idempotent."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("torch")

SPEC = """\
version: 1
experiment: {name: run-test, task: classification}
seeds: {replicates: 2}
data:
  source: builtin:iris
  loader: {batch_size: 16}
model:
  source: builtin:mlp
  params: {hidden_sizes: [8]}
training:
  epochs: 2
  optimizer: {name: adamw, lr: 0.01}
variants:
  baseline: {role: baseline}
  wide: {overrides: {model.params.hidden_sizes: [32]}}
evaluation: {baseline: baseline}
"""


def run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "rigorml.compiler", "run", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_run_trains_every_arm_over_every_seed_and_evaluates(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    done = run("spec.yaml", "--jobs", "2", "--run-dir", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for arm in ("baseline", "wide"):
        for seed in (0, 1):
            result = json.loads((tmp_path / "out" / arm / f"seed-{seed}" / "result.json").read_text())
            assert result["status"] == "finished" and "test/f1_macro" in result["metrics"]
    evaluation = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert evaluation["complete"] and evaluation["per_arm"]["wide"]["f1_macro"]["n"] == 2
    assert [c["name"] for c in evaluation["comparisons"]] == ["wide-vs-baseline"]
    assert done.stdout.endswith((tmp_path / "out" / "evaluation.md").read_text())  # the tables, printed
    assert "| baseline | 2 |" in done.stdout and "| wide-vs-baseline | f1_macro | 2 |" in done.stdout
    assert (tmp_path / "out" / "project" / "train.py").exists()


def test_a_second_run_trains_nothing(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    assert run("spec.yaml", "--run-dir", "out", cwd=tmp_path).returncode == 0
    model = tmp_path / "out" / "wide" / "seed-1" / "model.pt"
    before = model.stat().st_mtime_ns
    again = run("spec.yaml", "--run-dir", "out", cwd=tmp_path)
    assert again.returncode == 0 and "already finished" in again.stderr
    assert model.stat().st_mtime_ns == before


def test_a_changed_spec_does_not_reuse_results_of_the_old_one(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    assert run("spec.yaml", "--run-dir", "out", cwd=tmp_path).returncode == 0
    changed = run("spec.yaml", "training.optimizer.lr=0.02", "--run-dir", "out", cwd=tmp_path)
    assert changed.returncode == 1
    assert "different configuration" in (tmp_path / "out" / "baseline" / "seed-0" / "train.log").read_text()
    # Nothing of the old configuration is evaluated as if it were the new one.
    assert "rigorml: not evaluated: nothing to evaluate" in changed.stderr
    assert "trained with another configuration" in changed.stderr


def test_a_spec_with_lint_errors_is_not_run(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC.replace("evaluation: {baseline: baseline}", "evaluation: {baseline: baseline, correction: none}\nsweep:\n  parameters:\n    training.optimizer.lr: {distribution: uniform, low: 0.001, high: 0.1}\n  final_validation: {split: val}"), encoding="utf-8")
    done = run("spec.yaml", "--run-dir", "out", cwd=tmp_path)
    assert done.returncode == 1 and "not compiled" in done.stderr
    assert not (tmp_path / "out" / "baseline").exists()


def test_the_quickstart_evaluation_is_holm_corrected_paired_bootstraps_against_the_baseline_over_5_seeds(tmp_path):
    from pathlib import Path

    quickstart = Path(__file__).resolve().parents[1] / "examples" / "quickstart.yaml"
    done = run(str(quickstart), "training.epochs=2", "sweep.n_trials=6", "--jobs", "2", "--run-dir", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    evaluation = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert evaluation["complete"] and evaluation["replicate_seeds"] == [0, 1, 2, 3, 4]
    assert evaluation["correction"]["method"] == "holm" and evaluation["correction"]["size"] == 2
    assert sorted((c["treatment"], c["control"]) for c in evaluation["comparisons"]) == [
        ("dropout", "baseline"), ("wide", "baseline"),
    ]  # fmt: skip
    for comparison in evaluation["comparisons"]:
        assert comparison["n"] == 5 and comparison["test"]["applied"] == "paired_bootstrap"
        assert comparison["test"]["level"] == "seeds_x_examples" and comparison["p_adjusted"] >= comparison["p_value"]
        assert comparison["verdict"] in ("improvement", "regression", "below_minimum_effect", "equivalent", "no_evidence")
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "wide-vs-baseline" in report and "holm" in report
    # Then the spec's sweep, as `rigorml sweep` runs it, in out/sweeps/<study>, and in the report.
    sweep_dir = tmp_path / "out" / "sweeps" / "digits-mlp"
    best = json.loads((sweep_dir / "best.json").read_text())
    assert best["trials"]["complete"] + best["trials"]["pruned"] == 6
    assert json.loads((sweep_dir / "analysis.json").read_text())["trials"]["used"] == best["trials"]["complete"]
    final = json.loads((sweep_dir / "final.json").read_text())
    assert final["split"] == "test" and final["summary"]["n"] == 5 and final["best"]["trial"] == best["best"]["trial"]
    assert "[6/6] trial " in done.stderr and "final validation: test/f1_macro = " in done.stdout
    assert "Final validation" in report and "Parameter importances" in report


def test_run_sweeps_a_spec_with_a_sweep_unless_told_not_to(tmp_path):
    sweep = (
        "sweep:\n  n_trials: 2\n  parameters:\n    training.optimizer.lr: {distribution: log_uniform, low: 0.001, high: 0.1}\n"
        "  final_validation: {seeds: 2}\n"
    )
    (tmp_path / "spec.yaml").write_text(SPEC + sweep, encoding="utf-8")
    skipped = run("spec.yaml", "--run-dir", "out", "--no-sweep", cwd=tmp_path)
    assert skipped.returncode == 0, skipped.stderr
    assert not (tmp_path / "out" / "sweeps").exists() and "trial(s) done" not in skipped.stderr
    done = run("spec.yaml", "--run-dir", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sweep_dir = tmp_path / "out" / "sweeps" / "run-test"
    assert json.loads((sweep_dir / "best.json").read_text())["trials"]["total"] == 2
    assert [run["seed"] for run in json.loads((sweep_dir / "final.json").read_text())["runs"]] == [2, 3]
    again = run("spec.yaml", "--run-dir", "out", cwd=tmp_path)  # resumes: nothing left to train
    assert again.returncode == 0, again.stderr
    assert "sweep run-test: 2 of 2 trial(s) done" in again.stderr
    assert not any(run["trained"] for run in json.loads((sweep_dir / "final.json").read_text())["runs"])


def test_rigorml_evaluate_reevaluates_a_run_directory_and_refuses_other_folders(tmp_path):
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    assert run("spec.yaml", "--run-dir", "out", cwd=tmp_path).returncode == 0
    (tmp_path / "out" / "evaluation.json").unlink()
    done = subprocess.run(
        [sys.executable, "-m", "rigorml.compiler", "evaluate", "out"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    evaluation = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert [c["name"] for c in evaluation["comparisons"]] == ["wide-vs-baseline"]
    assert "| wide-vs-baseline | f1_macro | 2 |" in done.stdout
    elsewhere = subprocess.run(
        [sys.executable, "-m", "rigorml.compiler", "evaluate", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert elsewhere.returncode == 2 and "not a rigorml run directory" in elsewhere.stderr


def test_the_evaluation_is_tracked_as_a_run_of_its_own(tmp_path):
    from rigorml.runtime.tracking import metric_history

    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    assert run("spec.yaml", "--run-dir", "out", cwd=tmp_path).returncode == 0
    evaluation = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    tracked = tmp_path / "out" / "evaluation"
    run_json = json.loads((tracked / "run.json").read_text())
    assert run_json["name"] == "run-test-evaluation" and run_json["status"] == "finished"
    logged = metric_history(tracked)["epoch"][0]
    (comparison,) = evaluation["comparisons"]
    assert logged["test/wide-vs-baseline/mean_difference"] == comparison["mean"]
    assert logged["test/wide-vs-baseline/p_adjusted"] == comparison["p_adjusted"]
    assert logged["test/baseline/f1_macro"] == evaluation["per_arm"]["baseline"]["f1_macro"]["mean"]
