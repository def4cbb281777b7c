"""Hyperparameter search: the spec's ``sweep`` section run as an Optuna study.

``run_sweep(resolved, sweep_dir)`` tunes the *base* configuration (the spec without its variants):
each trial samples the sweep's parameters, sets them at their dotted paths, trains one run on the
validation split only, and reports the objective after every validation so the pruner can stop a
hopeless trial early. What it leaves in ``sweep_dir``::

    study.db            the Optuna study: SQLite for one worker, unless a storage URL says otherwise
    study.journal       ... or Optuna's journal file, for several worker processes on this machine
    trial-<number>/     each trial's run directory (train_run's layout; val predictions only)
    worker-<i>.log      the output of worker process i (``run_workers``)
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
  goes on; Ctrl-C fails the trial in progress, writes best.json and stops;
* several workers share one study through its storage: the journal file on one machine, PostgreSQL
  across machines. Each running trial sends heartbeats; a trial whose worker died is failed once
  its heartbeat is overdue and queued again with the same parameters as a new trial, in a new
  directory. A worker takes a place in the budget under a lock (a file lock, or the database's),
  so workers together run the budget, never more.

The pieces are small functions a later step plugs into: :func:`build_sampler`, :func:`build_pruner`
(both registered by name), :func:`open_storage` (the one place a storage is opened: also
:func:`load_sweep_study` for readers), :func:`suggest` / :func:`trial_params` (a trial's parameters,
forwards and back), :func:`trial_config`, :func:`train_trial`, :func:`run_sweep` (one process) and
:func:`run_workers` (several). Optuna is imported inside the functions that need it.
"""

from __future__ import annotations

import contextlib
import decimal
import functools
import hashlib
import json
import logging
import math
import os
import re
import socket
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..schemas.references import FLAG_PREFIX
from .config import BASE_ARM, arm_config, spec_hash
from .tracking import write_json_atomic

#: The sweep's summary in its directory.
BEST_FILE = "best.json"

#: The Optuna storage a sweep uses unless the spec or the caller names one: SQLite for one worker...
DEFAULT_STORAGE_FILE = "study.db"

#: ... and Optuna's journal file for several worker processes on one machine.
DEFAULT_JOURNAL_FILE = "study.journal"

#: Trial user attribute: the process training the trial, ``<host>:<pid>`` (where its directory is).
WORKER_ATTR = "worker"

#: Trial user attribute of a retried trial: the number of the stale trial it repeats.
RETRY_ATTR = "retry_of"

#: Trial system attribute holding a running trial's last heartbeat on the journal storage.
HEARTBEAT_ATTR = "rigorml:heartbeat"

#: Seconds between a waiting worker's looks at the study (other workers' trials hold the budget).
WAIT_POLL_S = 0.5

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
    tracked in the spec's tracking group, tagged with the study and trial. A retried trial (queued
    again after its worker died) already holds the stale trial's parameters, so :func:`suggest`
    returns them; it trains from scratch in its own directory (its own number), tagged
    ``sweep.retry_of``: the dead worker's directory, checkpoints included, is left as it was.
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
            tracker_factory=_trial_tracker(trial.number, trial.study.study_name, params, trial.user_attrs.get(RETRY_ATTR)),
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


def _trial_tracker(number: int, study_name: str, params: dict, retry_of: int | None = None):
    """A ``tracker_factory`` for train_run: the trial's name, the spec's group, the study as tags
    (and the trial a retried trial repeats)."""

    def open_trial_tracker(config, resolved, run_dir, arm, replicate, resume_after=None):
        from .tracking import open_tracker

        tracking = config["tracking"]
        name = trial_run_name(tracking, config["experiment"]["name"], arm, replicate, number)
        tracker = open_tracker(tracking, run_dir, name, tracking["group"], resolved, resume_after=resume_after)
        try:
            tags = {"sweep.study": study_name, "sweep.trial": number}
            if retry_of is not None:
                tags["sweep.retry_of"] = retry_of
            tracker.set_tags(tags)
            tracker.log_params(params)
        except BaseException:
            tracker.close("failed")
            raise
        return tracker

    return open_trial_tracker


# --- storages ------------------------------------------------------------------------------------


class StorageError(ValueError):
    """A study storage that cannot be opened: a URL rigorml does not know, a database driver that is
    not installed, a database that cannot be reached, a journal file that cannot be written. The
    message names the storage (its password hidden) and what to do."""


@dataclass(frozen=True)
class Heartbeat:
    """How a sweep notices a worker that died in the middle of a trial, and what it does then.

    A running trial records a heartbeat every ``interval`` seconds (a thread of its worker). A
    running trial silent for ``grace`` seconds is stale: its worker was killed, or its machine was
    lost. The next worker (or ``run_workers``' supervisor) that looks at the study fails it and
    queues it again with the same parameters as a new trial, at most ``max_retries`` times for one
    configuration; after that it stays failed. Whole seconds, because Optuna's RDB storage takes
    whole seconds. Errors: ValueError for an interval under 1 s, a grace period not longer than
    the interval, or negative retries.
    """

    interval: int = 30
    grace: int = 120
    max_retries: int = 3

    def __post_init__(self) -> None:
        if not isinstance(self.interval, int) or self.interval < 1:
            raise ValueError(f"the heartbeat interval must be a whole number of seconds, at least 1 (got {self.interval!r})")
        if not isinstance(self.grace, int) or self.grace <= self.interval:
            raise ValueError(
                f"the grace period must be a whole number of seconds longer than the heartbeat interval "
                f"({self.interval} s), so that one late heartbeat does not fail a trial (got {self.grace!r})"
            )
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError(f"the number of retries must be a whole number, 0 or more (got {self.max_retries!r})")


#: Prefix of a journal storage URL.
JOURNAL_SCHEME = "journal:"

