"""Hyperparameter search: the spec's ``sweep`` section run as an Optuna study.

``run_sweep(resolved, sweep_dir)`` tunes the *base* configuration (the spec without its variants):
each trial samples the sweep's parameters, sets them at their dotted paths, trains one run on the
validation split only, and reports the objective after every validation so the pruner can stop a
hopeless trial early. What it leaves in ``sweep_dir``::

    study.db            the Optuna study (SQLite unless a storage URL says otherwise)
    trial-<number>/     each trial's run directory (train_run's layout; val predictions only)
    best.json           the best trial's parameters and value, and how many trials completed,
                        were pruned or failed

Why it is built this way:

* the study name is fixed (``sweep.study_name``, the experiment's name by default) and the study is
  loaded when it exists, so running the same sweep again resumes it, and Hyperband, which assigns
  trials to brackets by hashing the study name and the trial number, makes the same assignments;
* a trial never evaluates on test: tuning on test would leave no unbiased estimate of the tuned
  configuration (the domain document's final validation is a separate step, on fresh seeds);
* every trial trains with the first replicate seed, so trials differ by their parameters alone;
* a trial whose training raises (diverged loss, out of memory) is recorded as failed and the study
  goes on; Ctrl-C fails the trial in progress, writes best.json and stops.

The pieces are small functions a later step plugs into: :func:`build_sampler`, :func:`build_pruner`
(both registered by name), :func:`open_storage`, :func:`suggest` / :func:`trial_params` (a trial's
parameters, forwards and back), :func:`trial_config` and :func:`train_trial`. Optuna is imported
inside the functions that need it.
"""

from __future__ import annotations

import decimal
import json
import logging
import math
import os
import warnings
from pathlib import Path
from typing import Any, Callable

from ..schemas.references import FLAG_PREFIX
from .config import BASE_ARM, arm_config, spec_hash
from .tracking import write_json_atomic

#: The sweep's summary in its directory.
BEST_FILE = "best.json"

#: The Optuna storage a sweep uses unless the spec or the caller names one.
DEFAULT_STORAGE_FILE = "study.db"

#: Study attribute holding :func:`search_fingerprint`, checked when a study is resumed.
FINGERPRINT_ATTR = "rigorml:search_sha256"

#: Sweep fields that change how long a search runs, not what it searches: a resumed study may
#: change them (more trials, a longer timeout) without becoming a different study.
_BUDGET_FIELDS = ("n_trials", "timeout_minutes", "storage", "workers", "final_validation")

#: The spec sections a trial's result depends on (with the task and the sweep itself).
_TRIAL_SECTIONS = ("seeds", "data", "model", "training", "metrics")


# --- samplers ------------------------------------------------------------------------------------


def build_sampler(sweep: dict, seed: int | None):
    """The Optuna sampler for ``sweep["method"]``, configured from ``sweep["sampler"]``.

    Inputs: ``sweep``, the resolved spec's sweep section; ``seed``, the sampler's seed (the resolved
    ``sweep.sampler.seed``, which defaults to ``seeds.global``).
    Output: a ``RandomSampler``, ``GridSampler``, ``TPESampler`` (``tpe``, and ``bayes``, the W&B
    name for the same idea) or ``CmaEsSampler``.
    Errors: ValueError for an unknown method, for a grid over a continuous parameter, and for
    ``cmaes`` without the ``cmaes`` package.
    """
    method = sweep["method"]
    factory = _SAMPLERS.get(method)
    if factory is None:
        raise ValueError(f"unknown sweep.method {method!r}; rigorml knows {', '.join(sorted(_SAMPLERS))}")
    return factory(sweep, seed)


def _random_sampler(sweep: dict, seed: int | None):
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


