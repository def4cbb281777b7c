"""The evaluation step: runs -> paired, checked, aggregated, compared (``rigorml.runtime.evaluate``),
and the compiled project's ``evaluate.py`` over it.

Two kinds of inputs: real runs (a compiled project trained with its own ``train.py --all``: two arms
x three seeds on iris, a few seconds) for the end-to-end behaviour, and synthetic run directories
(``result.json`` + ``predictions/test.npz`` written here) for the edge cases a real run does not
produce on demand: unpaired examples, tampered results, missing and unfinished runs.
Statistics are checked against scipy and statsmodels, and against published worked examples.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from rigorml.compiler.resolve import resolve_spec
from rigorml.compiler.source import SourceMap
from rigorml.compiler.validate import validate_data
from rigorml.runtime.config import spec_hash
from rigorml.runtime.evaluate import (
    EvaluationError,
    adjust_p_values,
    evaluate_experiment,
    format_table,
    paired_difference,
    planned_comparisons,
    summarise_seeds,
    write_evaluation,
)
from rigorml.runtime.metrics import metric_function
from rigorml.schemas.spec import Spec


def resolved_spec(**sections) -> dict:
    """The resolved form of a small classification spec with ``sections`` replaced."""
    data = {
        "version": 1,
        "experiment": {"name": "eval-test", "task": "classification"},
        "seeds": {"replicates": 4},
        "data": {"source": "builtin:iris"},
        "model": {"source": "builtin:mlp"},
        "variants": {"baseline": {"role": "baseline"}, "wide": {}, "deep": {}},
        "metrics": {"primary": "f1_macro", "secondary": ["accuracy", "log_loss"]},
        "evaluation": {"baseline": "baseline", "correction": "holm"},
        **sections,
    }
    assert not validate_data(data, SourceMap()).diagnostics
    return resolve_spec(Spec.model_validate(data))[1]


# --- synthetic runs -------------------------------------------------------------------------------

N_EXAMPLES, N_CLASSES = 60, 3
Y_TRUE = np.random.default_rng(7).integers(0, N_CLASSES, N_EXAMPLES)
IDS = np.arange(1000, 1000 + N_EXAMPLES)


def synthetic_scores(arm: str, seed: int) -> np.ndarray:
    """Logits that get an arm- and seed-dependent share of the examples right."""
    rng = np.random.default_rng([sum(map(ord, arm)), seed])
    skill = {"baseline": 1.0, "wide": 1.6, "deep": 1.2}.get(arm, 1.0)
    scores = rng.normal(size=(N_EXAMPLES, N_CLASSES)).astype(np.float32)
    scores[np.arange(N_EXAMPLES), Y_TRUE] += np.float32(skill)
    return scores


def write_run(root: Path, resolved: dict, arm: str, seed: int, *, ids=IDS, y_true=Y_TRUE, scores=None,
              status="finished", metrics=None, split="test") -> Path:  # fmt: skip
    """A run directory as train_run leaves it; ``metrics`` defaults to what the predictions give."""
    run_dir = root / arm / f"seed-{seed}"
    (run_dir / "predictions").mkdir(parents=True, exist_ok=True)
    scores = synthetic_scores(arm, seed) if scores is None else scores
    np.savez(run_dir / "predictions" / f"{split}.npz", ids=ids, y_true=y_true, scores=scores)
    if metrics is None:
        task = resolved["experiment"]["task"]
        names = [resolved["metrics"]["primary"], *resolved["metrics"]["secondary"]]
        metrics = {f"{split}/{n}": fn(y_true, scores) for n in names if (fn := metric_function(n, task))}
        metrics[f"{split}/loss"] = 0.5
    result = {"status": status, "arm": arm, "replicate": seed, "metrics": metrics, "config_sha256": spec_hash(resolved)}
    (run_dir / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return run_dir


def write_all(root: Path, resolved: dict) -> None:
    arms = list(resolved["variants"]) or ["base"]
    for arm in arms:
        for seed in resolved["seeds"]["replicates"]:
            write_run(root, resolved, arm, seed)


def metric_of(arm: str, seed: int, name: str = "f1_macro") -> float:
    return metric_function(name, "classification")(Y_TRUE, synthetic_scores(arm, seed))


# --- loading, pairing, checking ---------------------------------------------------------------------


def test_every_run_is_evaluated_when_all_finished(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    assert result["complete"] and result["missing"] == []
    assert result["arms"] == ["baseline", "deep", "wide"]  # the baseline first
    assert len(result["runs_evaluated"]) == 12 and result["examples"] == N_EXAMPLES
    assert result["split"] == "test" and result["config_sha256"] == spec_hash(resolved)


def test_recomputed_metrics_are_the_recorded_ones(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    recorded = json.loads((tmp_path / "wide" / "seed-2" / "result.json").read_text())["metrics"]
    stats_ = result["per_arm"]["wide"]["accuracy"]
    assert stats_["values"][stats_["seeds"].index(2)] == recorded["test/accuracy"]
    assert result["metric_sources"]["f1_macro"] == "recomputed from predictions"


def test_a_metric_that_differs_from_result_json_is_an_error_naming_the_run(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    tampered = tmp_path / "deep" / "seed-1" / "result.json"
    result = json.loads(tampered.read_text())
    result["metrics"]["test/f1_macro"] += 0.01
    tampered.write_text(json.dumps(result))
    with pytest.raises(EvaluationError, match=r"deep/seed-1 test/f1_macro: recomputed .* result.json has"):
        evaluate_experiment(resolved, tmp_path)


def test_a_metric_missing_from_result_json_is_an_error(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    write_run(tmp_path, resolved, "wide", 0, metrics={"test/f1_macro": metric_of("wide", 0)})
    with pytest.raises(EvaluationError, match=r"wide/seed-0 test/accuracy: recomputed .* result.json has none"):
        evaluate_experiment(resolved, tmp_path)


def test_different_example_ids_are_an_error_naming_the_runs(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    other = IDS.copy()
    other[5] = 1
    write_run(tmp_path, resolved, "wide", 3, ids=other)
    with pytest.raises(EvaluationError) as caught:
        evaluate_experiment(resolved, tmp_path)
    message = str(caught.value)
    assert "not paired" in message and "compared with baseline/seed-0" in message
    assert "wide/seed-3: different example ids (first at position 5: 1 instead of 1005)" in message
    assert "deep/" not in message  # only the runs that differ are named


def test_the_same_examples_in_another_order_are_an_error(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    order = np.roll(np.arange(N_EXAMPLES), 1)
    write_run(tmp_path, resolved, "deep", 2, ids=IDS[order], y_true=Y_TRUE[order])
    with pytest.raises(EvaluationError, match=r"deep/seed-2: the same examples in a different order"):
        evaluate_experiment(resolved, tmp_path)


def test_different_labels_are_an_error(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    labels = Y_TRUE.copy()
    labels[3] = (labels[3] + 1) % N_CLASSES
    write_run(tmp_path, resolved, "wide", 1, y_true=labels)
    with pytest.raises(EvaluationError, match=rf"wide/seed-1: different labels \(first for example 1003: {labels[3]} instead of {Y_TRUE[3]}\)"):
        evaluate_experiment(resolved, tmp_path)


def test_different_rows_of_multi_column_labels_name_the_example(tmp_path):
    from rigorml.runtime.evaluate import _pairing_problem, _Run

    relevance = np.zeros((4, 3), dtype=np.int64)
    changed = relevance.copy()
    changed[2, 1] = 1  # the third query's second candidate
    ids = np.array([10, 11, 12, 13])
    reference, other = (_Run("a", 0, ids, y, np.zeros((4, 3)), {}) for y in (relevance, changed))
    assert _pairing_problem(reference, other) == "different labels (first for example 12)"
    assert _pairing_problem(reference, _Run("a", 1, ids, relevance[:, :2], np.zeros((4, 2)), {})) == (
        "labels of shape (4, 2) instead of (4, 3)"
    )


def test_a_different_number_of_examples_is_an_error(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    write_run(tmp_path, resolved, "wide", 1, ids=IDS[:-1], y_true=Y_TRUE[:-1], scores=synthetic_scores("wide", 1)[:-1])
    with pytest.raises(EvaluationError, match=rf"wide/seed-1: {N_EXAMPLES - 1} examples instead of {N_EXAMPLES}"):
        evaluate_experiment(resolved, tmp_path)


def test_missing_and_unusable_runs_are_reported_with_the_reason(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    shutil.rmtree(tmp_path / "wide" / "seed-0")
    write_run(tmp_path, resolved, "wide", 1, status="running")
    (tmp_path / "deep" / "seed-2" / "predictions" / "test.npz").unlink()
    other = resolved_spec(training={"epochs": 3})
    write_run(tmp_path, other, "deep", 3)
    (tmp_path / "baseline" / "seed-3" / "result.json").unlink()
    result = evaluate_experiment(resolved, tmp_path)
    reasons = {m["run_dir"]: m["reason"] for m in result["missing"]}
    assert reasons == {
        "baseline/seed-3": "no result.json (the run never started)",
        "deep/seed-2": "no predictions/test.npz",
        "deep/seed-3": reasons["deep/seed-3"],
        "wide/seed-0": "not run (no run directory)",
        "wide/seed-1": "not finished (status 'running'): train it again to resume it",
    }
    assert reasons["deep/seed-3"].startswith("trained with another configuration (sha256 ")
    assert not result["complete"]
    assert "## Not evaluated" in format_table(result) and "- wide/seed-0: not run" in format_table(result)


def test_comparisons_use_the_seeds_both_arms_have(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    shutil.rmtree(tmp_path / "wide" / "seed-0")
    shutil.rmtree(tmp_path / "baseline" / "seed-3")
    result = evaluate_experiment(resolved, tmp_path)
    wide = next(c for c in result["comparisons"] if c["treatment"] == "wide")
    assert wide["seeds"] == [1, 2] and wide["n"] == 2
    assert result["per_arm"]["wide"]["f1_macro"]["n"] == 3


def test_nothing_to_evaluate_is_an_actionable_error(tmp_path):
    with pytest.raises(EvaluationError) as caught:
        evaluate_experiment(resolved_spec(), tmp_path / "runs")
    message = str(caught.value)
    assert "nothing to evaluate" in message and "none of the 12 runs (3 arm(s) x 4 seed(s))" in message
    assert "python train.py --all" in message and "baseline/seed-0: not run" in message


def test_the_train_split_cannot_be_evaluated_and_says_why(tmp_path):
    resolved = resolved_spec(evaluation={"split": "train", "baseline": "baseline"})
    write_all(tmp_path, resolved)
    with pytest.raises(EvaluationError, match=r"saves predictions for val and test only"):
        evaluate_experiment(resolved, tmp_path)


def test_the_val_split_is_evaluated_when_the_spec_says_so(tmp_path):
    resolved = resolved_spec(evaluation={"split": "val", "baseline": "baseline"})
    for arm in resolved["variants"]:
        for seed in resolved["seeds"]["replicates"]:
            write_run(tmp_path, resolved, arm, seed, split="val")
    result = evaluate_experiment(resolved, tmp_path)
    assert result["split"] == "val" and result["complete"]


def test_a_metric_the_runtime_cannot_compute_comes_from_result_json(tmp_path):
    resolved = resolved_spec(metrics={"primary": "f1_macro", "secondary": ["loss"]})
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    assert result["metric_sources"]["loss"] == "result.json"
    assert result["per_arm"]["wide"]["loss"]["mean"] == 0.5


def test_a_metric_nobody_computed_is_listed_as_not_computed(tmp_path):
    resolved = resolved_spec(metrics={"primary": "f1_macro", "custom": {"mine": "pkg.metrics:mine"}, "secondary": ["mine"]})
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    assert "mine" in result["not_computed"] and "mine" not in result["per_arm"]["wide"]
    assert any(note.startswith("mine: ") for note in result["notes"])


def test_a_non_finite_recorded_value_is_left_out(tmp_path):
    resolved = resolved_spec(metrics={"primary": "f1_macro", "secondary": ["loss"]})
    write_all(tmp_path, resolved)
    run = tmp_path / "wide" / "seed-1" / "result.json"
    result = json.loads(run.read_text())
    result["metrics"]["test/loss"] = "Infinity"  # how the tracker writes a non-finite number
    run.write_text(json.dumps(result))
    loss = evaluate_experiment(resolved, tmp_path)["per_arm"]["wide"]["loss"]
    assert loss["seeds"] == [0, 2, 3] and loss["n"] == 3


def test_regression_runs_are_evaluated_with_their_direction(tmp_path):
    resolved = resolved_spec(
        experiment={"name": "eval-reg", "task": "regression"},
        data={"source": "builtin:diabetes"},
        metrics={"primary": "mae", "secondary": ["r2"]},
        variants={"baseline": {"role": "baseline"}, "better": {}},
    )
    y_true = np.linspace(-1, 1, N_EXAMPLES).astype(np.float32)
    for arm, noise in (("baseline", 0.5), ("better", 0.2)):
        for seed in resolved["seeds"]["replicates"]:
            rng = np.random.default_rng(seed)
            scores = (y_true + noise * rng.normal(size=N_EXAMPLES)).astype(np.float32).reshape(-1, 1)
            write_run(tmp_path, resolved, arm, seed, y_true=y_true, scores=scores)
    result = evaluate_experiment(resolved, tmp_path)
    (comparison,) = result["comparisons"]
    assert comparison["metric"] == "mae" and comparison["direction"] == "lower is better"
    assert comparison["mean"] < 0 and comparison["favours"] == "treatment"
    assert result["per_arm"]["better"]["r2"]["mean"] > result["per_arm"]["baseline"]["r2"]["mean"]


# --- aggregation over seeds -------------------------------------------------------------------------


def test_per_arm_statistics_agree_with_numpy_and_scipy(tmp_path):
    resolved = resolved_spec(evaluation={"baseline": "baseline", "confidence": 0.9})
    write_all(tmp_path, resolved)
    stats_ = evaluate_experiment(resolved, tmp_path)["per_arm"]["deep"]["f1_macro"]
    values = np.array([metric_of("deep", seed) for seed in range(4)])
    low, high = stats.t.interval(0.9, 3, loc=values.mean(), scale=stats.sem(values))
    assert stats_["values"] == list(values) and stats_["seeds"] == [0, 1, 2, 3]
    assert stats_["n"] == 4 and stats_["mean"] == pytest.approx(values.mean(), abs=1e-15)
    assert stats_["sd"] == pytest.approx(values.std(ddof=1), abs=1e-15)
    assert stats_["ci"] == pytest.approx([low, high], abs=1e-12)
    assert stats_["median"] == pytest.approx(np.median(values), abs=1e-15)


def test_iqm_is_the_mean_of_the_middle_half():
    values = [0.9, 0.1, 0.5, 0.7, 0.3, 0.8, 0.2, 0.6]  # sorted: .1 .2 | .3 .5 .6 .7 | .8 .9
    assert summarise_seeds(values)["iqm"] == pytest.approx((0.3 + 0.5 + 0.6 + 0.7) / 4)


def test_one_seed_has_no_sd_and_no_interval():
    assert summarise_seeds([0.8]) == {"n": 1, "mean": 0.8, "sd": None, "ci": None, "median": 0.8, "iqm": 0.8}


def test_paired_difference_agrees_with_scipy_ttest_rel():
    treatment, control = [0.81, 0.84, 0.80, 0.86, 0.83], [0.79, 0.80, 0.81, 0.82, 0.78]
    diff = np.subtract(treatment, control)
    for alternative in ("two-sided", "greater", "less"):
        out = paired_difference(treatment, control, 0.95, alternative)
        expected = stats.ttest_rel(treatment, control, alternative=alternative)
        assert out["t_test"]["p_value"] == pytest.approx(expected.pvalue, rel=1e-12)
        assert out["t_test"]["t"] == pytest.approx(expected.statistic, rel=1e-12) and out["t_test"]["df"] == 4
    assert out["mean"] == pytest.approx(diff.mean()) and out["sd"] == pytest.approx(diff.std(ddof=1))
    assert out["d_z"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    low, high = stats.t.interval(0.95, 4, loc=diff.mean(), scale=stats.sem(diff))
    assert out["ci"] == pytest.approx([low, high])


def test_differences_that_do_not_vary_have_no_effect_size_or_p_value():
    out = paired_difference([0.5, 0.6, 0.7], [0.4, 0.5, 0.6])
    assert out["mean"] == pytest.approx(0.1) and out["d_z"] is None and out["t_test"] is None


# --- comparisons ----------------------------------------------------------------------------------


def scores_of(arm: str) -> np.ndarray:
    return np.stack([synthetic_scores(arm, s) for s in range(4)])


def test_comparisons_are_paired_by_seed_with_the_declared_correction(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    assert [c["name"] for c in result["comparisons"]] == ["wide-vs-baseline", "deep-vs-baseline"]  # the config's order
    p_values = []
    for comparison in result["comparisons"]:
        treatment = [metric_of(comparison["treatment"], s) for s in range(4)]
        control = [metric_of("baseline", s) for s in range(4)]
        assert comparison["differences"] == pytest.approx(np.subtract(treatment, control).tolist(), abs=1e-15)
        assert comparison["direction"] == "higher is better"
        p_values.append(comparison["p_value"])
    assert result["correction"] == {"method": "holm", "family": "exploratory", "alpha": 0.05, "size": 2}
    assert [c["p_adjusted"] for c in result["comparisons"]] == adjust_p_values(p_values, "holm")
    assert [c["significant"] for c in result["comparisons"]] == [p <= 0.05 for p in adjust_p_values(p_values, "holm")]


def test_the_declared_paired_bootstrap_resamples_seeds_and_examples_with_the_plans_seed(tmp_path):
    from rigorml.runtime.stats.bootstrap import paired_two_level_bootstrap

    resolved = resolved_spec(evaluation={"baseline": "baseline", "correction": "holm", "resamples": 2000, "seed": 11})
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    wide = result["comparisons"][0]
    assert wide["test"]["declared"] == wide["test"]["applied"] == "paired_bootstrap"
    assert (wide["test"]["level"], wide["test"]["method"], wide["test"]["seed"]) == ("seeds_x_examples", "percentile", 11)
    expected = paired_two_level_bootstrap(
        scores_of("wide").argmax(axis=2), scores_of("baseline").argmax(axis=2), y_true=Y_TRUE, metric="f1_macro",
        resamples=2000, seed=11,
    )  # fmt: skip
    assert wide["p_value"] == expected.p_value
    assert wide["ci"] == [expected.ci_low, expected.ci_high]
    assert wide["test"]["estimate"] == pytest.approx(wide["mean"], abs=1e-12)  # the same difference, two routes
    assert result["resampling"] == {"seed": 11, "resamples": 2000, "method": "percentile", "level": "seeds_x_examples"}
    again = evaluate_experiment(resolved, tmp_path)
    assert again == result  # the resampling seed makes the evaluation reproducible


#: Metrics sections recording the probability metrics too (write_run records primary and secondary).
ALL_CLASSIFICATION = {"primary": "f1_macro", "secondary": ["accuracy", "log_loss", "auroc", "auprc"]}


def test_a_bootstrap_over_seeds_is_used_for_a_metric_without_an_example_level_path(tmp_path):
    comparisons = [{"treatment": "wide", "control": "baseline", "metric": "auprc"}]
    resolved = resolved_spec(evaluation={"comparisons": comparisons, "resamples": 1000}, metrics=ALL_CLASSIFICATION)
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    (comparison,) = result["comparisons"]
    assert comparison["test"]["applied"] == "paired_bootstrap" and comparison["test"]["level"] == "seeds"
    assert comparison["test"]["note"].startswith("auprc is bootstrapped over seeds only, not examples: average precision")
    assert any(note.startswith("wide-vs-baseline: auprc is bootstrapped over seeds only") for note in result["notes"])
    assert "seeds only" in format_table(result)  # the written evaluation says so too


@pytest.mark.parametrize("metric, resampled", [("auroc", "auroc"), ("log_loss", "mean"), ("accuracy", "labels")])
def test_a_classification_comparison_is_resampled_over_seeds_and_examples(tmp_path, metric, resampled):
    from rigorml.runtime.stats.bootstrap import paired_two_level_bootstrap

    comparisons = [{"treatment": "wide", "control": "baseline", "metric": metric}]
    resolved = resolved_spec(evaluation={"comparisons": comparisons, "resamples": 1000, "seed": 5}, metrics=ALL_CLASSIFICATION)
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    (comparison,) = result["comparisons"]
    test = comparison["test"]
    assert (test["level"], test["resampled"]) == ("seeds_x_examples", resampled) and test.get("note") is None
    assert result["resampling"]["level"] == "seeds_x_examples"
    assert test["estimate"] == pytest.approx(comparison["mean"], rel=1e-6, abs=1e-9)  # the number the report shows
    if metric == "auroc":  # the saved logits, as the registry takes them
        expected = paired_two_level_bootstrap(scores_of("wide"), scores_of("baseline"), y_true=Y_TRUE, metric="auroc",
                                              resamples=1000, seed=5)  # fmt: skip
        assert comparison["p_value"] == expected.p_value and comparison["ci"] == [expected.ci_low, expected.ci_high]


def write_task_runs(root: Path, resolved: dict, y_true: np.ndarray, scores_of_run) -> None:
    """Every arm x seed of ``resolved`` with the given targets and ``scores_of_run(arm, seed)``."""
    for arm in resolved["variants"]:
        for seed in resolved["seeds"]["replicates"]:
            write_run(root, resolved, arm, seed, ids=np.arange(len(y_true)), y_true=y_true, scores=scores_of_run(arm, seed))


def task_spec(task: str, primary: str, secondary: list[str], comparisons: list[str]) -> dict:
    return resolved_spec(
        experiment={"name": f"eval-{task}", "task": task},
        seeds={"replicates": 3},
        data={"source": "eval_data:load"},
        model={"source": "eval_models:build"},
        variants={"baseline": {"role": "baseline"}, "better": {}},
        metrics={"primary": primary, "secondary": secondary},
        evaluation={"comparisons": [{"treatment": "better", "control": "baseline", "metric": m} for m in comparisons],
                    "resamples": 1000},
    )  # fmt: skip


def test_ranking_comparisons_resample_queries_within_seeds(tmp_path):
    resolved = task_spec("ranking", "ndcg@3", ["mrr"], ["ndcg@3", "mrr"])
    rng = np.random.default_rng(0)
    relevance = rng.integers(0, 3, (40, 6)).astype(np.float64)
    relevance[:5, -1] = -1  # padded lists

    def scores(arm, seed):
        noise = np.random.default_rng([seed, arm == "better"]).normal(size=relevance.shape)
        return relevance * (1.0 if arm == "better" else 0.5) + noise

    write_task_runs(tmp_path, resolved, relevance, scores)
    ndcg, mrr = evaluate_experiment(resolved, tmp_path)["comparisons"]
    for comparison, rel in ((ndcg, 1e-12), (mrr, 1e-6)):  # torchmetrics computes MRR in float32
        assert (comparison["test"]["level"], comparison["test"]["resampled"]) == ("seeds_x_examples", "mean")
        assert comparison["test"]["estimate"] == pytest.approx(comparison["mean"], rel=rel)
        assert comparison["ci_method"] == "paired bootstrap (percentile, seeds x examples)"


def test_perplexity_comparisons_resample_sequences_within_seeds(tmp_path):
    resolved = task_spec("language_modeling", "perplexity", [], ["perplexity"])
    rng = np.random.default_rng(1)
    targets = rng.integers(0, 50, (30, 12))
    targets[:, 9:] = -100

    def scores(arm, seed):
        scale = 2.0 if arm == "better" else 2.3
        return np.random.default_rng([seed, arm == "better"]).exponential(scale, targets.shape)

    write_task_runs(tmp_path, resolved, targets, scores)
    (comparison,) = evaluate_experiment(resolved, tmp_path)["comparisons"]
    assert (comparison["test"]["level"], comparison["test"]["resampled"]) == ("seeds_x_examples", "sums")
    assert comparison["test"]["estimate"] == pytest.approx(comparison["mean"], rel=1e-12)
    assert comparison["favours"] == "treatment" and comparison["direction"] == "lower is better"


def test_detection_map_comparisons_resample_images_within_seeds(tmp_path):
    pytest.importorskip("pycocotools")
    from rigorml.runtime.metrics import pad_per_image

    resolved = task_spec("detection", "map_50", ["map"], ["map_50", "map"])
    truth = pad_per_image([[[10, 10, 50, 50, 0]], [[20, 20, 60, 70, 1], [5, 5, 15, 15, 0]], [[0, 0, 30, 30, 1]]] * 3, 5)

    def scores(arm, seed):
        rng = np.random.default_rng([seed, arm == "better"])
        shift = (2.0 if arm == "better" else 6.0) * rng.random(truth.shape[:2])[..., None]
        boxes = truth[..., :4] + shift
        return np.concatenate([boxes, rng.random(truth.shape[:2])[..., None], truth[..., 4:]], axis=2)

    write_task_runs(tmp_path, resolved, truth, scores)
    result = evaluate_experiment(resolved, tmp_path)
    for comparison in result["comparisons"]:
        test = comparison["test"]
        assert (test["level"], test["resampled"]) == ("seeds_x_examples", "coco") and test.get("note") is None
        assert test["estimate"] == pytest.approx(comparison["mean"], rel=1e-12, abs=1e-12)  # the number the report shows
        assert comparison["ci_method"] == "paired bootstrap (percentile, seeds x examples)"
    assert not any("over seeds only" in note for note in result["notes"])


def test_a_per_example_form_that_disagrees_with_the_registry_falls_back_to_seeds(tmp_path, monkeypatch):
    # A guard, not a path the registry takes: were a library to change what it computes, the
    # evaluation must not resample a different metric than the one it reports.
    from rigorml.runtime import example_level

    real = example_level.example_form

    def off_by_a_bit(metric, task):
        form = real(metric, task)
        return example_level.ExampleForm(form.metric, form.kind, form.bootstrap_metric, lambda y, s: form.per_run(y, s) + 0.01)

    monkeypatch.setattr(example_level, "example_form", off_by_a_bit)
    comparisons = [{"treatment": "wide", "control": "baseline", "metric": "log_loss"}]
    resolved = resolved_spec(evaluation={"comparisons": comparisons, "resamples": 500})
    write_all(tmp_path, resolved)
    (comparison,) = evaluate_experiment(resolved, tmp_path)["comparisons"]
    assert comparison["test"]["level"] == "seeds"
    assert "its per-example form gives" in comparison["test"]["note"] and "where the registry computes" in comparison["test"]["note"]


def test_declared_t_test_wilcoxon_and_permutation_tests_are_applied_over_seeds(tmp_path):
    comparisons = [
        {"treatment": "wide", "control": "baseline", "test": "t_test", "alternative": "greater"},
        {"treatment": "deep", "control": "baseline", "test": "wilcoxon"},
        {"treatment": "wide", "control": "deep", "test": "permutation"},
    ]
    resolved = resolved_spec(evaluation={"comparisons": comparisons, "correction": "none"})
    write_all(tmp_path, resolved)
    t_test, wilcoxon, permutation = evaluate_experiment(resolved, tmp_path)["comparisons"]
    wide = [metric_of("wide", s) for s in range(4)]
    deep = [metric_of("deep", s) for s in range(4)]
    base = [metric_of("baseline", s) for s in range(4)]
    assert (t_test["test"]["applied"], wilcoxon["test"]["applied"], permutation["test"]["applied"]) == (
        "t_test", "wilcoxon", "permutation",
    )  # fmt: skip
    assert t_test["p_value"] == pytest.approx(stats.ttest_rel(wide, base, alternative="greater").pvalue, rel=1e-12)
    assert wilcoxon["p_value"] == pytest.approx(stats.wilcoxon(np.subtract(deep, base)).pvalue, rel=1e-12)
    assert wilcoxon["p_adjusted"] == wilcoxon["p_value"]  # correction: none
    exact = stats.permutation_test(
        (np.array(wide), np.array(deep)), lambda a, b: np.mean(a - b), permutation_type="samples", n_resamples=np.inf
    )  # fmt: skip
    assert permutation["test"]["exact"] and permutation["p_value"] == pytest.approx(exact.pvalue, rel=1e-12)


def test_a_declared_mcnemar_test_is_exact_per_seed_and_combined_by_the_largest_p(tmp_path):
    from statsmodels.stats.contingency_tables import mcnemar

    comparisons = [{"treatment": "wide", "control": "baseline", "test": "mcnemar"}]
    resolved = resolved_spec(evaluation={"comparisons": comparisons})
    write_all(tmp_path, resolved)
    (comparison,) = evaluate_experiment(resolved, tmp_path)["comparisons"]
    expected = []
    for seed in range(4):
        right = [synthetic_scores(arm, seed).argmax(axis=1) == Y_TRUE for arm in ("wide", "baseline")]
        table = [[np.sum(right[0] & right[1]), np.sum(right[0] & ~right[1])], [np.sum(~right[0] & right[1]), np.sum(~right[0] & ~right[1])]]
        expected.append(mcnemar(table, exact=True).pvalue)
    assert [entry["p_value"] for entry in comparison["test"]["per_seed"]] == pytest.approx(expected, rel=1e-12)
    assert comparison["p_value"] == pytest.approx(max(expected), rel=1e-12)


def test_an_unpaired_comparison_gets_welchs_t_test(tmp_path):
    comparisons = [{"treatment": "wide", "control": "baseline", "paired": False, "test": "t_test"}]
    resolved = resolved_spec(evaluation={"comparisons": comparisons})
    write_all(tmp_path, resolved)
    (comparison,) = evaluate_experiment(resolved, tmp_path)["comparisons"]
    wide, base = ([metric_of(arm, s) for s in range(4)] for arm in ("wide", "baseline"))
    assert comparison["test"]["applied"] == "welch_t_test"
    assert comparison["p_value"] == pytest.approx(stats.ttest_ind(wide, base, equal_var=False).pvalue, rel=1e-12)


def test_a_lower_is_better_metric_favours_the_arm_with_the_lower_value(tmp_path):
    comparisons = [{"treatment": "wide", "control": "baseline", "metric": "log_loss"}]
    resolved = resolved_spec(evaluation={"comparisons": comparisons})
    write_all(tmp_path, resolved)
    (comparison,) = evaluate_experiment(resolved, tmp_path)["comparisons"]
    assert comparison["direction"] == "lower is better" and comparison["metric"] == "log_loss"
    assert comparison["mean"] < 0 and comparison["favours"] == "treatment"  # wide has the lower log loss


@pytest.mark.parametrize("name", ["cohens_dz", "cohens_dav", "hedges_g"])
def test_the_declared_effect_size_is_reported_with_its_interval(tmp_path, name):
    from rigorml.runtime.stats.effect_sizes import effect_size

    resolved = resolved_spec(evaluation={"baseline": "baseline", "effect_size": name, "resamples": 500})
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    assert result["effect_size"] == {"declared": name, "reported": name}
    wide = result["comparisons"][0]
    expected = effect_size(name, [metric_of("wide", s) for s in range(4)], [metric_of("baseline", s) for s in range(4)])
    assert wide["effect_size"]["name"] == name and wide["effect_size"]["estimate"] == pytest.approx(expected.estimate)
    assert wide["effect_size"]["ci"] == pytest.approx(expected.ci)


@pytest.mark.parametrize(
    "mean, ci, p, verdict",
    [
        (0.05, [0.03, 0.07], 0.001, "improvement"),
        (-0.05, [-0.07, -0.03], 0.001, "regression"),
        (0.004, [0.002, 0.006], 0.001, "below_minimum_effect"),
        (0.001, [-0.005, 0.007], 0.4, "equivalent"),
        (0.02, [-0.01, 0.05], 0.2, "no_evidence"),
        (None, None, None, "untested"),
    ],
)
def test_verdicts_weigh_the_corrected_p_against_the_minimum_effect(mean, ci, p, verdict):
    from rigorml.runtime.evaluate import with_verdict

    comparison = {"treatment": "wide", "control": "base", "metric": "f1_macro", "mean": mean, "ci": ci,
                  "p_adjusted": p, "favours": None if mean is None else "treatment" if mean > 0 else "control",
                  "test": {"note": None}}  # fmt: skip
    assert with_verdict(comparison, minimum_effect=0.01, alpha=0.05)["verdict"] == verdict


@pytest.mark.parametrize("family, method", [("exploratory", "bh"), ("confirmatory", "bonferroni")])
def test_an_auto_correction_follows_the_family(tmp_path, family, method):
    resolved = resolved_spec()
    resolved["evaluation"].update(correction="auto", family=family)  # as a hand-written config might say
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    assert result["correction"]["method"] == method
    p_values = [c["p_value"] for c in result["comparisons"]]
    assert [c["p_adjusted"] for c in result["comparisons"]] == adjust_p_values(p_values, method)


def test_a_config_that_names_only_a_baseline_gets_every_other_arm_against_it():
    resolved = resolved_spec()
    resolved["evaluation"]["comparisons"] = []  # as a hand-written config might leave it
    assert [(c["treatment"], c["control"], c["metric"], c["test"]) for c in planned_comparisons(resolved)] == [
        ("deep", "baseline", "f1_macro", "paired_bootstrap"),
        ("wide", "baseline", "f1_macro", "paired_bootstrap"),
    ]


def test_without_comparisons_only_the_arms_are_summarised(tmp_path):
    resolved = resolved_spec(variants={}, evaluation={})
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    assert result["arms"] == ["base"] and result["comparisons"] == []
    assert result["correction"]["size"] == 0 and "## Comparisons" not in format_table(result)


# --- corrections ----------------------------------------------------------------------------------

#: Benjamini & Hochberg (1995), section 4.1: 15 p-values from a clinical trial. At level 0.05 the
#: Bonferroni and Holm procedures reject 3 hypotheses and the BH procedure rejects 4.
BH_1995 = [0.0201, 0.7590, 0.0001, 0.0278, 0.0004, 0.3240, 0.0019, 0.0298, 0.4262, 0.0095, 0.0344,
           0.5719, 0.0459, 1.0, 0.6528]  # fmt: skip


@pytest.mark.parametrize("method, rejected", [("bh", 4), ("holm", 3), ("bonferroni", 3), ("none", 9)])
def test_the_benjamini_hochberg_1995_example(method, rejected):
    adjusted = adjust_p_values(BH_1995, method)
    assert sum(p <= 0.05 for p in adjusted) == rejected
    significant = sorted(p for p, q in zip(BH_1995, adjusted) if q <= 0.05)
    assert significant == sorted(BH_1995)[:rejected]  # the smallest ones, whatever the input order


def test_bh_adjusted_values_by_hand():
    adjusted = dict(zip(BH_1995, adjust_p_values(BH_1995, "bh")))
    assert adjusted[0.0095] == pytest.approx(15 / 4 * 0.0095)  # 0.0356: the 4th is rejected
    assert adjusted[0.0201] == pytest.approx(15 / 5 * 0.0201)  # 0.0603
    assert adjusted[0.0278] == pytest.approx(15 / 7 * 0.0298)  # a later, smaller value carries back
    assert adjusted[1.0] == 1.0


def test_holm_and_by_adjusted_values_by_hand():
    # Holm: 0.01 x 3, max(0.03, 0.02 x 2) = 0.04, max(0.04, 0.03 x 1) = 0.04.
    assert adjust_p_values([0.03, 0.01, 0.02], "holm") == pytest.approx([0.04, 0.03, 0.04])
    # BY: BH (0.03 for all three) times 1 + 1/2 + 1/3.
    assert adjust_p_values([0.01, 0.02, 0.03], "by") == pytest.approx([0.03 * 11 / 6] * 3)
    assert adjust_p_values([0.2, 0.5], "bonferroni") == [0.4, 1.0]


def test_unknown_corrections_and_p_values_outside_0_1_are_refused():
    with pytest.raises(ValueError, match="unknown correction"):
        adjust_p_values([0.1], "sidak")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_p_values([1.5], "holm")
    assert adjust_p_values([], "bh") == []


@pytest.mark.parametrize("method, name", [("holm", "holm"), ("bonferroni", "bonferroni"), ("bh", "fdr_bh"), ("by", "fdr_by")])
def test_corrections_agree_with_statsmodels(method, name):
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(3)
    for size in (1, 2, 5, 20):
        p = np.concatenate([rng.uniform(0, 0.05, size // 2), rng.uniform(0, 1, size - size // 2)])
        p[rng.integers(0, size)] = p[0]  # a tie
        reject, expected, _, _ = multitest.multipletests(p, alpha=0.05, method=name)
        adjusted = adjust_p_values(list(p), method)
        assert adjusted == pytest.approx(list(expected), abs=1e-15)
        assert [q <= 0.05 for q in adjusted] == list(reject)
    reject, expected, _, _ = multitest.multipletests(BH_1995, alpha=0.05, method=name)
    assert adjust_p_values(BH_1995, method) == pytest.approx(list(expected), abs=1e-15)


# --- writing --------------------------------------------------------------------------------------


def test_write_evaluation_writes_json_and_markdown_atomically_and_deterministically(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path / "runs", resolved)
    result = evaluate_experiment(resolved, tmp_path / "runs")
    json_path, md_path = write_evaluation(result, tmp_path / "out" / "evaluation.json")
    assert md_path == tmp_path / "out" / "evaluation.md"
    assert json.loads(json_path.read_text(encoding="utf-8")) == json.loads(json.dumps(result))
    assert md_path.read_text(encoding="utf-8") == format_table(result)
    assert sorted(os.listdir(tmp_path / "out")) == ["evaluation.json", "evaluation.md"]  # no temp files
    first = json_path.read_bytes()
    write_evaluation(evaluate_experiment(resolved, tmp_path / "runs"), json_path)
    assert json_path.read_bytes() == first  # no timestamps: the same runs give the same bytes
    assert str(tmp_path).encode() not in first  # and no absolute paths


def test_the_result_is_strict_json_with_versions(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    result = evaluate_experiment(resolved, tmp_path)
    json.dumps(result, allow_nan=False)
    assert set(result["versions"]) == {"python", "rigorml", "numpy", "scipy", "scikit-learn", "numba"}
    assert result["versions"]["numpy"] == np.__version__
    assert result["versions"]["numba"] == __import__("numba").__version__


def test_the_markdown_has_a_table_per_metric_and_the_comparisons(tmp_path):
    resolved = resolved_spec()
    write_all(tmp_path, resolved)
    text = format_table(evaluate_experiment(resolved, tmp_path))
    assert text.startswith("# Evaluation of eval-test (test split)\n")
    assert "## f1_macro (primary)" in text and "## accuracy" in text and "## log_loss" in text
    assert "| arm | n | mean | sd | 95% CI | median | IQM |" in text
    assert "| wide-vs-baseline | f1_macro | 4 |" in text and "p (holm)" in text


def test_markdown_cells_stay_in_their_row(tmp_path):
    comparisons = [{"name": "a | b\nc", "treatment": "wide", "control": "baseline"}]
    resolved = resolved_spec(evaluation={"comparisons": comparisons})
    write_all(tmp_path, resolved)
    text = format_table(evaluate_experiment(resolved, tmp_path))
    assert "| a \\| b\\nc | f1_macro |" in text


# --- real runs and the compiled evaluate.py ---------------------------------------------------------

REAL_SPEC = """\
version: 1
experiment: {name: eval-real, task: classification}
seeds: {replicates: 3}
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
metrics: {secondary: [accuracy, auroc, log_loss]}
evaluation: {baseline: baseline, correction: holm}
"""


def python(*args, cwd=None, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "RIGORML_DEBUG"}
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)  # fmt: skip


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory):
    """A compiled project whose train.py --all trained every run into runs/eval-real/."""
    pytest.importorskip("torch")
    base = tmp_path_factory.mktemp("real")
    (base / "spec.yaml").write_text(REAL_SPEC, encoding="utf-8")
    done = python("-m", "rigorml.compiler", "compile", base / "spec.yaml", "-o", base / "project")
    assert done.returncode == 0, done.stderr
    done = python(base / "project" / "train.py", "--all")
    assert done.returncode == 0, done.stderr
    return base / "project"


def test_real_runs_are_paired_and_their_metrics_recompute_exactly(trained_project):
    resolved = json.loads((trained_project / "config.resolved.json").read_text(encoding="utf-8"))
    runs = trained_project / "runs" / "eval-real"
    result = evaluate_experiment(resolved, runs)
    assert result["complete"] and len(result["runs_evaluated"]) == 6
    assert result["examples"] == 23  # 15% of iris's 150
    for arm in ("baseline", "wide"):
        for metric in ("f1_macro", "accuracy", "auroc", "log_loss"):
            recorded = [
                json.loads((runs / arm / f"seed-{s}" / "result.json").read_text())["metrics"][f"test/{metric}"]
                for s in range(3)
            ]
            assert result["per_arm"][arm][metric]["values"] == recorded
    (comparison,) = result["comparisons"]
    assert comparison["name"] == "wide-vs-baseline" and comparison["n"] == 3


def test_generated_evaluate_py_writes_the_evaluation(trained_project, tmp_path):
    done = python(trained_project / "evaluate.py", "-o", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "## f1_macro (primary)" in done.stdout and "wide-vs-baseline" in done.stdout
    written = json.loads((tmp_path / "evaluation.json").read_text(encoding="utf-8"))
    resolved = json.loads((trained_project / "config.resolved.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(evaluate_experiment(resolved, trained_project / "runs" / "eval-real")))
    assert (tmp_path / "evaluation.md").read_text(encoding="utf-8") == done.stdout


def test_generated_evaluate_py_writes_next_to_the_runs_by_default(trained_project, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(trained_project / "runs" / "eval-real", runs)
    done = python(trained_project / "evaluate.py", "--runs", runs)
    assert done.returncode == 0, done.stderr
    assert json.loads((runs / "evaluation.json").read_text())["complete"] is True


def test_generated_evaluate_py_exits_1_when_runs_are_missing(trained_project, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(trained_project / "runs" / "eval-real", runs)
    shutil.rmtree(runs / "wide" / "seed-2")
    done = python(trained_project / "evaluate.py", "--runs", runs)
    assert done.returncode == 1
    assert "1 run(s) missing or unfinished" in done.stderr and "python train.py --all" in done.stderr
    assert "- wide/seed-2: not run (no run directory)" in done.stdout
    assert json.loads((runs / "evaluation.json").read_text())["complete"] is False


def test_generated_evaluate_py_exits_1_when_there_is_nothing_to_evaluate(trained_project, tmp_path):
    done = python(trained_project / "evaluate.py", "--runs", tmp_path / "nothing")
    assert done.returncode == 1
    assert "evaluate.py: nothing to evaluate" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "nothing" / "evaluation.json").exists()


def test_generated_evaluate_py_refuses_a_changed_config(trained_project, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(trained_project, project, ignore=shutil.ignore_patterns("runs"))
    config = json.loads((project / "config.resolved.json").read_text(encoding="utf-8"))
    config["evaluation"]["alpha"] = 0.5
    (project / "config.resolved.json").write_text(json.dumps(config), encoding="utf-8")
    done = python(project / "evaluate.py", "--runs", trained_project / "runs" / "eval-real", "-o", tmp_path)
    assert done.returncode == 1 and "changed since it was compiled" in done.stderr
    assert not (tmp_path / "evaluation.json").exists()


def test_generated_evaluate_py_help_does_not_import_scipy(trained_project):
    done = python("-X", "importtime", trained_project / "evaluate.py", "--help")
    assert done.returncode == 0 and "--runs" in done.stdout and "-o OUTPUT, --output OUTPUT" in done.stdout
    assert "scipy" not in done.stderr and "rigorml.runtime.evaluate" not in done.stderr


def test_evaluating_needs_no_torch_and_gives_the_same_result_without_it(tmp_path):
    # torch is only asked whether a GPU is there for the resampling; without it numpy draws alike.
    resolved = resolved_spec(evaluation={"baseline": "baseline", "resamples": 500})
    write_all(tmp_path, resolved)
    (tmp_path / "config.json").write_text(json.dumps(resolved), encoding="utf-8")
    code = (
        "import json, sys\n"
        "class NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch': raise ImportError('no torch here')\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "from rigorml.runtime.evaluate import evaluate_experiment\n"
        f"print(json.dumps(evaluate_experiment(json.load(open({str(tmp_path / 'config.json')!r})), {str(tmp_path)!r})))\n"
        "assert 'torch' not in sys.modules"
    )
    done = python("-c", code)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(json.dumps(evaluate_experiment(resolved, tmp_path)))


# --- win rate from an LLM judge ---------------------------------------------------------------------

JUDGES = '''
def longer(request):
    """Prefers the longer answer: consistent, blind to position."""
    a, b = request["answer_a"], request["answer_b"]
    return {"verdict": "A" if len(a) > len(b) else "B" if len(b) > len(a) else "tie"}


def first(request):
    """Always answers "A": a judge that prefers a position, not an answer."""
    return {"verdict": "A"}
'''


def generation_spec(tmp_path, judge: str, labels: bool) -> dict:
    (tmp_path / "eval_judges.py").write_text(JUDGES, encoding="utf-8")
    llm_judge = {"callable": f"eval_judges:{judge}", "model": "local-test-judge"}
    if labels:
        rows = [json.dumps({"id": str(i), "label": "treatment" if i < 6 else "control"}) for i in range(8)]
        (tmp_path / "labels.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
        llm_judge["human_agreement"] = {"labels": "labels.jsonl", "min_kappa": 0.6}
    return resolved_spec(
        experiment={"name": "judge-test", "task": "generation"},
        seeds={"replicates": 2},
        data={"source": "eval_data:load"},
        model={"source": "eval_models:build"},
        variants={"short": {"role": "baseline"}, "long": {}},
        metrics={"primary": "exact_match", "secondary": ["win_rate"]},
        llm_judge=llm_judge,
        evaluation={"comparisons": [{"treatment": "long", "control": "short", "metric": "win_rate"}]},
    )


def write_generation_runs(root: Path, resolved: dict) -> None:
    references = np.array([f"reference {i}" for i in range(8)])
    for arm in ("short", "long"):
        for seed in (0, 1):
            # The long arm answers the first six questions at greater length, the short arm the last two.
            outputs = [f"answer {i}" + (" with more detail" if (i < 6) == (arm == "long") else "") for i in range(8)]
            run_dir = write_run(root, resolved, arm, seed, ids=np.arange(8), y_true=references, scores=np.array(outputs))
            rows = [json.dumps({"id": str(i), "prompt": f"question {i}", "output": out}) for i, out in enumerate(outputs)]
            (run_dir / "predictions" / "test.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_a_win_rate_comparison_is_judged_seed_by_seed_and_sign_tested(tmp_path):
    resolved = generation_spec(tmp_path, "longer", labels=True)
    write_generation_runs(tmp_path / "runs", resolved)
    result = evaluate_experiment(resolved, tmp_path / "runs", base_dir=tmp_path)
    (comparison,) = result["comparisons"]
    judge = comparison["judge"]
    assert judge["counts"] == {"treatment": 12, "control": 4, "tie": 0} and judge["win_rate"] == 0.75
    assert not judge["judge_untrusted"] and not result["judge_untrusted"]
    assert [entry["human_agreement"]["passed"] for entry in judge["per_seed"]] == [True, True]
    assert comparison["test"]["applied"] == "sign_test"
    assert comparison["p_value"] == pytest.approx(stats.binomtest(12, 16, 0.5).pvalue)
    assert comparison["favours"] == "treatment" and comparison["verdict"] == "no_evidence"  # p = 0.077 at 16


def test_a_judge_that_fails_the_human_agreement_check_gives_no_verdict(tmp_path):
    resolved = generation_spec(tmp_path, "first", labels=True)
    write_generation_runs(tmp_path / "runs", resolved)
    result = evaluate_experiment(resolved, tmp_path / "runs", base_dir=tmp_path)
    (comparison,) = result["comparisons"]
    assert result["judge_untrusted"] and comparison["judge"]["judge_untrusted"]
    assert comparison["p_value"] is None and comparison["verdict"] == "untested"
    assert "untrusted" in comparison["test"]["note"]
    assert comparison["judge"]["per_seed"][0]["position_bias"]["rate"] == 1.0
