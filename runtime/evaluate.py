"""Evaluating an experiment from its saved predictions: what a compiled ``evaluate.py`` calls.

``evaluate_experiment(resolved, runs_root)`` reads every arm x replicate seed run under
``runs_root/<arm>/seed-<seed>/`` (``result.json`` and ``predictions/<split>.npz``, as
:func:`rigorml.runtime.train.train_run` leaves them) and returns one JSON-ready dict:

* which runs were evaluated and which could not be, and why (not run, unfinished, another
  configuration, no predictions for the split);
* a pairing check: every run holds the same examples, in the same order, with the same labels;
  comparisons between arms are paired on that;
* each declared metric recomputed from the saved predictions with :mod:`rigorml.runtime.metrics`
  and checked against what ``result.json`` recorded (they must agree);
* per arm and metric, over the replicate seeds: mean, sample sd, n, a t confidence interval,
  median and interquartile mean;
* per preregistered comparison, the paired per-seed differences treatment - control: mean, sd,
  t interval, Cohen's d_z, a p-value, and the declared correction applied over the family.

The p-value comes from the declared test, applied as declared (:data:`IMPLEMENTED_TESTS`): the
paired bootstrap at ``evaluation.bootstrap.level``, resampling examples within seeds through each
metric's example-level form (:mod:`rigorml.runtime.example_level`); where that cannot be done (a
metric without such a form, such as AUPRC) or a test is undefined, each comparison's ``test``
entry and ``notes`` say what ran instead and why.

``write_evaluation(result, path)`` writes ``evaluation.json`` atomically and ``evaluation.md`` (the
tables :func:`format_table` prints) next to it. The output holds no timestamps or absolute paths:
the same runs give the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .config import spec_hash
from .metrics import metric_function, predicted_labels
from .stats import aggregate, corrections
from .tracking import write_atomic, write_json_atomic

#: Statuses of a run that ended with a final evaluation (``pruned`` sweep trials have none).
FINISHED = ("finished", "early_stopped")

#: The declared tests, each applied as declared (schemas/evaluation.py ``Test``).
IMPLEMENTED_TESTS = ("paired_bootstrap", "permutation", "mcnemar", "wilcoxon", "t_test")
#: An unpaired comparison (``paired: false``) gets Welch's t-test over seeds.
FALLBACK_TEST = "t_test"

#: Corrections for a family of p-values (``auto`` is resolved through ``evaluation.family``).
CORRECTIONS = corrections.METHODS

#: How close a recomputed metric must be to the one ``result.json`` recorded. Both come from the
#: same scikit-learn function on the same float32 scores, so they agree to the last bit; the
#: tolerance only absorbs a JSON round trip.
REL_TOLERANCE, ABS_TOLERANCE = 1e-9, 1e-12


class EvaluationError(RuntimeError):
    """Nothing can be evaluated, the runs are not paired, or the saved predictions disagree with
    ``result.json``. The message says which runs and what to do."""


@dataclass
class _Run:
    """One run's evaluation inputs."""

    arm: str
    seed: int
    ids: np.ndarray
    y_true: np.ndarray
    scores: np.ndarray
    recorded: dict[str, float]

    @property
    def label(self) -> str:
        return f"{self.arm}/seed-{self.seed}"


# --- the pass -----------------------------------------------------------------------------------