def _tpe_sampler(sweep: dict, seed: int | None):
    import optuna

    options = sweep["sampler"]
    with warnings.catch_warnings():
        # multivariate, group and constant_liar are marked experimental by Optuna; the spec chose
        # them (the domain document's TPE defaults), so the warning would only be noise.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            n_startup_trials=options["n_startup_trials"],
            multivariate=options["multivariate"],
            # Grouping splits a conditional space into the subspaces that occur together; Optuna
            # implements it on top of the multivariate model only.
            group=options["group"] and options["multivariate"],
            constant_liar=options["constant_liar"],
            seed=seed,
        )


def _cmaes_sampler(sweep: dict, seed: int | None):
    import importlib.util

    import optuna

    if importlib.util.find_spec("cmaes") is None:
        raise ValueError("sweep.method `cmaes` needs the cmaes package: pip install cmaes (or use method: tpe)")
    return optuna.samplers.CmaEsSampler(n_startup_trials=sweep["sampler"]["n_startup_trials"], seed=seed)


def _grid_sampler(sweep: dict, seed: int | None):
    import optuna

    return optuna.samplers.GridSampler(grid_search_space(sweep["parameters"]), seed=seed)


def grid_search_space(parameters: dict) -> dict[str, list]:
    """Every value each parameter can take, for a grid search: ``{name: [values]}``.

    Categorical values are listed as :func:`suggest` passes them to Optuna; integers and stepped
    uniforms are enumerated; constants are not searched (they are set, not suggested).
    Errors: ValueError for a parameter without a finite set of values (log-uniform, uniform without
    ``step``, log-scale integers), naming it and what to write instead.
    """
    space: dict[str, list] = {}
    for name, parameter in parameters.items():
        distribution = parameter["distribution"]
        if distribution == "categorical":
            space[name] = _optuna_choices(name, parameter["values"])
        elif distribution == "int":
            space[name] = list(range(parameter["low"], _aligned_int_high(parameter) + 1, parameter["step"]))
        elif distribution == "uniform" and parameter["step"] is not None:
            space[name] = _float_grid(parameter["low"], parameter["high"], parameter["step"])
        elif distribution != "constant":
            raise ValueError(
                f"sweep.method `grid` needs a finite set of values, and `{name}` is {distribution} "
                "(continuous): list its values with `values: [...]`, give a uniform a `step`, or use "
                "method: random or tpe"
            )
    return space


_SAMPLERS: dict[str, Callable[[dict, int | None], Any]] = {
    "random": _random_sampler,
    "grid": _grid_sampler,
    "tpe": _tpe_sampler,
    "bayes": _tpe_sampler,
    "cmaes": _cmaes_sampler,
}


# --- pruners -------------------------------------------------------------------------------------


def build_pruner(sweep: dict, epochs: int | None):
    """The Optuna pruner for ``sweep["pruner"]``; intermediate values are reported once per epoch.

    Inputs: ``sweep``, the resolved sweep section; ``epochs``, ``training.epochs`` (Hyperband's
    ``max_resource: auto``; with None, as when training is bounded by ``max_steps``, Optuna
    estimates it from the first trial).
    Output: a ``HyperbandPruner``, ``SuccessiveHalvingPruner`` (``successive_halving`` and ``asha``:
    Optuna's implementation is asynchronous), ``MedianPruner`` or ``NopPruner``.
    Errors: ValueError for an unknown pruner type.
    """
    section = sweep["pruner"]
    factory = _PRUNERS.get(section["type"])
    if factory is None:
        raise ValueError(f"unknown sweep.pruner.type {section['type']!r}; rigorml knows {', '.join(sorted(_PRUNERS))}")
    return factory(section, epochs)


def _hyperband_pruner(section: dict, epochs: int | None):
    import optuna

    max_resource = section["max_resource"]
    if max_resource == "auto" and epochs is not None:
        max_resource = epochs
    return optuna.pruners.HyperbandPruner(
        min_resource=section["min_resource"],
        max_resource=max_resource,
        reduction_factor=section["reduction_factor"],
    )


def _successive_halving_pruner(section: dict, epochs: int | None):
    import optuna

    return optuna.pruners.SuccessiveHalvingPruner(
        min_resource=section["min_resource"],
        reduction_factor=section["reduction_factor"],
        min_early_stopping_rate=section["min_early_stopping_rate"],
    )


