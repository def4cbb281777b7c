"""After the search: which parameters mattered, and in which direction.

``analyze_study(study, resolved)`` reads a finished (or interrupted) sweep's Optuna study and
returns one JSON-ready dict; ``write_analysis(analysis, sweep_dir)`` keeps it as
``<sweep_dir>/analysis.json``. Three views of the same completed trials:

* **fANOVA importances** (Hutter et al. 2014; ``optuna.importance.FanovaImportanceEvaluator``,
  seeded): the share of the objective's variance over the search space that each parameter
  explains on its own, from a random forest fitted to the trials. Optuna fits it on the parameters
  every completed trial sampled; a conditional parameter missing from some trials is left out (the
  record says which).
* **PED-ANOVA importances** (Watanabe et al. 2023; ``PedAnovaImportanceEvaluator`` with Optuna's
  defaults: the top 10% of trials against all of them): how much each parameter's distribution
  among the best trials differs from its distribution over all trials, i.e. what it takes to be
  among the best. Conditional parameters are included.
* **Sensitivity**: the Spearman rank correlation of each numeric parameter with the objective
  (``scipy.stats.spearmanr``; ranks, so a log-uniform learning rate needs no log), and, for a
  categorical parameter whose values are not all numbers (strings, booleans, lists), the
  Kruskal-Wallis test of the objective across its values with the effect size
  epsilon^2 = H / (n - 1). A categorical whose values are all numbers (batch sizes 32/64/128) is
  ordered by those numbers and correlated like a numeric parameter.

Why these choices:

* only **completed** trials with a finite objective enter: a pruned trial has no final objective
  (its last intermediate value is from an earlier epoch, worse by construction), a failed one none;
* importances are reported un-normalised by Optuna and normalised here, so that a study in which
  no parameter explains anything says so instead of Optuna's equal shares;
* every number comes with the count of trials behind it, and a note when there are too few
  (:data:`MIN_IMPORTANCE_TRIALS`, :data:`MIN_SENSITIVITY_TRIALS`) or nothing varied.

Optuna and scipy are imported inside the functions.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

from .tracking import write_json_atomic

#: The analysis in a sweep's directory.
ANALYSIS_FILE = "analysis.json"

#: What ``analysis.json`` declares itself to be (bumped when its shape changes incompatibly).
ANALYSIS_FORMAT = "rigorml-sweep-analysis/1"

#: Completed trials an importance needs: one trial has no variance to share out.
MIN_IMPORTANCE_TRIALS = 2

#: (parameter, objective) pairs a sensitivity needs. Below 5 a rank correlation is noise: with 4
#: pairs even a perfect rho = 1 has an exact two-sided p of 1/12.
MIN_SENSITIVITY_TRIALS = 5

#: fANOVA's forest, seeded: the same study gives the same importances.
FANOVA_SETTINGS = {"n_trees": 64, "max_depth": 64, "seed": 0}

#: Optuna's PED-ANOVA defaults: the top 10% of trials against all of them (the whole space).
PED_ANOVA_SETTINGS = {"target_quantile": 0.1, "region_quantile": 1.0, "evaluate_on_local": True}

#: PED-ANOVA is stable with at least this many trials in the top quantile (Optuna's note).
PED_ANOVA_STABLE_TOP = 5


def analyze_study(study, resolved: dict) -> dict:
    """Parameter importances (fANOVA, PED-ANOVA) and sensitivities of a sweep's study.

    Inputs: ``study``, the sweep's Optuna study (``run_sweep``'s return value, or loaded from its
    storage); ``resolved``, the resolved spec whose ``sweep`` section ran it (its parameters say
    which are numeric, and its objective the direction).
    Output: a JSON-ready dict: ``format``, ``study_name``, ``objective``, ``trials`` (counts by
    state and the number of completed trials with a finite objective, ``used``), ``importances``
    (``fanova`` and ``ped_anova``, each with ``method``, ``settings``, ``trials``, ``values``
    ({parameter: share, summing to 1}, largest first; None when they cannot be computed) and
    ``note``), ``sensitivity`` (one record per searched parameter: ``test``, ``n``, the statistic,
    ``p_value``, ``better_with`` and ``note``), and ``notes``.
    Errors: ValueError when ``resolved`` has no sweep section.
    """
    from .sweep import finished_trials, trial_counts

    sweep = resolved.get("sweep")
    if not sweep:
        raise ValueError("the spec has no `sweep` section: there is no study to analyse")
    objective = dict(sweep["objective"])
    trials = study.get_trials(deepcopy=False)
    used = finished_trials(trials)
    counts = trial_counts(trials)
    searched = {name: p for name, p in sweep["parameters"].items() if p["distribution"] != "constant"}
    notes = []
    if counts["pruned"]:
        notes.append(
            f"{counts['pruned']} pruned trial(s) are left out: a pruned trial has no final objective, only "
            "an intermediate value from an earlier epoch."
        )
    return {
        "format": ANALYSIS_FORMAT,
        "study_name": study.study_name,
        "objective": objective,
        "trials": {**counts, "used": len(used)},
        "importances": {
            "fanova": fanova_importances(study, used, searched),
            "ped_anova": ped_anova_importances(study, used, searched),
        },
        "sensitivity": {
            "method": (
                "Spearman rank correlation with the objective (numeric parameters, and categoricals whose "
                "values are all numbers); Kruskal-Wallis across the values of other categoricals"
            ),
            "parameters": {name: sensitivity(name, searched[name], used, objective) for name in sorted(searched)},
        },
        "notes": notes,
    }


def write_analysis(analysis: dict, sweep_dir: str | Path) -> Path:
    """Write ``analysis`` (from :func:`analyze_study`) to ``<sweep_dir>/analysis.json`` atomically;
    returns the path. Raises OSError when the directory cannot be written."""
    path = Path(sweep_dir) / ANALYSIS_FILE
    write_json_atomic(path, analysis)
    return path


def analyse_sweep(resolved: dict, sweep_dir: str | Path, storage: str | None = None) -> Path:
    """Analyse a finished sweep: load its study (``storage``, else ``sweep.storage``, else the study
    file in ``sweep_dir``), run :func:`analyze_study` and write ``analysis.json``; returns its path.
    What ``rigorml sweep`` and a compiled ``sweep.py`` do after the search.
    Errors: StorageError (a ValueError) when the study cannot be opened; KeyError when it is not there."""
    from .sweep import load_sweep_study

    name = resolved["sweep"]["study_name"] or resolved["experiment"]["name"]
    study = load_sweep_study(sweep_dir, name, storage or resolved["sweep"]["storage"])
    return write_analysis(analyze_study(study, resolved), sweep_dir)


# --- importances ---------------------------------------------------------------------------------


def fanova_importances(study, used: list, searched: dict) -> dict:
    """fANOVA importances (seeded) over the completed trials ``used``; see :func:`analyze_study`."""
    from optuna.importance import FanovaImportanceEvaluator

    record = {
        "method": "fANOVA",
        "settings": dict(FANOVA_SETTINGS),
        "trials": len(used),
        "values": None,
        "note": None,
    }
    record["note"] = _cannot_share_out(used)
    if record["note"]:
        return record
    common = set.intersection(*(set(trial.params) for trial in used))
    left_out = sorted(name for name in searched if name not in common and any(name in t.params for t in used))
    evaluator = FanovaImportanceEvaluator(**FANOVA_SETTINGS)
    values, problem = _importances(study, evaluator)
    record["values"], record["note"] = values, problem
    if left_out and values is not None:
        record["note"] = (
            f"fitted on the parameters every completed trial sampled; {', '.join(left_out)} (conditional) "
            "left out: see PED-ANOVA"
        )
    return record


def ped_anova_importances(study, used: list, searched: dict) -> dict:
    """PED-ANOVA importances with Optuna's defaults over the completed trials ``used``."""
    from optuna.importance import PedAnovaImportanceEvaluator

    top = math.ceil(PED_ANOVA_SETTINGS["target_quantile"] * len(used))
    record = {
        "method": "PED-ANOVA",
        "settings": dict(PED_ANOVA_SETTINGS),
        "trials": len(used),
        "top_trials": top,
        "values": None,
        "note": None,
    }
    record["note"] = _cannot_share_out(used)
    if record["note"]:
        return record
    values, problem = _importances(study, PedAnovaImportanceEvaluator(**PED_ANOVA_SETTINGS))
    record["values"], record["note"] = values, problem
    if values is not None and top < PED_ANOVA_STABLE_TOP:
        record["note"] = (
            f"the top {PED_ANOVA_SETTINGS['target_quantile']:.0%} is {top} trial(s), fewer than the "
            f"{PED_ANOVA_STABLE_TOP} PED-ANOVA needs to be stable: treat these as a first look"
        )
    return record