#: URL prefixes opened as Optuna's RDB storage.
_RDB_SCHEMES = ("sqlite:", "postgresql:", "postgresql+", "mysql:", "mysql+")

#: Seconds a worker waits for a database server to answer a connection.
CONNECT_TIMEOUT_S = 10

#: What to install when a database driver is missing, by SQLAlchemy backend.
_DRIVERS = {
    "postgresql": "pip install 'rigorml[postgres]'",
    "mysql": "pip install mysqlclient (or pymysql, with a mysql+pymysql:// URL)",
}


def storage_url(url: str | None, sweep_dir: str | Path, *, workers: int = 1) -> str:
    """The storage URL a sweep opens.

    ``url`` when given (a relative ``journal:`` path is made absolute, so that worker processes
    and later runs find the same file). Otherwise a study file in ``sweep_dir``: the one already
    there (``study.journal`` or ``study.db``: a resumed sweep finds its study whatever the number
    of workers), else ``journal:///<sweep_dir>/study.journal`` for several workers and
    ``sqlite:///<sweep_dir>/study.db`` for one.
    Errors: StorageError for a malformed ``journal:`` URL, and when ``sweep_dir`` holds both files.
    """
    if url is not None:
        if url.startswith(JOURNAL_SCHEME):
            return f"journal://{journal_path(url).resolve()}"
        return url
    sweep_dir = Path(sweep_dir).resolve()
    journal, database = sweep_dir / DEFAULT_JOURNAL_FILE, sweep_dir / DEFAULT_STORAGE_FILE
    if journal.exists() and database.exists():
        raise StorageError(
            f"{sweep_dir} holds both {DEFAULT_STORAGE_FILE} and {DEFAULT_JOURNAL_FILE}: name the study's "
            f"storage with a URL (sqlite:///{database} or journal://{journal})"
        )
    if journal.exists() or (workers > 1 and not database.exists()):
        return f"journal://{journal}"
    return f"sqlite:///{database}"


def journal_path(url: str) -> Path:
    """The file of a ``journal:`` URL. Like a ``file:`` URL: ``journal:///ABSOLUTE/PATH``, or
    ``journal:PATH`` (relative to the working directory, as a spec's ``sweep.storage`` writes it).
    Errors: StorageError for a URL naming a host or no file."""
    rest = url[len(JOURNAL_SCHEME) :]
    if rest.startswith("//"):
        rest = rest[2:]
        if not rest.startswith("/"):
            raise StorageError(
                f"storage {url!r}: a journal URL names a file on this machine, not a host: "
                "journal:///ABSOLUTE/PATH or journal:RELATIVE/PATH (PostgreSQL for workers on several machines)"
            )
    if not rest.strip():
        raise StorageError(f"storage {url!r} names no file: journal:///ABSOLUTE/PATH or journal:RELATIVE/PATH")
    return Path(rest)


def display_url(url: str) -> str:
    """``url`` with its password hidden (``postgresql://user:***@host/db``), for messages and logs."""
    return re.sub(r"^([A-Za-z0-9+.\-]+://[^:/@]*:)[^@/]*@", r"\1***@", url)


def storage_record(url: str) -> str:
    """``url`` without its password, as best.json records it: a reader reopens it with its own
    credentials (``PGPASSWORD``, ``~/.pgpass``)."""
    return re.sub(r"^([A-Za-z0-9+.\-]+://[^:/@]*):[^@/]*@", r"\1@", url)


def open_storage(url: str | None, sweep_dir: str | Path, *, workers: int = 1, heartbeat: Heartbeat | None = None):
    """The Optuna storage of a sweep, with heartbeats and the retry of stale trials.

    Inputs: ``url`` (None: a study file in ``sweep_dir``, see :func:`storage_url`); ``workers``,
    the number of worker processes on this machine (picks the default file); ``heartbeat``, the
    heartbeat settings (default :class:`Heartbeat`).

    * ``sqlite:///PATH``, ``postgresql://...`` (``postgresql+psycopg2://``, ``+psycopg://``) and
      ``mysql://...`` open Optuna's RDB storage with ``heartbeat_interval`` and ``grace_period``;
      server databases get a connection timeout and a liveness check of pooled connections.
    * ``journal:PATH`` opens Optuna's journal storage on a file (several processes on one
      machine), with heartbeats written to the journal: Optuna has none for it.

    Either way a stale trial is failed and retried with the same parameters (Optuna's
    ``RetryHeartbeatStaleTrialCallback``, ``heartbeat.max_retries`` times at most).
    Errors: StorageError for an unknown scheme, a missing driver (naming what to install), a
    database that cannot be reached, a journal file that cannot be opened.
    """
    heartbeat = heartbeat or Heartbeat()
    url = storage_url(url, sweep_dir, workers=workers)
    if url.startswith(JOURNAL_SCHEME):
        return _open_journal(url, heartbeat)
    if url.startswith(_RDB_SCHEMES):
        return _open_rdb(url, heartbeat)
    raise StorageError(
        f"storage {display_url(url)!r}: rigorml opens sqlite:///PATH, postgresql://USER@HOST/DB, mysql://... "
        "and journal:PATH (journal:///ABSOLUTE/PATH) URLs"
    )