def _median_pruner(section: dict, epochs: int | None):
    import optuna

    return optuna.pruners.MedianPruner(
        n_startup_trials=section["n_startup_trials"],
        n_warmup_steps=section["n_warmup_steps"],
        interval_steps=section["interval_steps"],
    )


def _no_pruner(section: dict, epochs: int | None):
    import optuna

    return optuna.pruners.NopPruner()


_PRUNERS: dict[str, Callable[[dict, int | None], Any]] = {
    "hyperband": _hyperband_pruner,
    "successive_halving": _successive_halving_pruner,
    "asha": _successive_halving_pruner,
    "median": _median_pruner,
    "none": _no_pruner,
}


# --- the search space ----------------------------------------------------------------------------


def suggest(trial, parameters: dict) -> dict[str, Any]:
    """Sample one configuration of the sweep's ``parameters`` with an Optuna ``trial``.

    Each distribution maps to Optuna's own suggestion: ``log_uniform`` to ``suggest_float(log=True)``,
    ``uniform`` to ``suggest_float`` (with ``step``), ``int`` to ``suggest_int`` with ``step`` (values
    low, low+step, ... up to high), ``int_log`` to ``suggest_int(log=True)``, ``categorical`` to
    ``suggest_categorical``. A ``constant`` is not searched: it is recorded as a user attribute of
    the trial under its path. A parameter with ``when`` is sampled only when every parameter it names
    was sampled with one of the listed values; parameters are decided in an order that samples
    those conditions first (:func:`decision_order`).

    Output: ``{dotted path: value}`` of the parameters sampled in this trial (``flag.*`` switches
    included; :func:`trial_config` skips them).
    Errors: ValueError for a condition on an unknown parameter or a cycle of conditions.
    """
    chosen: dict[str, Any] = {}
    for name in decision_order(parameters):
        parameter = parameters[name]
        if _condition_holds(parameter.get("when"), chosen):
            chosen[name] = _SUGGESTIONS[parameter["distribution"]](trial, name, parameter)
    return chosen


def trial_params(trial, parameters: dict) -> dict[str, Any]:
    """The configuration a trial (an Optuna ``Trial`` or ``FrozenTrial``) sampled, as :func:`suggest`
    returned it: categorical values decoded, constants included. Output: ``{dotted path: value}``."""
    chosen: dict[str, Any] = {}
    for name in decision_order(parameters):
        parameter = parameters[name]
        if parameter["distribution"] == "constant":
            if name in trial.user_attrs:
                chosen[name] = trial.user_attrs[name]
        elif name in trial.params:
            value = trial.params[name]
            if parameter["distribution"] == "categorical":
                value = _decode_choice(name, parameter["values"], value)
            chosen[name] = value
    return chosen


def decision_order(parameters: dict) -> list[str]:
    """Parameter names so that every parameter comes after those its ``when`` names; otherwise in
    name order (the same order on every run, which a seeded sampler needs)."""
    waiting = {name: set((parameter.get("when") or {})) for name, parameter in parameters.items()}
    for name, needs in waiting.items():
        unknown = sorted(needs - set(parameters))
        if unknown:
            raise ValueError(
                f"sweep parameter `{name}` has a condition on `{unknown[0]}`, which is not a sweep parameter"
            )
    order: list[str] = []
    while waiting:
        ready = sorted(name for name, needs in waiting.items() if needs <= set(order))
        if not ready:
            cycle = ", ".join(sorted(waiting))
            raise ValueError(f"the `when` conditions of {cycle} form a cycle: none can be decided first")
        order.extend(ready)
        for name in ready:
            del waiting[name]
    return order


def _condition_holds(when: dict | None, chosen: dict) -> bool:
    return all(name in chosen and chosen[name] in allowed for name, allowed in (when or {}).items())