def evaluate_experiment(resolved: dict, runs_root: str | Path, *, base_dir: str | Path = ".") -> dict[str, Any]:
    """Evaluate every run of ``resolved`` found under ``runs_root`` on ``evaluation.split``.

    Inputs: ``resolved``, the resolved spec as JSON data (``config.resolved.json``); ``runs_root``,
    the folder holding ``<arm>/seed-<seed>/`` for every arm (the variants, or ``base``) and
    replicate seed.

    Output: a JSON-serialisable dict (see the module docstring); ``missing`` lists the runs that
    could not be evaluated with the reason, and ``complete`` is false when there are any.

    ``base_dir``: the spec's folder, where an LLM judge's ``module:function``, command and human
    labels are found (``win_rate`` comparisons judge each run's ``predictions/<split>.jsonl``:
    one ``{"id", "prompt", "output"}`` object per line).

    Errors: :class:`EvaluationError` when no run can be evaluated, when runs hold different
    examples or labels (naming them), or when a metric recomputed from a run's predictions differs
    from the value its ``result.json`` recorded.
    """
    import platform

    import scipy
    import sklearn

    runs_root = Path(runs_root)
    evaluation = resolved.get("evaluation") or {}
    split = evaluation.get("split", "test")
    confidence = float(evaluation.get("confidence", 0.95))
    alpha = float(evaluation.get("alpha", 0.05))
    task = resolved["experiment"]["task"]
    digest = spec_hash(resolved)
    arms = arm_names(resolved)
    seeds = list(resolved["seeds"]["replicates"])
    primary = resolved["metrics"]["primary"]
    comparisons = planned_comparisons(resolved)
    metrics = _unique([primary, *resolved["metrics"]["secondary"], *(c["metric"] for c in comparisons)])

    runs, missing = [], []
    for arm in arms:
        for seed in seeds:
            run, reason = _load_run(runs_root, arm, seed, split, digest)
            if run is None:
                missing.append({"arm": arm, "seed": seed, "run_dir": f"{arm}/seed-{seed}", "reason": reason})
            else:
                runs.append(run)
    if not runs:
        reasons = "; ".join(f"{m['run_dir']}: {m['reason']}" for m in missing[:3])
        raise EvaluationError(
            f"nothing to evaluate in {runs_root}: none of the {len(missing)} runs ({len(arms)} arm(s) x "
            f"{len(seeds)} seed(s)) has finished with predictions for the {split} split ({reasons}"
            f"{'; ...' if len(missing) > 3 else ''}). Train them first (python train.py --all, or "
            "rigorml run SPEC), or point at the folder that holds ARM/seed-SEED."
        )
    _check_pairing(runs, split)
    values, sources, not_computed = _metric_values(runs, metrics, split, task)

    per_arm: dict[str, dict] = {}
    for arm in arms:
        per_arm[arm] = {}
        for metric in metrics:
            by_seed = values[metric].get(arm, {})
            if by_seed:
                per_arm[arm][metric] = {
                    **summarise_seeds(list(by_seed.values()), confidence),
                    "seeds": list(by_seed),
                    "values": list(by_seed.values()),
                }

    correction = _correction(evaluation)
    plan = _Plan.from_evaluation(evaluation, resolved, task, confidence)
    compared = [
        _judge_compare(c, resolved, runs_root, runs, split, confidence, base_dir)
        if c["metric"] == "win_rate"
        else _compare(c, values, confidence, plan, runs)
        for c in comparisons
    ]
    family = [i for i, c in enumerate(compared) if c["p_value"] is not None]
    adjusted = adjust_p_values([compared[i]["p_value"] for i in family], correction)
    for i, p in zip(family, adjusted):
        compared[i]["p_adjusted"] = p
        compared[i]["significant"] = p <= alpha
    minimum_effect = float(evaluation.get("minimum_effect") or 0.0)
    compared = [with_verdict(c, minimum_effect, alpha) for c in compared]
    notes = _notes(compared, family, not_computed)

    return {
        "experiment": resolved["experiment"]["name"],
        "task": task,
        "config_sha256": digest,
        "split": split,
        "complete": not missing,
        "arms": arms,
        "replicate_seeds": seeds,
        "runs_evaluated": [run.label for run in runs],
        "missing": missing,
        "examples": len(runs[0].ids),
        "primary": primary,
        "metrics": metrics,
        "metric_sources": sources,
        "not_computed": not_computed,
        "confidence": confidence,
        "per_arm": per_arm,
        "comparisons": compared,
        "effect_size": {"declared": plan.effect_size, "reported": plan.effect_size},
        "resampling": {"seed": plan.seed, "resamples": plan.resamples, "method": plan.method, "level": plan.level},
        "minimum_effect": minimum_effect,
        "correction": {
            "method": correction,
            "family": evaluation.get("family", "exploratory"),
            "alpha": alpha,
            "size": len(family),
        },
        "notes": notes,
        "judge_untrusted": any(c.get("judge", {}).get("judge_untrusted") for c in compared),
        "versions": {
            "python": platform.python_version(),
            "rigorml": _distribution_version("rigorml") or "0+unknown",
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            # The CPU bootstrap's kernels (each comparison records the backend that drew it).
            "numba": _distribution_version("numba"),
        },
    }


def arm_names(resolved: dict) -> list[str]:
    """The arms that ran, as the compiled project lists them: baseline-role variants first, then
    by name; ``["base"]`` when the spec declares no variants."""
    variants = resolved.get("variants") or {}
    if not variants:
        return ["base"]
    return sorted(sorted(variants), key=lambda name: (variants[name] or {}).get("role") != "baseline")


def planned_comparisons(resolved: dict) -> list[dict]:
    """The preregistered comparisons, each with ``name``, ``treatment``, ``control``, ``metric``,
    ``test``, ``paired`` and ``alternative`` filled in.

    The resolved spec already lists them (``evaluation.comparisons``; when the spec names only a
    ``baseline``, resolving adds every other arm against it). A config that lists none but names a
    baseline gets the same comparisons here, so the result does not depend on who filled them in.
    """
    evaluation = resolved.get("evaluation") or {}
    primary = resolved["metrics"]["primary"]
    declared = list(evaluation.get("comparisons") or [])
    baseline = evaluation.get("baseline")
    if not declared and baseline is not None:
        declared = [{"treatment": arm, "control": baseline} for arm in arm_names(resolved) if arm != baseline]
    out = []
    for comparison in declared:
        treatment, control = comparison["treatment"], comparison["control"]
        out.append(
            {
                "name": comparison.get("name") or f"{treatment}-vs-{control}",
                "treatment": treatment,
                "control": control,
                "metric": comparison.get("metric") or primary,
                "test": comparison.get("test") or "paired_bootstrap",
                "paired": comparison.get("paired", True),
                "alternative": comparison.get("alternative") or "two-sided",
            }
        )
    return out


# --- statistics over seeds ----------------------------------------------------------------------


def summarise_seeds(values: list[float], confidence: float = 0.95) -> dict[str, Any]:
    """Mean, sample sd (n - 1), n, a t confidence interval at ``confidence``, median and IQM, as
    JSON-ready data (:func:`rigorml.runtime.stats.aggregate.summarise`).

    The interval is mean +- t(n - 1) * sd / sqrt(n); sd and the interval are None for a single
    value. IQM, the interquartile mean, is the mean of the middle half of the values (a quarter
    cut from each end, the values at the cut weighted by the part of them inside): robust to one
    odd seed, and less noisy than the median.
    """
    return aggregate.summarise(values, confidence).as_dict()