def _open_rdb(url: str, heartbeat: Heartbeat):
    import optuna
    import sqlalchemy

    shown = display_url(url)
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError as error:
        raise StorageError(f"storage {shown!r} is not a database URL: {error}") from None
    backend = parsed.get_backend_name()
    if parsed.drivername == "postgresql":
        # A bare postgresql:// means psycopg2 to SQLAlchemy 2.0 and psycopg (3) to 2.1: take the
        # driver that is installed, the `postgres` extra's psycopg2 first.
        driver = next((name for name in ("psycopg2", "psycopg") if _importable(name)), None)
        if driver is None:
            raise StorageError(
                f"storage {shown!r}: the PostgreSQL driver (psycopg2) is not installed: {_DRIVERS['postgresql']}"
            )
        url = parsed.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)
    engine_kwargs: dict[str, Any] = {}
    if backend in _DRIVERS:
        # A worker must not hang on an unreachable server, and a pooled connection the server
        # dropped during a long trial is replaced rather than failing the next write.
        engine_kwargs["pool_pre_ping"] = True
        if "connect_timeout" not in parsed.query:
            engine_kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    callback = {_stale_callback_argument(): _retry_stale_trial(heartbeat)}

    def connect():
        with warnings.catch_warnings():
            # heartbeat_interval is marked experimental by Optuna; the sweep relies on it on purpose.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat.interval,
                grace_period=heartbeat.grace,
                **callback,
            )

    try:
        try:
            return connect()
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            # Workers on several machines starting at once on an empty database all create Optuna's
            # tables; the losers of that race see duplicate objects. The tables exist now: again.
            time.sleep(1.0)
            return connect()
    except ImportError as error:
        install = _DRIVERS.get(backend, f"install the {backend} driver SQLAlchemy names")
        cause = error.__cause__ if isinstance(error.__cause__, ImportError) else error  # Optuna wraps it
        missing = f" ({cause.name})" if cause.name else ""
        raise StorageError(f"storage {shown!r}: the {backend} driver{missing} is not installed: {install}") from None
    except Exception as error:  # OperationalError and kin: say why, never a traceback
        reason = " ".join(str(getattr(error, "orig", None) or error).split())
        raise StorageError(f"storage {shown!r} cannot be opened: {reason}") from None


def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def _stale_callback_argument() -> str:
    """RDBStorage's keyword for the stale-trial callback (renamed in Optuna 4.9)."""
    import inspect

    import optuna

    parameters = inspect.signature(optuna.storages.RDBStorage).parameters
    return "heartbeat_stale_trial_callback" if "heartbeat_stale_trial_callback" in parameters else "failed_trial_callback"


def _open_journal(url: str, heartbeat: Heartbeat):
    path = journal_path(url)
    try:
        from optuna.storages.journal import JournalFileBackend
    except ImportError:
        raise StorageError(f"storage {url!r}: the journal storage needs Optuna 4.0 or newer: pip install -U optuna") from None
    try:
        backend = JournalFileBackend(str(path), lock_obj=_Flock(Path(f"{path}.flock")))
        return _journal_storage_class()(backend, heartbeat)
    except OSError as error:
        raise StorageError(f"storage {url!r}: cannot open the journal file {path}: {error.strerror or error}") from None


class _Flock:
    """An exclusive ``flock`` on a file: the lock around appends to the journal, and the admission
    of workers on one machine (Optuna's ``BaseJournalFileLock`` interface: ``acquire``/``release``).

    Optuna's own journal locks (a symlink or an O_EXCL file, for NFS) are released by renaming the
    file, and break when a signal lands inside them: an interrupt while waiting removes the lock
    another process holds, and one inside ``release`` becomes a FileNotFoundError that hides the
    interrupt. A ``flock`` belongs to an open file descriptor: closing it, or the death of the
    process, releases it, whatever interrupts what. The journal is for one machine, where ``flock``
    is reliable; every process writing the file must be rigorml's (the lock file is not Optuna's).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the lock


@functools.cache
def _journal_storage_class():
    """Optuna's JournalStorage with heartbeats (built on first use: Optuna is imported lazily)."""
    import optuna
    from optuna.storages._heartbeat import BaseHeartbeat  # the interface Optuna's optimize loop drives
    from optuna.trial import TrialState

    class HeartbeatJournalStorage(optuna.storages.JournalStorage, BaseHeartbeat):
        """The journal storage, with the heartbeats Optuna gives its RDB storage only: a running
        trial's heartbeat is a system attribute holding the time of its last beat, appended to
        the journal like any other record. The file is on one machine, so one clock judges."""

        def __init__(self, backend, heartbeat: Heartbeat) -> None:
            super().__init__(backend)
            self._heartbeat = heartbeat
            self._stale_trial_callback = _retry_stale_trial(heartbeat)

        def record_heartbeat(self, trial_id: int) -> None:
            try:
                self.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())
            except optuna.exceptions.UpdateFinishedTrialError:
                pass  # another worker judged this trial stale (this process was paused too long)

        def _get_stale_trial_ids(self, study_id: int) -> list[int]:
            deadline = time.time() - self._heartbeat.grace
            stale = []
            for trial in self.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
                beat = trial.system_attrs.get(HEARTBEAT_ATTR)
                if beat is None:
                    continue  # started without heartbeats: nothing says whether it is alive
                started = trial.datetime_start.timestamp() if trial.datetime_start else 0.0
                if max(beat, started) < deadline:
                    stale.append(trial._trial_id)
            return stale

        def get_heartbeat_interval(self) -> int:
            return self._heartbeat.interval

        def get_heartbeat_stale_trial_callback(self):
            return self._stale_trial_callback

        def get_failed_trial_callback(self):  # the same, under its name before Optuna 4.9
            return self._stale_trial_callback

    return HeartbeatJournalStorage