def _suggest_log_uniform(trial, name: str, parameter: dict) -> float:
    return trial.suggest_float(name, parameter["low"], parameter["high"], log=True)


def _suggest_uniform(trial, name: str, parameter: dict) -> float:
    step = parameter["step"]
    if step is None:
        return trial.suggest_float(name, parameter["low"], parameter["high"])
    high = _float_grid(parameter["low"], parameter["high"], step)[-1]
    return trial.suggest_float(name, parameter["low"], high, step=step)


def _suggest_int(trial, name: str, parameter: dict) -> int:
    return trial.suggest_int(name, parameter["low"], _aligned_int_high(parameter), step=parameter["step"])


def _suggest_int_log(trial, name: str, parameter: dict) -> int:
    return trial.suggest_int(name, parameter["low"], parameter["high"], log=True)


def _suggest_categorical(trial, name: str, parameter: dict) -> Any:
    choice = trial.suggest_categorical(name, _optuna_choices(name, parameter["values"]))
    return _decode_choice(name, parameter["values"], choice)


def _suggest_constant(trial, name: str, parameter: dict) -> Any:
    trial.set_user_attr(name, parameter["value"])
    return parameter["value"]


_SUGGESTIONS: dict[str, Callable[[Any, str, dict], Any]] = {
    "log_uniform": _suggest_log_uniform,
    "uniform": _suggest_uniform,
    "int": _suggest_int,
    "int_log": _suggest_int_log,
    "categorical": _suggest_categorical,
    "constant": _suggest_constant,
}


def _aligned_int_high(parameter: dict) -> int:
    """The largest of low, low+step, ... not above high (Optuna would warn and do the same)."""
    low, step = parameter["low"], parameter["step"]
    return low + (parameter["high"] - low) // step * step