def paired_difference(
    treatment: list[float], control: list[float], confidence: float = 0.95, alternative: str = "two-sided"
) -> dict[str, Any]:
    """The per-seed differences ``treatment - control`` (paired by seed, in the same order).

    Returns mean, sd, n and t interval of the differences (:func:`summarise_seeds`), ``d_z`` (mean
    over sd of the differences: Cohen's d for paired data; None when the differences do not
    vary), and ``t_test``: t, degrees of freedom and p-value of ``scipy.stats.ttest_rel`` with
    ``alternative`` about the difference (``greater``: treatment above control), None when it is
    undefined (fewer than two seeds, or differences that do not vary).
    """
    from scipy import stats

    t_values = np.asarray(treatment, dtype=np.float64)
    c_values = np.asarray(control, dtype=np.float64)
    if t_values.shape != c_values.shape:
        raise ValueError(f"paired values need the same length, not {len(t_values)} and {len(c_values)}")
    differences = t_values - c_values
    summary = summarise_seeds(list(differences), confidence)
    sd = summary["sd"]
    varies = sd is not None and sd > 0
    out = {
        "differences": [float(d) for d in differences],
        "mean": summary["mean"],
        "sd": sd,
        "n": summary["n"],
        "ci": summary["ci"],
        "d_z": summary["mean"] / sd if varies else None,
        "t_test": None,
    }
    if varies:
        test = stats.ttest_rel(t_values, c_values, alternative=alternative)
        out["t_test"] = {"t": float(test.statistic), "df": len(differences) - 1, "p_value": float(test.pvalue)}
    return out


def adjust_p_values(p_values: list[float], method: str) -> list[float]:
    """p-values adjusted for a family of tests, in the order given, as a list of floats.

    ``method``: ``none``, ``bonferroni``, ``holm``, ``bh`` or ``by``, as
    :func:`rigorml.runtime.stats.corrections.adjust` computes them (all capped at 1). A test
    rejects at level alpha when its adjusted p-value is <= alpha (the same decisions as
    statsmodels' ``multipletests`` with ``bonferroni``, ``holm``, ``fdr_bh``, ``fdr_by``).
    Raises ValueError for another method or a p-value outside [0, 1].
    """
    return [float(value) for value in corrections.adjust(p_values, method)]


# --- writing ------------------------------------------------------------------------------------