def _retry_stale_trial(heartbeat: Heartbeat):
    """The stale-trial callback: log the failure and queue the same parameters again (Optuna's
    RetryHeartbeatStaleTrialCallback) as a trial of its own, which trains in its own directory.
    The queued trial keeps the stale trial's number in the user attribute ``retry_of`` and not its
    worker or heartbeat, which belong to the dead process."""
    import copy

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)  # RetryFailedTrialCallback, before Optuna 4.9
        retry_class = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
        retry = (retry_class or optuna.storages.RetryFailedTrialCallback)(max_retry=heartbeat.max_retries)

    def retry_stale_trial(study, trial) -> None:
        attempts = len(trial.system_attrs.get("retry_history", [])) + 1
        logger = _logger()
        if attempts > heartbeat.max_retries:
            logger.warning(
                f"Trial {trial.number} failed: no heartbeat for {heartbeat.grace} s (its worker was killed or its "
                f"machine lost); not retried, its configuration was retried {heartbeat.max_retries} time(s) already."
            )
        else:
            logger.warning(
                f"Trial {trial.number} failed: no heartbeat for {heartbeat.grace} s (its worker was killed or its "
                f"machine lost); queued again with the same parameters (retry {attempts} of {heartbeat.max_retries})."
            )
        queued = copy.deepcopy(trial)
        queued.user_attrs = {
            **{key: value for key, value in trial.user_attrs.items() if key not in (WORKER_ATTR, "error")},
            RETRY_ATTR: trial.number,
        }
        queued.system_attrs = {key: value for key, value in trial.system_attrs.items() if key != HEARTBEAT_ATTR}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry(study, queued)

    return retry_stale_trial