def _cannot_share_out(used: list) -> str | None:
    """Why importances cannot be computed from the completed trials ``used``, or None."""
    if len(used) < MIN_IMPORTANCE_TRIALS:
        return f"parameter importances need at least {MIN_IMPORTANCE_TRIALS} completed trials ({len(used)} completed)"
    if len({trial.value for trial in used}) < 2:
        return "the objective was the same in every completed trial: there is no variation to share out"
    return None


def _importances(study, evaluator) -> tuple[dict | None, str | None]:
    """``evaluator``'s raw importances normalised to sum to 1, largest first; None and why when
    Optuna cannot compute them or every importance is zero (nothing explains the objective)."""
    import optuna

    try:
        with warnings.catch_warnings():
            # normalize=False is marked experimental, and PED-ANOVA warns about small regimes; the
            # record's note says what matters.
            warnings.simplefilter("ignore")
            raw = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=False)
    except Exception as exc:  # e.g. a forest that cannot be fitted: a note, not a failed analysis
        return None, f"could not be computed ({type(exc).__name__}: {exc})"
    raw = {name: float(value) for name, value in raw.items() if math.isfinite(value)}
    total = sum(max(0.0, value) for value in raw.values())
    if not raw:
        return None, "could not be computed (no parameter varied across the completed trials)"
    if total <= 0.0:
        return None, "every importance is zero: no parameter explains any change in the objective"
    shares = {name: max(0.0, value) / total for name, value in raw.items()}
    return dict(sorted(shares.items(), key=lambda item: (-item[1], item[0]))), None