def write_evaluation(result: dict, path: str | Path) -> tuple[Path, Path]:
    """Write ``result`` to ``path`` (``evaluation.json``) atomically, and :func:`format_table`'s
    Markdown next to it (same name, ``.md``). Returns both paths. Raises OSError if either
    cannot be written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    markdown = path.with_suffix(".md")
    write_json_atomic(path, result)
    write_atomic(markdown, format_table(result).encode("utf-8"))
    return path, markdown


#: Where the evaluation is tracked, inside the runs folder (a run of the spec's tracking backend).
EVALUATION_RUN_DIR = "evaluation"


def track_evaluation(result: dict, resolved: dict, runs_root: str | Path) -> Path:
    """Track the evaluation as a run of its own with the spec's tracking backend, in
    ``runs_root/evaluation`` (named ``<experiment>-evaluation``, in the experiment's group):
    per arm and metric the mean over seeds (``{split}/{arm}/{metric}``), per comparison the mean
    difference, the interval, the p-values and the effect size (``{split}/{comparison}/...``),
    the resampling seed and versions as params, and evaluation.json as an artifact when it exists.
    A later evaluation is a resumed attempt of the same run; the latest values count. Returns the
    tracked run's directory."""
    from .tracking import open_tracker

    run_dir = Path(runs_root) / EVALUATION_RUN_DIR
    tracking = resolved.get("tracking") or {}
    split = result["split"]
    metrics: dict[str, float] = {}
    for arm, per_metric in result["per_arm"].items():
        for metric, summary in per_metric.items():
            metrics[f"{split}/{_slug(arm)}/{metric}"] = summary["mean"]
    for c in result["comparisons"]:
        prefix = f"{split}/{_slug(c['name'])}"
        values = {"mean_difference": c.get("mean"), "p_value": c.get("p_value"), "p_adjusted": c.get("p_adjusted")}
        if c.get("ci"):
            values.update(ci_low=c["ci"][0], ci_high=c["ci"][1])
        if (c.get("effect_size") or {}).get("estimate") is not None:
            values["effect_size"] = c["effect_size"]["estimate"]
        metrics.update({f"{prefix}/{key}": value for key, value in values.items() if value is not None})
    name = f"{result['experiment']}-evaluation"
    with open_tracker(tracking, run_dir, name, tracking.get("group"), resolved) as tracker:
        tracker.log_params(
            {
                "split": split,
                "correction": result["correction"]["method"],
                "alpha": result["correction"]["alpha"],
                "resampling": result.get("resampling"),
                "versions": result["versions"],
            }
        )
        tracker.set_tags({"rigorml.kind": "evaluation", "verdicts": ",".join(str(c.get("verdict")) for c in result["comparisons"])})
        if metrics:
            tracker.log_metrics(metrics, step=0, axis="epoch")
        evaluation_json = Path(runs_root) / "evaluation.json"
        if evaluation_json.is_file():
            tracker.log_artifact(evaluation_json)
    return run_dir


def _slug(name: str) -> str:
    """A name as one segment of a metric name: letters, digits, ``_`` and ``-`` kept."""
    return "".join(char if char.isalnum() or char in "_-" else "_" for char in str(name)) or "_"


def format_table(result: dict) -> str:
    """The evaluation as short Markdown: one table per metric (arms x summary statistics), the
    comparisons, the runs that are missing and the notes."""
    level = _percent(result["confidence"])
    lines = [
        f"# Evaluation of {_cell(result['experiment'])} ({_cell(result['split'])} split)",
        "",
        f"{len(result['runs_evaluated'])} of {len(result['arms']) * len(result['replicate_seeds'])} runs "
        f"evaluated on {result['examples']} examples; config sha256 `{result['config_sha256']}`.",
    ]
    for metric in result["metrics"]:
        rows = [(arm, stats[metric]) for arm, stats in result["per_arm"].items() if metric in stats]
        if not rows:
            continue
        primary = " (primary)" if metric == result["primary"] else ""
        lines += ["", f"## {_cell(metric)}{primary}", ""]
        lines += [f"| arm | n | mean | sd | {level} CI | median | IQM |", "|---|---:|---:|---:|---|---:|---:|"]
        for arm, s in rows:
            lines.append(
                f"| {_cell(arm)} | {s['n']} | {_num(s['mean'])} | {_num(s['sd'])} | {_interval(s['ci'])} "
                f"| {_num(s['median'])} | {_num(s['iqm'])} |"
            )
    if result["comparisons"]:
        method = result["correction"]["method"]
        lines += ["", "## Comparisons (treatment - control, paired by seed)", ""]
        lines += [
            f"| comparison | metric | n | mean difference | {level} CI | effect size [CI] | test | p | p ({method}) | verdict |",
            "|---|---|---:|---:|---|---|---|---:|---:|---|",
        ]
        for c in result["comparisons"]:
            effect = c.get("effect_size") or {}
            effect_text = (
                f"{_cell(effect['name'])} {_num(effect['estimate'])} {_interval(effect['ci'])}" if effect.get("estimate") is not None else "-"
            )
            lines.append(
                f"| {_cell(c['name'])} | {_cell(c['metric'])} | {c['n']} | {_num(c['mean'])} | {_interval(c['ci'])} "
                f"| {effect_text} | {_cell(c['test']['applied'] or '-')} | {_p(c['p_value'])} "
                f"| {_p(c['p_adjusted'])} | {_cell(c.get('verdict', '-').replace('_', ' '))} |"
            )
        lines += [""] + [f"- {_cell(c['verdict_text'])}" for c in result["comparisons"] if c.get("verdict_text")]
    if result["missing"]:
        lines += ["", "## Not evaluated", ""]
        lines += [f"- {_cell(m['run_dir'])}: {_cell(m['reason'])}" for m in result["missing"]]
    if result["notes"]:
        lines += ["", "## Notes", ""]
        lines += [f"- {_cell(note)}" for note in result["notes"]]
    return "\n".join(lines) + "\n"


# --- loading and checking runs ------------------------------------------------------------------


def _load_run(root: Path, arm: str, seed: int, split: str, digest: str) -> tuple[_Run | None, str]:
    """The run at ``root/arm/seed-<seed>``, or None and why it cannot be evaluated."""
    import json

    run_dir = root / arm / f"seed-{seed}"
    if not run_dir.is_dir():
        return None, "not run (no run directory)"
    try:
        result = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "no result.json (the run never started)"
    except (OSError, ValueError) as exc:
        return None, f"result.json cannot be read ({exc})"
    status = result.get("status")
    if status not in FINISHED:
        hint = "train it again to resume it" if status == "running" else "it has no final evaluation"
        return None, f"not finished (status {status!r}): {hint}"
    if result.get("config_sha256") != digest:
        recorded = str(result.get("config_sha256"))[:12]
        return None, f"trained with another configuration (sha256 {recorded}..., this one {digest[:12]}...)"
    predictions = run_dir / "predictions" / f"{split}.npz"
    if not predictions.is_file():
        why = " (training saves predictions for val and test only)" if split == "train" else ""
        return None, f"no predictions/{split}.npz{why}"
    try:
        with np.load(predictions, allow_pickle=False) as saved:
            ids, y_true, scores = saved["ids"], saved["y_true"], saved["scores"]
    except (OSError, ValueError, KeyError) as exc:
        return None, f"predictions/{split}.npz cannot be read ({exc})"
    if not len(ids) == len(y_true) == len(scores):
        return None, f"predictions/{split}.npz holds {len(ids)} ids, {len(y_true)} labels and {len(scores)} scores"
    return _Run(arm, seed, ids, y_true, scores, dict(result.get("metrics") or {})), ""


def _check_pairing(runs: list[_Run], split: str) -> None:
    """Every run holds the same examples in the same order with the same labels, or raise."""
    reference = runs[0]
    problems = []
    for run in runs[1:]:
        problem = _pairing_problem(reference, run)
        if problem:
            problems.append(f"{run.label}: {problem}")
    if problems:
        raise EvaluationError(
            f"the runs are not paired on the {split} split: compared with {reference.label}, "
            + "; ".join(problems)
            + ". Every arm and seed must be evaluated on the same examples (the split depends on "
            "data.split_seed only); retrain the runs named here with this configuration."
        )


def _pairing_problem(reference: _Run, run: _Run) -> str | None:
    if len(run.ids) != len(reference.ids):
        return f"{len(run.ids)} examples instead of {len(reference.ids)}"
    if not np.array_equal(run.ids, reference.ids):
        if np.array_equal(np.sort(run.ids), np.sort(reference.ids)):
            return "the same examples in a different order"
        at = int(np.flatnonzero(run.ids != reference.ids)[0])
        return f"different example ids (first at position {at}: {run.ids[at].item()!r} instead of {reference.ids[at].item()!r})"
    if run.y_true.shape != reference.y_true.shape:
        return f"labels of shape {run.y_true.shape} instead of {reference.y_true.shape}"
    if not np.array_equal(run.y_true, reference.y_true):
        # Labels are one row per example (a value, or a row of relevances, boxes or tokens).
        differs = (run.y_true != reference.y_true).reshape(len(run.y_true), -1).any(axis=1)
        at = int(np.flatnonzero(differs)[0])
        if run.y_true.ndim == 1:
            detail = f": {run.y_true[at].item()!r} instead of {reference.y_true[at].item()!r}"
        else:
            detail = ""
        return f"different labels (first for example {run.ids[at].item()!r}{detail})"
    return None


def _metric_values(runs: list[_Run], metrics: list[str], split: str, task: str):
    """``{metric: {arm: {seed: value}}}`` recomputed from the predictions where the runtime can,
    else taken from result.json; how each metric was obtained; metrics with no value at all.
    Raises EvaluationError when a recomputed value differs from the recorded one."""
    values: dict[str, dict[str, dict[int, float]]] = {metric: {} for metric in metrics}
    sources: dict[str, str] = {}
    not_computed: dict[str, str] = {}
    disagreements = []
    for metric in metrics:
        fn = metric_function(metric, task)
        key = f"{split}/{metric}"
        sources[metric] = "recomputed from predictions" if fn is not None else "result.json"
        for run in runs:
            recorded = _recorded_number(run.recorded.get(key))
            if fn is None:
                if recorded is not None and math.isfinite(recorded):
                    values[metric].setdefault(run.arm, {})[run.seed] = recorded
                continue
            value = float(fn(run.y_true, run.scores))
            if recorded is None:
                disagreements.append(f"{run.label} {key}: recomputed {value!r}, result.json has none")
            elif not (
                math.isclose(value, recorded, rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE)
                or (math.isnan(value) and math.isnan(recorded))
            ):
                disagreements.append(f"{run.label} {key}: recomputed {value!r}, result.json has {recorded!r}")
            if math.isfinite(value):
                values[metric].setdefault(run.arm, {})[run.seed] = value
        if not values[metric]:
            del sources[metric]
            not_computed[metric] = (
                f"no implementation for {task} in rigorml.runtime.metrics, and no run recorded {key}"
                if fn is None
                else f"not a finite number in any run on the {split} split"
            )
    if disagreements:
        raise EvaluationError(
            "metrics recomputed from the saved predictions disagree with result.json: "
            + "; ".join(disagreements)
            + ". The predictions or result.json were changed after training, or come from different "
            "runs: retrain the runs named here."
        )
    return values, sources, not_computed


# --- comparisons ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """How the declared tests resample: the evaluation section's settings, resolved."""

    task: str
    confidence: float
    effect_size: str
    resamples: int
    method: str
    level: str
    seed: int

    @classmethod
    def from_evaluation(cls, evaluation: dict, resolved: dict, task: str, confidence: float) -> _Plan:
        bootstrap = evaluation.get("bootstrap") or {}
        seed = evaluation.get("seed")
        if seed is None:
            seed = resolved["seeds"].get("global", 0)
        return cls(
            task,
            confidence,
            evaluation.get("effect_size") or "cohens_dz",
            int(evaluation.get("resamples") or 10_000),
            bootstrap.get("method") or "percentile",
            bootstrap.get("level") or "seeds_x_examples",
            int(seed),
        )


def _compare(comparison: dict, values: dict, confidence: float, plan: _Plan, runs: list[_Run]) -> dict:
    """One comparison's paired analysis over the seeds both arms have: per-seed differences, the
    declared effect size with its interval, and the declared test."""
    from ..schemas.vocabulary import parse_metric
    from .stats import effect_sizes

    metric = comparison["metric"]
    by_arm = values.get(metric, {})
    treatment, control = by_arm.get(comparison["treatment"], {}), by_arm.get(comparison["control"], {})
    seeds = [seed for seed in treatment if seed in control]
    info, _ = parse_metric(metric)
    higher = info.higher_is_better if info is not None else None
    declared = comparison["test"]
    out = {
        **comparison,
        "direction": None if higher is None else "higher is better" if higher else "lower is better",
        "seeds": seeds,
        "n": len(seeds),
        "mean": None,
        "sd": None,
        "ci": None,
        "d_z": None,
        "effect_size": None,
        "differences": [],
        "favours": None,
        "test": {"declared": declared, "applied": None, "note": None},
        "t_test": None,
        "p_value": None,
        "p_adjusted": None,
        "significant": None,
    }
    if not seeds:
        out["test"]["note"] = f"no seed where both arms have {metric}: nothing to compare"
        return out
    t_values, c_values = [treatment[s] for s in seeds], [control[s] for s in seeds]
    paired = paired_difference(t_values, c_values, confidence, comparison["alternative"])
    out.update({k: paired[k] for k in ("mean", "sd", "ci", "d_z", "differences", "t_test")})
    if higher is not None and paired["mean"] != 0:
        out["favours"] = "treatment" if (paired["mean"] > 0) == higher else "control"
    elif paired["mean"] == 0:
        out["favours"] = "neither"
    if len(seeds) >= 2:
        try:
            effect = effect_sizes.effect_size(plan.effect_size, t_values, c_values, confidence)
            out["effect_size"] = {"name": effect.name, "estimate": effect.estimate, "ci": effect.ci, "method": effect.method}
        except (ValueError, ZeroDivisionError, FloatingPointError) as error:
            out["effect_size"] = {"name": plan.effect_size, "estimate": None, "ci": None, "method": f"undefined: {error}"}

    test = declared if comparison["paired"] else "welch_t_test"
    try:
        result = _apply_test(test, comparison, seeds, t_values, c_values, plan, runs)
    except ValueError as error:
        out["test"]["note"] = f"{test} not applied: {error}"
        return out
    if result is None:
        out["test"]["note"] = "no p-value: it needs two seeds or more whose differences vary"
        return out
    p_value, details = result
    out["test"].update(applied=details.pop("applied", test), **details)
    out["p_value"] = p_value
    if "ci" in details and details["ci"] is not None:
        out["ci"] = details["ci"]  # the declared test's interval replaces the t interval
        out["ci_method"] = details.get("interval")
    else:
        out["ci_method"] = "t interval over seeds"
    return out


def _judge_compare(comparison, resolved, runs_root, runs: list[_Run], split, confidence, base_dir) -> dict:
    """A ``win_rate`` comparison: the LLM judge compares the two arms' outputs example by example,
    seed by seed (as ``llm_judge`` declares: position swap, repeats, temperature 0). The win rate
    pools every (seed, example) verdict, with a Wilson interval; the p-value is an exact binomial
    (sign) test of wins against losses, ties left out. A judge whose agreement with the human
    labels is below ``min_kappa`` on any seed is untrusted: no p-value, no verdict."""
    from scipy import stats

    from .judge import JudgeError, judge_comparison, wilson_interval

    treatment, control = comparison["treatment"], comparison["control"]
    out = {**comparison, "direction": "higher is better", "seeds": [], "n": 0, "mean": None, "sd": None,
           "ci": None, "d_z": None, "effect_size": None, "differences": [], "favours": None,
           "test": {"declared": comparison["test"], "applied": None, "note": None}, "t_test": None,
           "p_value": None, "p_adjusted": None, "significant": None}  # fmt: skip
    judge_section = resolved.get("llm_judge")
    if not judge_section:
        out["test"]["note"] = "win_rate needs an `llm_judge` section"
        return out
    seeds = sorted({r.seed for r in runs if r.arm == treatment} & {r.seed for r in runs if r.arm == control})
    per_seed, wins, losses, ties = [], 0, 0, 0
    for seed in seeds:
        items = _judge_items(Path(runs_root), treatment, control, seed, split)
        try:
            judged = judge_comparison(judge_section, items, base_dir=base_dir, treatment=treatment, control=control,
                                      confidence=confidence)  # fmt: skip
        except JudgeError as error:
            raise EvaluationError(f"{comparison['name']}, seed {seed}: {error}") from None
        counts = judged["counts"]
        wins, losses, ties = wins + counts["treatment"], losses + counts["control"], ties + counts["tie"]
        judged.pop("items")
        per_seed.append({"seed": seed, **judged})
    if not per_seed:
        out["test"]["note"] = "no seed where both arms have outputs to judge"
        return out
    total = wins + losses + ties
    rate = (wins + 0.5 * ties) / total
    untrusted = [entry["seed"] for entry in per_seed if entry["judge_untrusted"]]
    out.update(seeds=seeds, n=total, mean=rate - 0.5, ci=[v - 0.5 for v in wilson_interval(wins + 0.5 * ties, total, confidence)])
    out["favours"] = "treatment" if rate > 0.5 else "control" if rate < 0.5 else "neither"
    out["judge"] = {
        "win_rate": rate,
        "win_rate_ci": list(wilson_interval(wins + 0.5 * ties, total, confidence)),
        "counts": {"treatment": wins, "control": losses, "tie": ties},
        "judge_untrusted": bool(untrusted),
        "per_seed": per_seed,
    }
    if untrusted:
        out["test"]["note"] = (
            f"the judge is untrusted on seed(s) {', '.join(map(str, untrusted))}: its agreement with the human "
            "labels is below `llm_judge.human_agreement.min_kappa`, so its verdicts are not tested"
        )
        return out
    if wins + losses == 0:
        out["test"]["note"] = "every judgement is a tie: nothing to test"
        return out
    alternative = comparison["alternative"]
    out["p_value"] = float(stats.binomtest(wins, wins + losses, 0.5, alternative=alternative).pvalue)
    out["test"].update(applied="sign_test", over="judged examples x seeds",
                       note="win_rate is tested by an exact binomial test of wins against losses (ties left out); "
                       "`mean` and `ci` are the win rate minus 0.5")  # fmt: skip
    return out


def _judge_items(root: Path, treatment: str, control: str, seed: int, split: str) -> list[dict]:
    """The judge's items for one seed: both arms' outputs, matched by example id."""
    import json

    outputs = {}
    for arm in (treatment, control):
        path = root / arm / f"seed-{seed}" / "predictions" / f"{split}.jsonl"
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise EvaluationError(f"win_rate needs {path} (one {{\"id\", \"prompt\", \"output\"}} per line): {error.strerror}") from None
        rows = {}
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                rows[str(row["id"])] = row
            except (ValueError, KeyError, TypeError):
                raise EvaluationError(f"{path}:{number}: not a JSON object with `id`, `prompt` and `output`") from None
        outputs[arm] = rows
    if outputs[treatment].keys() != outputs[control].keys():
        only = sorted(outputs[treatment].keys() ^ outputs[control].keys())[:5]
        raise EvaluationError(f"seed {seed}: {treatment} and {control} answered different examples (e.g. {', '.join(only)}): not paired")
    return [
        {"id": key, "prompt": row.get("prompt", ""), "treatment": row["output"], "control": outputs[control][key]["output"]}
        for key, row in outputs[treatment].items()
    ]


def _apply_test(test, comparison, seeds, t_values, c_values, plan: _Plan, runs: list[_Run]):
    """``(p_value, details)`` of the declared test, or None when it is undefined here."""
    from .stats import significance

    alternative = comparison["alternative"]
    differences = np.asarray(t_values) - np.asarray(c_values)
    if test == "welch_t_test":
        if len(seeds) < 2 or np.std(t_values) == 0 and np.std(c_values) == 0:
            return None
        result = significance.welch_t_test(t_values, c_values, alternative=alternative)
        return result.p_value, {"statistic": result.statistic, "note": "unpaired comparison: Welch's t-test over seeds"}
    if test == "t_test":
        return (None if _no_variation(differences) else (_t_p(t_values, c_values, alternative), {"over": "seeds"}))
    if test == "wilcoxon":
        if _no_variation(differences) or not np.any(differences != 0):
            return None
        result = significance.wilcoxon(t_values, c_values, alternative=alternative)
        return result.p_value, {"statistic": result.statistic, "over": "seeds", "method": result.method}
    if test == "permutation":
        from .stats.permutation import paired_permutation_test

        if not np.any(differences != 0):
            return None
        result = paired_permutation_test(t_values, c_values, alternative=alternative, resamples=plan.resamples, seed=plan.seed)
        return result.p_value, {"over": "seeds", "exact": result.exact, "permutations": result.permutations, "seed": plan.seed}
    if test == "mcnemar":
        return _mcnemar(comparison, seeds, runs, alternative)
    if test == "paired_bootstrap":
        return _bootstrap(comparison, seeds, t_values, c_values, plan, runs)
    raise ValueError(f"unknown test {test!r}")


def _bootstrap(comparison, seeds, t_values, c_values, plan: _Plan, runs: list[_Run]):
    """The paired bootstrap at ``evaluation.bootstrap.level``: ``seeds`` resamples the per-seed
    metric values; ``seeds_x_examples`` resamples seeds, then examples within each (both sources
    of variation), through the metric's example-level form (:mod:`rigorml.runtime.example_level`).
    ``examples`` is its one-seed case: with several seeds, leaving the seed variation out would
    make the interval too narrow, so seeds are resampled too. A metric without an example-level
    form (AUPRC...), or whose form does not reproduce the registry's value on some run, is
    bootstrapped over seeds, and the ``note`` says why."""
    from .stats.bootstrap import paired_bootstrap, paired_two_level_bootstrap

    metric = comparison["metric"]
    options = dict(resamples=plan.resamples, confidence=plan.confidence, method=plan.method, seed=plan.seed,
                   alternative=comparison["alternative"])  # fmt: skip
    level, note = plan.level, None
    if level != "seeds":
        arms = _example_level_inputs(comparison, seeds, t_values, c_values, plan.task, runs)
        if isinstance(arms, str):
            level = "seeds"
            note = f"{metric} is bootstrapped over seeds only, not examples: {arms}"
        else:
            form, treatment, control = arms
            result = paired_two_level_bootstrap(treatment, control, y_true=runs[0].y_true, metric=form.bootstrap_metric, **options)
    if level == "seeds":
        if len(seeds) < 2:
            return None
        result = paired_bootstrap(t_values, c_values, **options)
    if len(seeds) < 2 and level != "seeds":
        level = "examples"
    details = {
        "applied": "paired_bootstrap",
        "level": level,
        "method": plan.method,
        "resamples": plan.resamples,
        "seed": plan.seed,
        "ci": [_finite(result.ci_low), _finite(result.ci_high)],
        "interval": f"paired bootstrap ({plan.method}, {level.replace('_x_', ' x ')})",
        "estimate": result.estimate,
    }
    if level != "seeds":
        details["resampled"] = form.kind
    if note:
        details["note"] = note
    return result.p_value, details


def _example_level_inputs(comparison, seeds, t_values, c_values, task: str, runs: list[_Run]):
    """``(form, treatment, control)``: each arm's per-run bootstrap inputs stacked over ``seeds``,
    once every run's form reproduces the metric the registry computed (t_values, c_values); or the
    reason the metric cannot be resampled example by example."""
    from .example_level import ABS_TOLERANCE, REL_TOLERANCE, ExampleFormError, example_form, form_value

    metric = comparison["metric"]
    form = example_form(metric, task)
    if isinstance(form, str):
        return form
    scores = _scores(runs, comparison, seeds)
    y_true = runs[0].y_true
    stacked = []
    for arm, per_seed_scores, registry_values in zip(("treatment", "control"), scores, (t_values, c_values)):
        inputs = []
        for seed, run_scores, registry in zip(seeds, per_seed_scores, registry_values):
            try:
                values = form.per_run(y_true, run_scores)
                value = form_value(form, values, y_true)
            except (ValueError, ExampleFormError) as error:
                return f"its per-example form failed on {comparison[arm]}/seed-{seed} ({error})"
            if value is not None and not math.isclose(value, registry, rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE):
                return (
                    f"its per-example form gives {value!r} on {comparison[arm]}/seed-{seed}, where the registry "
                    f"computes {registry!r}"
                )
            inputs.append(values)
        stacked.append(inputs)
    if form.kind == "coco":  # detections padded to one shape over the runs of both arms
        stacked = _pad_detections(stacked)
    return form, np.stack(stacked[0]), np.stack(stacked[1])


def _pad_detections(arms: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """Each run's detections [images, d, 6] padded with padding rows (label -1, which every metric
    skips) to the largest d over the runs of both arms, so that they stack."""
    from .metrics_tasks import PADDING_LABEL

    width = max(run.shape[1] for runs in arms for run in runs)
    padded = []
    for runs in arms:
        out = []
        for run in runs:
            extra = np.zeros((run.shape[0], width - run.shape[1], run.shape[2]))
            extra[..., -1] = PADDING_LABEL
            out.append(np.concatenate([run, extra], axis=1))
        padded.append(out)
    return padded


def _mcnemar(comparison, seeds, runs: list[_Run], alternative: str):
    """McNemar's exact test on each shared seed's per-example correctness. One pair of classifiers
    per seed: the comparison's p-value is the largest over seeds, an intersection-union test (the
    difference holds in every seed), which stays valid without pretending the seeds' test sets
    are independent (they are the same examples)."""
    from .stats import significance

    scores = _scores(runs, comparison, seeds)
    y_true = runs[0].y_true
    per_seed = []
    for seed, t_scores, c_scores in zip(seeds, *scores):
        result = significance.mcnemar(predicted_labels(t_scores) == y_true, predicted_labels(c_scores) == y_true, method="exact", alternative=alternative)
        per_seed.append({"seed": seed, "statistic": result.statistic, "p_value": result.p_value})
    p_value = max(entry["p_value"] for entry in per_seed)
    return p_value, {"over": "examples, per seed", "per_seed": per_seed, "combined": "largest p over seeds (intersection-union)"}


def _scores(runs: list[_Run], comparison: dict, seeds: list[int]) -> tuple[list, list]:
    by_key = {(run.arm, run.seed): run.scores for run in runs}
    return tuple([by_key[(comparison[arm], seed)] for seed in seeds] for arm in ("treatment", "control"))


def _no_variation(differences: np.ndarray) -> bool:
    return len(differences) < 2 or float(np.std(differences)) == 0.0


def _t_p(t_values, c_values, alternative: str) -> float:
    from .stats import significance

    return significance.paired_t_test(t_values, c_values, alternative=alternative).p_value


def _finite(value) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


#: The verdicts a comparison can get, in the order a reader weighs them.
VERDICTS = ("improvement", "regression", "below_minimum_effect", "equivalent", "no_evidence", "untested")


def with_verdict(comparison: dict, minimum_effect: float, alpha: float) -> dict:
    """The comparison with ``verdict`` (one of :data:`VERDICTS`) and ``verdict_text``.

    Significance is the corrected p-value at ``alpha``; size is the mean difference against
    ``minimum_effect`` (metric units). A significant difference needs both to count as an
    improvement or a regression; a non-significant one whose interval lies inside
    +-``minimum_effect`` is practically equivalent."""
    treatment, control, metric = comparison["treatment"], comparison["control"], comparison["metric"]
    mean, ci, p = _number(comparison.get("mean")), comparison.get("ci"), _number(comparison.get("p_adjusted"))
    size = abs(mean) if mean is not None else None
    ci = [_number(ci[0]), _number(ci[1])] if ci and len(ci) == 2 and None not in map(_number, ci) else None
    if p is None or size is None:
        why = (comparison.get("test") or {}).get("note") or "no p-value"
        verdict, text = "untested", f"{treatment} vs {control} on {metric}: not tested ({why})."
    elif p <= alpha and size >= minimum_effect:
        favours = comparison.get("favours")
        better = favours == "treatment" if favours in ("treatment", "control") else None
        if better is None:
            verdict = "improvement" if mean > 0 else "regression"
            way = "higher" if mean > 0 else "lower"
        else:
            verdict = "improvement" if better else "regression"
            way = "better" if better else "worse"
        text = f"{treatment} is {way} than {control} on {metric} by {_num(size)} (corrected p {_p(p)})."
    elif p <= alpha:
        verdict = "below_minimum_effect"
        text = (
            f"{treatment} differs from {control} on {metric} (corrected p {_p(p)}), but by {_num(size)}: "
            f"less than the minimum effect of interest, {_num(minimum_effect)}."
        )
    elif minimum_effect > 0 and ci is not None and -minimum_effect < ci[0] and ci[1] < minimum_effect:
        verdict = "equivalent"
        text = (
            f"{treatment} and {control} do not differ on {metric} by as much as the minimum effect "
            f"({_num(minimum_effect)}): the interval {_interval(ci)} lies inside it."
        )
    else:
        verdict = "no_evidence"
        bound = f"; the interval {_interval(ci)} does not rule out a difference that matters" if ci else ""
        text = f"No detectable difference between {treatment} and {control} on {metric} (corrected p {_p(p)}){bound}."
    return {**comparison, "verdict": verdict, "verdict_text": text}


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


def _correction(evaluation: dict) -> str:
    correction = evaluation.get("correction", "auto")
    if correction == "auto":
        return "bh" if evaluation.get("family", "exploratory") == "exploratory" else "bonferroni"
    return correction


def _notes(compared: list[dict], family: list[int], not_computed: dict[str, str]) -> list[str]:
    notes = [f"{c['name']}: {c['test']['note']}." for c in compared if c["test"].get("note") and c["test"]["applied"]]
    left_out = [c["name"] for i, c in enumerate(compared) if i not in family]
    if left_out:
        notes.append(f"No p-value, so outside the corrected family: {', '.join(left_out)}.")
    for metric, why in not_computed.items():
        notes.append(f"{metric}: {why}.")
    return notes


# --- small helpers --------------------------------------------------------------------------------


def _recorded_number(value) -> float | None:
    """A metric as result.json holds it: a number, or the name the tracker writes for a
    non-finite one ("NaN", "Infinity", "-Infinity"); None for anything else."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    return None


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _distribution_version(name: str) -> str | None:
    """The installed version of a distribution, None when it is not installed (a source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _cell(text) -> str:
    """Text for a Markdown table cell or list item: one printable line, pipes escaped."""
    line = "".join(char if char.isprintable() else repr(char)[1:-1] for char in str(text))
    return line.replace("|", "\\|")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _interval(ci: list[float] | None) -> str:
    return "-" if ci is None else f"[{ci[0]:.4f}, {ci[1]:.4f}]"


def _percent(level: float) -> str:
    return f"{level * 100:g}%"