def _fail_stale_trials(study) -> None:
    """Fail (and queue again) the study's running trials whose heartbeat stopped."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def _logger():
    import optuna

    return optuna.logging.get_logger("optuna.rigorml")


# --- admission: one worker at a time takes a place in the budget --------------------------------


class _DatabaseAdmission:
    """A database lock named after the study (PostgreSQL's advisory lock, MySQL's GET_LOCK), held on
    a connection of its own: workers on several machines. A worker that dies holding it loses its
    connection, and the server releases the lock."""

    def __init__(self, engine, lock: str, unlock: str, key) -> None:
        self.engine, self.lock, self.unlock, self.key = engine, lock, unlock, key
        self._connection = None

    def acquire(self) -> None:
        import sqlalchemy

        connection = self.engine.connect()
        try:
            connection.execute(sqlalchemy.text(self.lock), {"key": self.key})
            connection.commit()
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def release(self) -> None:
        if self._connection is not None:
            import sqlalchemy

            connection, self._connection = self._connection, None
            try:
                connection.execute(sqlalchemy.text(self.unlock), {"key": self.key})
                connection.commit()
            finally:
                connection.close()


class _NoAdmission:
    """For a storage only one process can use (an in-memory SQLite database)."""

    def acquire(self) -> None:
        pass

    def release(self) -> None:
        pass


def _admission(url: str, storage, study_name: str):
    """The lock under which a worker decides whether the budget leaves room for one more trial and,
    if so, starts it: the trial is running (and counted by the others) before the lock is
    released, so workers deciding at the same moment never overshoot the budget."""
    if url.startswith(JOURNAL_SCHEME):
        return _Flock(Path(f"{journal_path(url)}.admission"))
    import sqlalchemy

    parsed = sqlalchemy.engine.make_url(url)
    backend = parsed.get_backend_name()
    digest = hashlib.sha256(f"rigorml-sweep:{study_name}".encode("utf-8")).digest()
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return _NoAdmission()
        return _Flock(Path(f"{database}.admission"))
    if backend == "postgresql":
        key = int.from_bytes(digest[:8], "big", signed=True)
        return _DatabaseAdmission(storage.engine, "SELECT pg_advisory_lock(:key)", "SELECT pg_advisory_unlock(:key)", key)
    if backend == "mysql":
        key = f"rigorml:{digest.hex()[:40]}"  # MySQL lock names: 64 characters at most
        return _DatabaseAdmission(storage.engine, "SELECT GET_LOCK(:key, -1)", "SELECT RELEASE_LOCK(:key)", key)
    return _NoAdmission()


# --- the study -----------------------------------------------------------------------------------


def search_fingerprint(resolved: dict) -> str:
    """sha256 of what a study's trials depend on: the task, seeds, data, model, training and metrics
    sections, and the sweep without its budget fields (n_trials, timeout, storage, workers, final
    validation). Runs with the same fingerprint may share a study; a different one would mix trials
    of different searches. Variants, evaluation, tracking and the rest do not enter a trial."""
    sweep = {key: value for key, value in resolved["sweep"].items() if key not in _BUDGET_FIELDS}
    searched = {section: resolved[section] for section in _TRIAL_SECTIONS}
    return spec_hash({**searched, "task": resolved["experiment"]["task"], "sweep": sweep})


def study_name(resolved: dict) -> str:
    """The sweep's study name: ``sweep.study_name``, else the experiment's name."""
    return resolved["sweep"]["study_name"] or resolved["experiment"]["name"]


@dataclass
class _Session:
    """An opened study with what a worker needs beside it."""

    study: Any
    storage: Any
    url: str
    admission: Any


def open_study(
    resolved: dict,
    sweep_dir: str | Path,
    storage: str | None = None,
    *,
    workers: int = 1,
    heartbeat: Heartbeat | None = None,
    worker_name: str = "0",
):
    """Create the sweep's study, or load it when it exists (a resumed sweep).

    The name is ``sweep.study_name`` (the experiment's name by default), the direction the
    objective's, the sampler and pruner the spec's. ``storage``: a URL overriding
    ``sweep.storage``; both None means a study file under ``sweep_dir`` (:func:`storage_url`:
    SQLite for one worker, the journal for ``workers`` > 1). ``heartbeat``: see :class:`Heartbeat`.
    ``worker_name`` seeds the sampler (:func:`worker_seed`): the spec's seed for worker ``"0"`` of
    a new study, a seed of its own for any other worker or a resumed study.
    Errors: StorageError when the storage cannot be opened; ValueError when the stored study was
    started by a different search (another search space, objective, sampler, pruner or base
    configuration).
    """
    return _open_session(resolved, sweep_dir, storage, workers=workers, heartbeat=heartbeat, worker_name=worker_name).study


def _open_session(resolved, sweep_dir, storage, *, workers, heartbeat, worker_name) -> _Session:
    import optuna

    sweep = resolved["sweep"]
    url = storage_url(storage or sweep["storage"], sweep_dir, workers=workers)
    opened = open_storage(url, sweep_dir, workers=workers, heartbeat=heartbeat)
    name = study_name(resolved)
    try:
        study = optuna.create_study(
            storage=opened,
            sampler=build_sampler(sweep, _sampler_seed(resolved)),
            pruner=build_pruner(sweep, resolved["training"]["epochs"]),
            study_name=name,
            direction=sweep["objective"]["direction"],
            load_if_exists=True,
        )
    except (ValueError, ImportError):
        raise
    except Exception as error:  # the database went away between opening and creating
        reason = " ".join(str(getattr(error, "orig", None) or error).split())
        raise StorageError(f"storage {display_url(url)!r}: cannot create or load study {name!r}: {reason}") from None
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
    seed = worker_seed(_sampler_seed(resolved), worker_name, len(study.get_trials(deepcopy=False)))
    if seed != _sampler_seed(resolved):
        study.sampler = build_sampler(sweep, seed)
    return _Session(study, opened, url, _admission(url, opened, name))


def worker_seed(seed: int | None, worker_name: str, started: int) -> int | None:
    """The sampler seed of one worker: the spec's ``seed`` for worker ``"0"`` of a study with no
    trial yet (one worker from scratch samples exactly what the spec's seed says), otherwise a
    seed derived from it, the worker's name and the trials already in the study, so that parallel
    workers, and a resumed sweep, do not propose the configurations already proposed."""
    if seed is None or (worker_name == "0" and started == 0):
        return seed
    digest = hashlib.sha256(f"{seed}:{worker_name}:{started}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big")  # numpy's RandomState takes 32-bit seeds


def load_sweep_study(sweep_dir: str | Path, study_name: str, storage_url: str | None = None):
    """Load a sweep's study to read it (the report, the analysis), opening no new study file.

    Looks in ``storage_url`` when given; else the study file in ``sweep_dir`` (``study.journal``
    or ``study.db``); else the storage ``best.json`` records (without its password: the reader's
    own credentials apply, e.g. ``PGPASSWORD``).
    Errors: StorageError when there is no study file and no URL, or the storage cannot be
    opened; KeyError when the storage holds no study of that name.
    """
    import optuna

    sweep_dir = Path(sweep_dir)
    url = storage_url
    if url is None and not any((sweep_dir / name).is_file() for name in (DEFAULT_JOURNAL_FILE, DEFAULT_STORAGE_FILE)):
        try:
            url = json.loads((sweep_dir / BEST_FILE).read_text(encoding="utf-8")).get("storage")
        except (OSError, ValueError, AttributeError):
            url = None
        if not url:
            raise StorageError(
                f"{sweep_dir} holds no study file ({DEFAULT_STORAGE_FILE} or {DEFAULT_JOURNAL_FILE}) and no storage "
                f"URL was given or recorded in {BEST_FILE}"
            )
    return optuna.load_study(study_name=study_name, storage=open_storage(url, sweep_dir))


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


def _occupancy(study) -> tuple[int, int]:
    """(trials counted towards the budget, running trials a live worker holds a place for). A running
    trial no rigorml worker claimed (no ``worker`` attribute: another tool, or a run that predates
    heartbeats) is not waited for: nothing would ever end it."""
    from optuna.trial import TrialState

    counted = occupied = 0
    for trial in study.get_trials(deepcopy=False):
        if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
            counted += 1
        elif trial.state == TrialState.RUNNING and WORKER_ATTR in trial.user_attrs:
            occupied += 1
    return counted, occupied


class SweepObserver:
    """What a sweep reports while it runs; :func:`run_workers` calls it from its polling loop, a
    one-process :func:`run_sweep` from its own trials. The CLI draws its progress display from it.
    Every method does nothing here."""

    def opened(self, study, budget: int, counted: int, storage: str, workers: int) -> None:
        """The study is open (``storage``: its URL, password hidden): ``counted`` of ``budget``
        trials are done already, ``workers`` processes will run the rest."""

    def trial_started(self, trial) -> None:
        """``trial`` (an Optuna trial or FrozenTrial) is training now."""

    def trial_finished(self, trial) -> None:
        """``trial`` (a FrozenTrial) ended: complete, pruned or failed."""

    def note(self, message: str) -> None:
        """Something the user should know that is not a trial (a worker that exited with an error)."""

    def tick(self) -> None:
        """Called every :data:`SUPERVISE_POLL_S` while workers run (a display redraws its clock)."""


def run_sweep(
    resolved: dict,
    sweep_dir: str | Path,
    *,
    base_dir: str | Path = ".",
    n_trials: int | None = None,
    storage: str | None = None,
    workers: int = 1,
    heartbeat: Heartbeat | None = None,
    observer: SweepObserver | None = None,
    worker_name: str = "0",
):
    """Run (or resume) the resolved spec's sweep in ``sweep_dir`` and return the Optuna study.

    Inputs: ``resolved``, the resolved spec (with a ``sweep`` section); ``sweep_dir``, where the
    study file, trial directories and best.json go; ``base_dir``, where the spec's relative
    data paths and modules are found; ``n_trials``, the trial budget (default ``sweep.n_trials``),
    counting completed and pruned trials of earlier runs and of other workers; ``storage``, an
    Optuna storage URL (default ``sweep.storage``, else a study file in ``sweep_dir``);
    ``workers``: more than one runs :func:`run_workers` (worker processes on this machine),
    one trains in this process; ``heartbeat``, see :class:`Heartbeat`; ``observer``, told about
    trials as they start and end; ``worker_name``, see :func:`worker_seed`.

    A worker starts a trial only while the completed, pruned and running trials leave room in the
    budget (decided under a lock, so parallel workers never overshoot it); when the room is taken by
    other workers' running trials it waits, because one of them may fail or go stale and need
    replacing. It starts at most the trials the budget lacked when it began (failed attempts use
    them up too, so a deterministic failure cannot loop), stops starting trials after
    ``sweep.timeout_minutes``, and writes best.json atomically when it ends, Ctrl-C included
    (which fails the trial in progress, then propagates).
    Errors: ValueError for a spec without a sweep, a study of a different search, or a directory
    holding trials the study does not know; StorageError (a ValueError) for a storage that cannot
    be opened.
    """
    sweep = resolved.get("sweep")
    if not sweep:
        raise ValueError("the spec has no `sweep` section: nothing to search")
    if workers > 1:
        return run_workers(
            resolved, sweep_dir, workers=workers, base_dir=base_dir, n_trials=n_trials, storage=storage,
            heartbeat=heartbeat, observer=observer,
        )  # fmt: skip
    import optuna

    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    session = _open_session(resolved, sweep_dir, storage, workers=1, heartbeat=heartbeat, worker_name=worker_name)
    study = session.study
    _check_trial_dirs(study, sweep_dir)
    budget = n_trials if n_trials is not None else sweep["n_trials"]
    counted = counted_trials(study)
    starts = max(0, budget - counted)
    observer = observer or SweepObserver()
    observer.opened(study, budget, counted, display_url(session.url), 1)
    timeout = sweep["timeout_minutes"] * 60 if sweep["timeout_minutes"] is not None else None
    quiet, handlers = _FailedTrialsOnOneLine(), optuna.logging.get_logger("optuna").handlers
    for handler in handlers:  # Optuna's own stderr handler: records of every optuna.* logger
        handler.addFilter(quiet)
    try:
        if starts:
            _work(session, resolved, sweep_dir, base_dir, budget, starts, timeout, observer)
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
        write_json_atomic(sweep_dir / BEST_FILE, sweep_summary(study, resolved, storage=session.url))
    return study


def _work(session: _Session, resolved, sweep_dir, base_dir, budget: int, starts: int, timeout, observer) -> None:
    """The worker loop of :func:`run_sweep`: take a place in the budget, train, until none is left."""
    study, admission = session.study, session.admission
    began = time.monotonic()
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def objective(trial) -> float:
        trial.set_user_attr(WORKER_ATTR, worker)
        admission.release()  # the trial is running and claimed: the other workers count it now
        observer.trial_started(trial)
        return train_trial(trial, resolved, sweep_dir, base_dir=base_dir)

    def finished(study, trial) -> None:
        observer.trial_finished(trial)

    while starts > 0 and (timeout is None or time.monotonic() - began < timeout):
        if _stop_requested():
            # The interrupt was delivered, but code it landed in turned it into another error
            # (the trial failed with it): stop all the same.
            raise KeyboardInterrupt("stop requested")
        admission.acquire()
        try:
            _fail_stale_trials(study)
            counted, occupied = _occupancy(study)
            if counted >= budget:
                return
            room = counted + occupied < budget
            if room:
                starts -= 1
                study.optimize(objective, n_trials=1, catch=(Exception,), callbacks=[finished])
        finally:
            admission.release()
        if not room:
            time.sleep(WAIT_POLL_S)  # the running trials hold the budget; one may fail and free its place


class _FailedTrialsOnOneLine(logging.Filter):
    """Optuna logs a failed trial with the traceback of its error. The message already names the
    error (the runtime's diagnostics say what to fix, and best.json keeps it), so the traceback is
    dropped unless RIGORML_DEBUG is set, as rigorml does for errors elsewhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not os.environ.get("RIGORML_DEBUG"):
            record.exc_info, record.exc_text = None, None
        return True


# --- worker processes ----------------------------------------------------------------------------


class SweepWorkersFailed(RuntimeError):
    """Worker processes exited with an error and the study did not reach its budget."""


#: Seconds between the supervisor's looks at the study.
SUPERVISE_POLL_S = 0.5

#: Seconds an interrupted worker gets to fail its trial and write best.json before it is killed.
STOP_GRACE_S = 30.0


@dataclass
class _Worker:
    index: int
    process: Any
    log_path: Path
    log: Any


def run_workers(
    resolved: dict,
    sweep_dir: str | Path,
    *,
    workers: int,
    base_dir: str | Path = ".",
    n_trials: int | None = None,
    storage: str | None = None,
    heartbeat: Heartbeat | None = None,
    observer: SweepObserver | None = None,
    worker_prefix: str = "",
):
    """Run (or resume) the sweep on ``workers`` processes on this machine sharing one study, and
    return the study (as this process sees it at the end).

    The study is opened here first, so that a storage that cannot be opened, or a study of another
    search, is reported before any worker starts. Without a storage URL the study file is the
    journal (``study.journal``) unless the sweep directory already holds a ``study.db``. Each worker
    is a Python process running :func:`run_sweep` (:func:`worker_main`), in a session of its own, with
    its output in ``<sweep_dir>/worker-<i>.log``; ``worker_prefix`` makes the workers' sampler seeds
    distinct from those of workers started elsewhere (``rigorml sweep-worker``). While they run, this
    process reports trials to ``observer`` (default: one log line each) and fails stale trials
    itself, so that a dead worker's trial is queued again promptly.
    Ctrl-C (and SIGTERM) interrupts every worker (each fails its trial in progress and writes
    best.json), kills those that do not stop within :data:`STOP_GRACE_S`, writes best.json and
    propagates KeyboardInterrupt. Errors: those of :func:`open_study` before any worker starts;
    SweepWorkersFailed when workers exited with an error and the budget was not reached.
    """
    sweep = resolved.get("sweep")
    if not sweep:
        raise ValueError("the spec has no `sweep` section: nothing to search")
    if workers < 1:
        raise ValueError(f"the number of workers must be at least 1, not {workers}")
    heartbeat = heartbeat or Heartbeat()
    observer = observer or _LoggingObserver()
    sweep_dir = Path(sweep_dir).resolve()
    sweep_dir.mkdir(parents=True, exist_ok=True)
    session = _open_session(
        resolved, sweep_dir, storage, workers=workers, heartbeat=heartbeat, worker_name=f"{worker_prefix}supervisor"
    )
    study = session.study
    _check_trial_dirs(study, sweep_dir)
    budget = n_trials if n_trials is not None else sweep["n_trials"]
    counted = counted_trials(study)
    observer.opened(study, budget, counted, display_url(session.url), workers)
    watch = _TrialWatch(study)
    started: list[_Worker] = []
    try:
        with _sigterm_as_interrupt():
            if counted < budget:
                for index in range(workers):
                    started.append(
                        _start_worker(resolved, sweep_dir, session.url, base_dir, budget, heartbeat, f"{worker_prefix}{index}", index)
                    )
            while any(worker.process.poll() is None for worker in started):
                _fail_stale_trials(study)
                watch.report(observer)
                observer.tick()
                time.sleep(SUPERVISE_POLL_S)
            watch.report(observer)
    except BaseException:
        _stop_workers(started)
        with contextlib.suppress(Exception):  # what the workers recorded while stopping
            watch.report(observer)
        raise
    finally:
        for worker in started:
            worker.log.close()
        write_json_atomic(sweep_dir / BEST_FILE, sweep_summary(study, resolved, storage=session.url))
    failed = [worker for worker in started if worker.process.returncode != 0]
    if failed:
        message = "; ".join(
            f"worker {worker.index} exited with code {worker.process.returncode}: {_last_line(worker.log_path)} "
            f"(see {worker.log_path})"
            for worker in failed
        )
        if counted_trials(study) < budget:
            raise SweepWorkersFailed(message)
        observer.note(message)
    return study


def _start_worker(resolved, sweep_dir: Path, url: str, base_dir, budget: int, heartbeat: Heartbeat, name: str, index: int) -> _Worker:
    import subprocess
    import sys

    log_path = sweep_dir / f"worker-{index}.log"
    log = open(log_path, "a", encoding="utf-8")
    log.write(f"--- worker {index} ({name}) started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    log.flush()
    command = [
        sys.executable, "-c", f"import sys; from {__name__} import worker_main; sys.exit(worker_main(sys.argv[1:]))",
        "--sweep-dir", str(sweep_dir), "--base-dir", str(Path(base_dir).resolve()),
        "--trials", str(budget), "--worker-name", name, "--heartbeat", str(heartbeat.interval),
        "--grace", str(heartbeat.grace), "--max-retries", str(heartbeat.max_retries),
        "--supervisor", str(os.getpid()),
    ]  # fmt: skip
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            # A session of its own: a Ctrl-C at the terminal reaches the supervisor alone, which
            # interrupts each worker once.
            start_new_session=True,
        )
        # The storage URL travels with the spec, not on the command line, where `ps` shows a password.
        process.stdin.write(json.dumps({"resolved": resolved, "storage": url}).encode("utf-8"))
        process.stdin.close()
    except BaseException:
        log.close()
        raise
    return _Worker(index, process, log_path, log)


def _stop_workers(workers: list[_Worker]) -> None:
    """SIGINT to every running worker (each fails its trial and writes best.json), then SIGKILL to
    those still running after :data:`STOP_GRACE_S`."""
    import signal
    import subprocess

    alive = [worker for worker in workers if worker.process.poll() is None]
    for worker in alive:
        worker.process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_S
    try:
        for worker in alive:
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
    except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
        for worker in alive:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a scheduler stopping the job) is handled like Ctrl-C while the workers run, so that
    they are stopped with the supervisor rather than left running."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _last_line(path: Path) -> str:
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "no output"


class _TrialWatch:
    """Which trials of a study the observer was told about: polled, it reports the new ones."""

    def __init__(self, study) -> None:
        self.study = study
        self.finished = {trial.number for trial in study.get_trials(deepcopy=False) if trial.state.is_finished()}
        self.running: set[int] = set()

    def report(self, observer: SweepObserver) -> None:
        from optuna.trial import TrialState

        for trial in self.study.get_trials(deepcopy=False):
            if trial.state == TrialState.RUNNING and trial.number not in self.running:
                self.running.add(trial.number)
                observer.trial_started(trial)
            elif trial.state.is_finished() and trial.number not in self.finished:
                self.finished.add(trial.number)
                self.running.discard(trial.number)
                observer.trial_finished(trial)


class _LoggingObserver(SweepObserver):
    """One log line per finished trial (Optuna's handler: standard error), for ``sweep.py``."""

    def opened(self, study, budget: int, counted: int, storage: str, workers: int) -> None:
        _logger().info(f"Study {study.study_name}: {counted} of {budget} trial(s) done; {workers} worker(s) on {storage}.")

    def trial_finished(self, trial) -> None:
        _logger().info(f"Trial {trial.number} {describe_trial(trial)}.")

    def note(self, message: str) -> None:
        _logger().warning(message)


def describe_trial(trial) -> str:
    """How a finished trial ended, in words: ``complete, value 0.93``, ``pruned at epoch 2``,
    ``failed: TrainingDiverged: ...``; with the worker that trained it and the trial it retried."""
    from optuna.trial import TrialState

    if trial.state == TrialState.COMPLETE:
        text = f"complete, value {trial.value:.6g}"
    elif trial.state == TrialState.PRUNED:
        steps = sorted(trial.intermediate_values)
        text = f"pruned at epoch {steps[-1]}" if steps else "pruned"
    else:
        text = f"failed: {failure_reason(trial)}"
    if RETRY_ATTR in trial.user_attrs:
        text += f" (retry of trial {trial.user_attrs[RETRY_ATTR]})"
    if WORKER_ATTR in trial.user_attrs:
        text += f" [{trial.user_attrs[WORKER_ATTR]}]"
    return text


def failure_reason(trial) -> str:
    """Why a failed trial failed: the error its training raised, or, with none recorded, that its
    worker stopped without a word (killed, or its heartbeat lost)."""
    return trial.user_attrs.get("error") or "no error recorded: its worker stopped (killed, or its heartbeat was lost)"


def worker_main(argv: list[str] | None = None) -> int:
    """A worker process of :func:`run_workers`: reads the resolved spec and the storage URL (JSON:
    ``{"resolved": ..., "storage": ...}``) from standard input and runs :func:`run_sweep` in one
    process on that storage.
    Exit codes: 0 done, 1 an error (its message on standard error), 130 interrupted."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="rigorml-sweep-worker", description="One worker of a sweep (started by run_workers).")
    parser.add_argument("--sweep-dir", required=True)
    parser.add_argument("--base-dir", default=".")
    parser.add_argument("--trials", type=int, required=True)
    parser.add_argument("--worker-name", default="0")
    parser.add_argument("--heartbeat", type=int, default=Heartbeat.interval)
    parser.add_argument("--grace", type=int, default=Heartbeat.grace)
    parser.add_argument("--max-retries", type=int, default=Heartbeat.max_retries)
    parser.add_argument("--supervisor", type=int, help="the pid of run_workers' process: stop when it dies")
    args = parser.parse_args(argv)
    try:
        _stop_with_supervisor(args.supervisor)
        given = json.load(sys.stdin)
        heartbeat = Heartbeat(args.heartbeat, args.grace, args.max_retries)
        run_sweep(
            given["resolved"], args.sweep_dir, base_dir=args.base_dir, n_trials=args.trials, storage=given["storage"],
            heartbeat=heartbeat, worker_name=args.worker_name,
        )  # fmt: skip
    except KeyboardInterrupt:
        print(f"worker {args.worker_name}: interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception as error:
        if os.environ.get("RIGORML_DEBUG"):
            raise
        print(f"worker {args.worker_name}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


#: Set in a worker process when it is told to stop (SIGINT, SIGTERM) or its supervisor is gone.
_STOP = threading.Event()

#: The pid of a worker process's supervisor (None outside worker processes).
_SUPERVISOR: int | None = None


def _stop_requested() -> bool:
    return _STOP.is_set() or (_SUPERVISOR is not None and os.getppid() != _SUPERVISOR)


def _stop_with_supervisor(supervisor: int | None) -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt (the trial in progress is failed and recorded) and
    are remembered, so that the worker stops even where the interrupt was turned into another error.
    On Linux the kernel sends SIGTERM when the supervisor dies (a worker runs in a session of its
    own, so nothing else would stop it): a killed ``rigorml sweep`` leaves no worker training."""
    global _SUPERVISOR
    import signal
    import sys

    def interrupt(signum, frame):
        _STOP.set()
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    _SUPERVISOR = supervisor
    if supervisor is None or not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before the request was made
        raise KeyboardInterrupt("the supervisor is gone")


# --- the summary ---------------------------------------------------------------------------------



def trial_counts(trials) -> dict:
    """The trials by state, as best.json and analysis.json count them: ``total``, ``complete``,
    ``pruned``, ``failed``, ``running``."""
    from optuna.trial import TrialState

    states = [trial.state for trial in trials]
    return {
        "total": len(trials),
        "complete": states.count(TrialState.COMPLETE),
        "pruned": states.count(TrialState.PRUNED),
        "failed": states.count(TrialState.FAIL),
        "running": states.count(TrialState.RUNNING),
    }


def finished_trials(trials) -> list:
    """The completed trials with a finite value: those a best trial, an importance or a
    sensitivity is computed from."""
    from optuna.trial import TrialState

    return [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)]


def sweep_summary(study, resolved: dict, *, storage: str | None = None) -> dict:
    """What best.json holds: the study, the objective, the best trial (number, value, parameters,
    directory, the worker that trained it; None before any trial completes), the trials by state,
    the failures (error, and the trial that retried it), and the storage (``storage``, a URL,
    recorded without its password)."""
    import optuna
    from optuna.trial import TrialState

    sweep = resolved["sweep"]
    trials = study.get_trials(deepcopy=False)
    complete = finished_trials(trials)
    retried_as = {t.user_attrs[RETRY_ATTR]: t.number for t in trials if RETRY_ATTR in t.user_attrs}
    best = None
    if complete:
        pick = max if study.direction == optuna.study.StudyDirection.MAXIMIZE else min
        chosen = pick(complete, key=lambda trial: trial.value)  # the first of equals, as Optuna
        best = {
            "trial": chosen.number,
            "value": chosen.value,
            "params": trial_params(chosen, sweep["parameters"]),
            "run_dir": trial_dir(".", chosen.number).as_posix(),
            "worker": chosen.user_attrs.get(WORKER_ATTR),
        }
    return {
        "study_name": study.study_name,
        "objective": dict(sweep["objective"]),
        "search_sha256": search_fingerprint(resolved),
        "seed": trial_seed(resolved),
        "storage": storage_record(storage) if storage is not None else None,
        "best": best,
        "trials": trial_counts(trials),
        "failures": [
            {"trial": t.number, "error": failure_reason(t), "retried_as": retried_as.get(t.number)}
            for t in trials
            if t.state == TrialState.FAIL
        ],
    }