# --- sensitivity ---------------------------------------------------------------------------------


def is_ordered(parameter: dict) -> bool:
    """Whether a sweep parameter's values are numbers, so that a rank correlation applies: every
    numeric distribution, and a categorical whose values are all ints or floats (not booleans)."""
    if parameter["distribution"] != "categorical":
        return True
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in parameter["values"])


def sensitivity(name: str, parameter: dict, used: list, objective: dict) -> dict:
    """How the objective moves with one parameter over the completed trials ``used`` that sampled it.

    Numeric (:func:`is_ordered`): ``test`` ``spearman``, ``rho`` and its ``p_value`` from
    ``scipy.stats.spearmanr`` (average ranks for ties), and ``better_with`` (``higher`` or
    ``lower`` values go with a better objective, given its direction; None for rho = 0).
    Otherwise: ``test`` ``kruskal_wallis``, ``h`` and ``p_value`` from ``scipy.stats.kruskal``,
    ``epsilon_squared`` = H / (n - 1), ``groups`` (per value: ``n`` and the objective's
    ``median``) and ``better_with`` (the value with the best median).
    Every record has ``n`` (trials used) and ``note``: why nothing was computed (fewer than
    :data:`MIN_SENSITIVITY_TRIALS` pairs, a parameter or an objective that did not vary, a single
    value sampled), else None.
    """
    pairs = [(trial.params[name], float(trial.value)) for trial in used if name in trial.params]
    ordered = is_ordered(parameter)
    record: dict[str, Any] = {"test": "spearman" if ordered else "kruskal_wallis", "n": len(pairs)}
    if ordered:
        record.update(rho=None, p_value=None, better_with=None)
    else:
        record.update(h=None, p_value=None, epsilon_squared=None, groups={}, better_with=None)
    if not pairs:
        record["note"] = "never sampled in a completed trial"
        return record
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    maximise = objective.get("direction") == "maximize"
    if not ordered:
        record["groups"] = _groups(pairs)
    if len(pairs) < MIN_SENSITIVITY_TRIALS:
        record["note"] = f"needs at least {MIN_SENSITIVITY_TRIALS} completed trials that sampled it ({len(pairs)})"
        return record
    if len({json.dumps(x, sort_keys=True) for x in xs}) < 2:
        record["note"] = f"took one value ({choice_label(xs[0])}) in every completed trial: no variation to correlate"
        return record
    if len(set(ys)) < 2:
        record["note"] = "the objective was the same in every completed trial: no variation to correlate"
        return record
    from scipy import stats

    if ordered:
        result = stats.spearmanr([float(x) for x in xs], ys)
        rho, p = float(result.statistic), float(result.pvalue)
        record.update(rho=rho, p_value=p)
        if rho != 0:
            record["better_with"] = "higher" if (rho > 0) == maximise else "lower"
    else:
        groups = {}
        for x, y in pairs:
            groups.setdefault(choice_label(x), []).append(y)
        result = stats.kruskal(*groups.values())
        h = float(result.statistic)
        record.update(h=h, p_value=float(result.pvalue), epsilon_squared=h / (len(pairs) - 1))
        pick = max if maximise else min
        record["better_with"] = pick(record["groups"], key=lambda label: record["groups"][label]["median"])
    record["note"] = None
    return record


def _groups(pairs: list) -> dict[str, dict]:
    import statistics

    groups: dict[str, list[float]] = {}
    for x, y in pairs:
        groups.setdefault(choice_label(x), []).append(y)
    return {label: {"n": len(ys), "median": statistics.median(ys)} for label, ys in sorted(groups.items())}


def choice_label(value: Any) -> str:
    """A categorical value as text: strings as they are, anything else as JSON (``true``, ``[32]``).
    A spec's value and the value Optuna stored for it get the same label (Optuna stores a
    list-valued choice as its JSON text already)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