def _float_grid(low: float, high: float, step: float) -> list[float]:
    """low, low+step, ... up to high, computed in decimal so 0.1 steps do not drift."""
    low_, step_ = decimal.Decimal(repr(low)), decimal.Decimal(repr(step))
    count = int((decimal.Decimal(repr(high)) - low_) // step_) + 1
    return [float(low_ + i * step_) for i in range(count)]


def _is_optuna_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _optuna_choices(name: str, values: list) -> list:
    """Categorical values as Optuna stores them: scalars as they are, anything else (a list of hidden
    sizes, a mapping) as its JSON text, decoded again by :func:`_decode_choice`."""
    choices = [value if _is_optuna_scalar(value) else json.dumps(value, sort_keys=True) for value in values]
    if len({repr(choice) for choice in choices}) != len(choices):
        raise ValueError(f"sweep parameter `{name}`: two values have the same JSON text; make them distinct")
    return choices


def _decode_choice(name: str, values: list, choice: Any) -> Any:
    for value, encoded in zip(values, _optuna_choices(name, values)):
        if encoded == choice and type(encoded) is type(choice):
            return value
    raise ValueError(f"sweep parameter `{name}`: {choice!r} is not one of its values {values}")


# --- one trial -----------------------------------------------------------------------------------


def trial_config(resolved: dict, params: dict) -> dict:
    """The resolved spec a trial trains: the base configuration (no variants) with ``params`` set at
    their dotted paths exactly as a variant's overrides are applied; ``flag.*`` switches set nothing.
    Output: a new dict whose only arm is ``base``. Errors: ValueError for a path that cannot be set."""
    overrides = {path: value for path, value in params.items() if not path.startswith(FLAG_PREFIX)}
    as_variant = {**resolved, "variants": {BASE_ARM: {"overrides": overrides}}}
    config = arm_config(as_variant, BASE_ARM)
    config["variants"] = {}
    return config


def trial_seed(resolved: dict) -> int:
    """The replicate seed every trial trains with: the first of ``seeds.replicates``."""
    return resolved["seeds"]["replicates"][0]


def trial_dir(sweep_dir: str | Path, number: int) -> Path:
    """Where trial ``number`` of a sweep trains: ``<sweep_dir>/trial-<number>``."""
    return Path(sweep_dir) / f"trial-{number}"


def objective_value(values: dict[str, float], metric: str) -> float:
    """The objective ``metric`` among the logged validation ``values``; ValueError when it is not
    there (it must be a metric the run computes: the primary or a secondary one, or ``val/loss``)."""
    if metric not in values:
        logged = ", ".join(sorted(name for name in values if name.startswith("val/")))
        raise ValueError(f"sweep.objective.metric {metric} is not logged by the run (validation logs: {logged})")
    return float(values[metric])


def train_trial(trial, resolved: dict, sweep_dir: str | Path, *, base_dir: str | Path = ".") -> float:
    """Train one Optuna trial of the resolved spec's sweep and return its objective value.

    Samples the parameters (:func:`suggest`), trains :func:`trial_config` at :func:`trial_seed` in
    :func:`trial_dir` on the validation split only, reporting the objective after every validation
    and stopping when the pruner says so. The trial's run is named after the trial number and
    tracked in the spec's tracking group, tagged with the study and trial.
    Output: the objective on the validation split at the end of training.
    Errors: ``optuna.TrialPruned`` for a pruned trial; whatever training raises otherwise (recorded
    on the trial as the user attribute ``error``).
    """
    import optuna

    from .train import train_run

    sweep = resolved["sweep"]
    metric = sweep["objective"]["metric"]
    params = suggest(trial, sweep["parameters"])

    def on_epoch(epoch: int, values: dict[str, float]) -> bool:
        trial.report(objective_value(values, metric), epoch)
        return trial.should_prune()

    try:
        result = train_run(
            trial_config(resolved, params),
            BASE_ARM,
            trial_seed(resolved),
            trial_dir(sweep_dir, trial.number),
            base_dir=base_dir,
            tracker_factory=_trial_tracker(trial.number, trial.study.study_name, params),
            on_epoch=on_epoch,
            splits=("val",),  # never test: tuning on it would leave no unbiased estimate
        )
        if result.status == "pruned":
            raise optuna.TrialPruned(f"pruned after epoch {result.epochs}")
        return objective_value(result.metrics, metric)
    except optuna.TrialPruned:
        raise
    except (Exception, KeyboardInterrupt) as error:
        trial.set_user_attr("error", f"{type(error).__name__}: {error}")
        raise


def trial_run_name(tracking: dict, experiment: str, arm: str, seed: int, number: int) -> str:
    """A trial's run name: ``tracking.run_name`` with ``{trial}`` filled, and ``-t{trial}`` appended
    when the template has no ``{trial}``, so that trials never share a name."""
    template = tracking["run_name"]
    if "{trial}" not in template:
        template += "-t{trial}"
    return template.format(experiment=experiment, variant=arm, seed=seed, trial=number)


def _trial_tracker(number: int, study_name: str, params: dict):
    """A ``tracker_factory`` for train_run: the trial's name, the spec's group, the study as tags."""

    def open_trial_tracker(config, resolved, run_dir, arm, replicate, resume_after=None):
        from .tracking import open_tracker

        tracking = config["tracking"]
        name = trial_run_name(tracking, config["experiment"]["name"], arm, replicate, number)
        tracker = open_tracker(tracking, run_dir, name, tracking["group"], resolved, resume_after=resume_after)
        try:
            tracker.set_tags({"sweep.study": study_name, "sweep.trial": number})
            tracker.log_params(params)
        except BaseException:
            tracker.close("failed")
            raise
        return tracker

    return open_trial_tracker


# --- the study -----------------------------------------------------------------------------------


def open_storage(url: str | None, sweep_dir: str | Path):
    """The Optuna storage of a sweep: ``url``, or SQLite at ``<sweep_dir>/study.db`` when None.

    ``sqlite:///``, ``postgresql://`` and ``mysql://`` URLs open an RDB storage (the database's
    driver must be installed). Errors: ValueError for ``journal:`` and other URLs this build does
    not open.
    """
    import optuna

    if url is None:
        url = f"sqlite:///{(Path(sweep_dir) / DEFAULT_STORAGE_FILE).resolve()}"
    if url.startswith(("sqlite:", "postgresql", "mysql")):
        return optuna.storages.RDBStorage(url)
    raise ValueError(
        f"storage {url!r}: this build of rigorml opens sqlite:///PATH, postgresql://... and mysql://... URLs"
    )


def search_fingerprint(resolved: dict) -> str:
    """sha256 of what a study's trials depend on: the task, seeds, data, model, training and metrics
    sections, and the sweep without its budget fields (n_trials, timeout, storage, workers, final
    validation). Runs with the same fingerprint may share a study; a different one would mix trials
    of different searches. Variants, evaluation, tracking and the rest do not enter a trial."""
    sweep = {key: value for key, value in resolved["sweep"].items() if key not in _BUDGET_FIELDS}
    searched = {section: resolved[section] for section in _TRIAL_SECTIONS}
    return spec_hash({**searched, "task": resolved["experiment"]["task"], "sweep": sweep})


def open_study(resolved: dict, sweep_dir: str | Path, storage: str | None = None):
    """Create the sweep's study, or load it when it exists (a resumed sweep).

    The name is ``sweep.study_name`` (the experiment's name by default), the direction the
    objective's, the sampler and pruner the spec's. ``storage``: a URL overriding
    ``sweep.storage``; both None means SQLite under ``sweep_dir``.
    Errors: ValueError when the stored study was started by a different search (another search
    space, objective, sampler, pruner or base configuration).
    """
    import optuna

    sweep = resolved["sweep"]
    study = optuna.create_study(
        storage=open_storage(storage or sweep["storage"], sweep_dir),
        sampler=build_sampler(sweep, _sampler_seed(resolved)),
        pruner=build_pruner(sweep, resolved["training"]["epochs"]),
        study_name=sweep["study_name"] or resolved["experiment"]["name"],
        direction=sweep["objective"]["direction"],
        load_if_exists=True,
    )
    fingerprint = search_fingerprint(resolved)
    stored = study.user_attrs.get(FINGERPRINT_ATTR)
    if stored is None:
        study.set_user_attr(FINGERPRINT_ATTR, fingerprint)
    elif stored != fingerprint:
        raise ValueError(
            f"study {study.study_name!r} was started by a different search (sha256 {stored[:12]}..., this "
            f"one {fingerprint[:12]}...): use another sweep directory or sweep.study_name"
        )
    if study.direction.name.lower() != sweep["objective"]["direction"]:
        raise ValueError(f"study {study.study_name!r} is stored with direction {study.direction.name.lower()}")
    return study


def _sampler_seed(resolved: dict) -> int | None:
    seed = resolved["sweep"]["sampler"]["seed"]
    return resolved["seeds"]["global"] if seed is None else seed


def _check_trial_dirs(study, sweep_dir: Path) -> None:
    """Refuse a sweep directory holding trial folders its study does not know (a study database
    deleted or replaced): new trials would reuse their numbers and mix with their files."""
    known = {trial.number for trial in study.get_trials(deepcopy=False)}
    strangers = sorted(
        path.name
        for path in sweep_dir.glob("trial-*")
        if not path.name[len("trial-") :].isdigit() or int(path.name[len("trial-") :]) not in known
    )
    if strangers:
        raise ValueError(
            f"{sweep_dir} holds {', '.join(strangers[:3])}{'...' if len(strangers) > 3 else ''}, which study "
            f"{study.study_name!r} does not know: use another sweep directory, or delete those folders"
        )


def counted_trials(study) -> int:
    """Trials that count towards ``n_trials``: completed and pruned ones (a failed trial does not)."""
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def run_sweep(
    resolved: dict,
    sweep_dir: str | Path,
    *,
    base_dir: str | Path = ".",
    n_trials: int | None = None,
    storage: str | None = None,
):
    """Run (or resume) the resolved spec's sweep in ``sweep_dir`` and return the Optuna study.

    Inputs: ``resolved``, the resolved spec (with a ``sweep`` section); ``sweep_dir``, where the
    study's storage, trial directories and best.json go; ``base_dir``, where the spec's relative
    data paths and modules are found; ``n_trials``, the trial budget (default ``sweep.n_trials``),
    counting completed and pruned trials of earlier runs; ``storage``, an Optuna storage URL
    (default ``sweep.storage``, else SQLite at ``<sweep_dir>/study.db``).
    Starts at most the trials left in the budget (failed attempts use them up too, so a deterministic
    failure cannot loop), stops starting trials after ``sweep.timeout_minutes``, and writes
    best.json atomically when it ends, Ctrl-C included (which then propagates).
    Errors: ValueError for a spec without a sweep, a study of a different search, or a directory
    holding trials the study does not know.
    """
    import optuna
    from optuna.trial import TrialState

    sweep = resolved.get("sweep")
    if not sweep:
        raise ValueError("the spec has no `sweep` section: nothing to search")
    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    study = open_study(resolved, sweep_dir, storage)
    _check_trial_dirs(study, sweep_dir)
    budget = n_trials if n_trials is not None else sweep["n_trials"]
    remaining = max(0, budget - counted_trials(study))
    timeout = sweep["timeout_minutes"] * 60 if sweep["timeout_minutes"] is not None else None
    quiet, handlers = _FailedTrialsOnOneLine(), optuna.logging.get_logger("optuna").handlers
    for handler in handlers:  # Optuna's own stderr handler: records of every optuna.* logger
        handler.addFilter(quiet)
    try:
        if remaining:
            study.optimize(
                lambda trial: train_trial(trial, resolved, sweep_dir, base_dir=base_dir),
                n_trials=remaining,
                timeout=timeout,
                catch=(Exception,),
                # Stops this worker once the study holds the budget, counting other workers' trials.
                callbacks=[optuna.study.MaxTrialsCallback(budget, states=(TrialState.COMPLETE, TrialState.PRUNED))],
            )
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
        write_json_atomic(sweep_dir / BEST_FILE, sweep_summary(study, resolved))
    return study


class _FailedTrialsOnOneLine(logging.Filter):
    """Optuna logs a failed trial with the traceback of its error. The message already names the
    error (the runtime's diagnostics say what to fix, and best.json keeps it), so the traceback is
    dropped unless RIGORML_DEBUG is set, as rigorml does for errors elsewhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not os.environ.get("RIGORML_DEBUG"):
            record.exc_info, record.exc_text = None, None
        return True


def sweep_summary(study, resolved: dict) -> dict:
    """What best.json holds: the study, the objective, the best trial (number, value, parameters,
    directory; None before any trial completes) and the trials by state, with failures' errors."""
    import optuna
    from optuna.trial import TrialState

    sweep = resolved["sweep"]
    trials = study.get_trials(deepcopy=False)
    counts = {state.name.lower(): sum(t.state == state for t in trials) for state in TrialState}
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)]
    best = None
    if complete:
        pick = max if study.direction == optuna.study.StudyDirection.MAXIMIZE else min
        chosen = pick(complete, key=lambda trial: trial.value)  # the first of equals, as Optuna
        best = {
            "trial": chosen.number,
            "value": chosen.value,
            "params": trial_params(chosen, sweep["parameters"]),
            "run_dir": trial_dir(".", chosen.number).as_posix(),
        }
    return {
        "study_name": study.study_name,
        "objective": dict(sweep["objective"]),
        "search_sha256": search_fingerprint(resolved),
        "seed": trial_seed(resolved),
        "best": best,
        "trials": {
            "total": len(trials),
            "complete": counts["complete"],
            "pruned": counts["pruned"],
            "failed": counts["fail"],
            "running": counts["running"],
        },
        "failures": [
            {"trial": t.number, "error": t.user_attrs.get("error")} for t in trials if t.state == TrialState.FAIL
        ],
    }
