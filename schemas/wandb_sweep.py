"""W&B sweep configurations, read with W&B's semantics and written as rigorml's ``sweep`` section.

A W&B sweep configuration (``method``, ``metric``, ``parameters``, ``early_terminate``, ``run_cap``,
``program``...) is accepted in a spec as ``sweep: {format: wandb, ...}`` and by ``rigorml import
wandb-sweep FILE``. :func:`convert` turns one into the rigorml section that the rest of rigorml
(validation, the HPO rules, compile, the Optuna study) sees. docs/wandb-sweeps.md is the mapping
table; the decisions in short:

* exact where Optuna has the same distribution: ``uniform``, ``int_uniform``, ``log_uniform``
  (W&B's min/max are natural-log *exponents*: the range is exp(min)..exp(max)),
  ``log_uniform_values`` (min/max are the values), both ``inv_log_uniform`` forms (log(1/X) uniform
  is log-uniform again), ``categorical``, ``value``, and the quantised ``q_*`` forms whose values are
  a grid Optuna can step through;
* approximated, with a warning (code ``HPO016``) that says exactly what was done: priors Optuna
  cannot express (``normal``/``log_normal``: ``mu +- 2 sigma``; ``beta``; weighted categoricals;
  a log prior on a stepped grid), bounds that are not multiples of ``q``, W&B metric names that are
  not ``{split}/{metric}`` (``val_loss`` -> ``val/loss``), and the settings rigorml does not use
  (``program``, ``command``, ``project``, ``entity``, ``metric.target``...);
* refused, with a located error: what has no sensible equivalent (several metrics, ``method:
  custom``, a grid over a continuous range, a metric name without a split, a non-integer ``eta``).

``early_terminate: {type: hyperband}`` becomes rigorml's ``asha`` pruner: W&B's "hyperband" keeps,
at fixed iterations min_iter * eta^k, the runs in the top 1/eta of every run seen there -- one
bracket of asynchronous successive halving, which is Optuna's ``SuccessiveHalvingPruner``; Optuna's
``HyperbandPruner`` would run several brackets, a different schedule.

Pure Python on plain data (no pydantic): it runs on the ``rigorml validate`` path. Problems carry
paths into the W&B section and converted values carry the path they came from, so the caller
(:mod:`rigorml.compiler.dialects`) can point every message and every later finding at what the
author wrote.
"""

from __future__ import annotations

import copy
import math
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, NamedTuple

from .references import did_you_mean
from .vocabulary import OVERRIDABLE_SECTIONS

FORMAT = "wandb"

#: The code of every warning about a converted W&B sweep (the lint rule that reports them).
WARNING_CODE = "HPO016"
#: The code of a W&B setting rigorml cannot express.
UNEXPRESSIBLE = "SPC019"

#: W&B's search methods and the rigorml method each runs as.
METHODS = {"grid": "grid", "random": "random", "bayes": "tpe"}

#: Top-level keys of a W&B sweep configuration that rigorml reads.
SWEEP_KEYS = ("method", "metric", "parameters", "early_terminate", "run_cap", "name", "description")
#: W&B keys about how W&B launches runs; rigorml trains the spec's model instead (a warning each).
LAUNCH_KEYS = ("program", "command", "project", "entity", "controller", "job", "image_uri", "apiVersion", "kind")
#: W&B keys rigorml cannot express (an error each).
UNSUPPORTED_KEYS = {
    "metrics": "optimises several metrics at once; a rigorml study has one objective: keep one in `metric`",
    "scheduler": "hands the search to a custom scheduler; rigorml runs its own Optuna study: remove it",
}
#: rigorml's own sweep settings that W&B has no word for: allowed beside the W&B keys, unchanged.
PASSTHROUGH_KEYS = ("sampler", "storage", "workers", "final_validation", "timeout_minutes", "study_name")
#: rigorml keys whose W&B spelling a ``format: wandb`` section must use.
RIGORML_SPELLINGS = {"objective": "metric", "n_trials": "run_cap", "pruner": "early_terminate"}

METRIC_KEYS = ("name", "goal", "target", "impute", "impute_while_running")
GOALS = ("minimize", "maximize")
EARLY_TERMINATE_KEYS = ("type", "min_iter", "max_iter", "s", "eta", "strict")

#: Every W&B distribution and the keys it takes (beside ``distribution``).
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "categorical": ("values", "probabilities"),
    "categorical_w_probabilities": ("values", "probabilities"),
    "int_uniform": ("min", "max"),
    "uniform": ("min", "max"),
    "q_uniform": ("min", "max", "q"),
    "log_uniform": ("min", "max"),
    "log_uniform_values": ("min", "max"),
    "q_log_uniform": ("min", "max", "q"),
    "q_log_uniform_values": ("min", "max", "q"),
    "inv_log_uniform": ("min", "max"),
    "inv_log_uniform_values": ("min", "max"),
    "normal": ("mu", "sigma"),
    "q_normal": ("mu", "sigma", "q"),
    "log_normal": ("mu", "sigma"),
    "q_log_normal": ("mu", "sigma", "q"),
    "beta": ("a", "b"),
    "q_beta": ("a", "b", "q"),
}
PARAMETER_KEYS = ("distribution", "values", "value", "probabilities", "min", "max", "mu", "sigma", "q", "a", "b", "parameters")
#: Defaults W&B fills for the keys a distribution may leave out.
_DEFAULTS = {"mu": 0, "sigma": 1, "a": 1, "b": 1, "q": 1}
#: rigorml's parameter keys, and what a W&B section says instead.
_RIGORML_PARAMETER_KEYS = {
    "low": "W&B writes the range as `min`/`max`",
    "high": "W&B writes the range as `min`/`max`",
    "step": "W&B quantises with `q` and a `q_` distribution (`q_uniform`, `q_log_uniform_values`)",
    "when": "W&B has no conditional parameters; write the section in rigorml's form (`rigorml import wandb-sweep`) to use `when`",
}
_RIGORML_DISTRIBUTIONS = {"int": "int_uniform", "int_log": "q_log_uniform_values"}

#: How many standard deviations either side of ``mu`` a normal prior is searched over.
NORMAL_WIDTH = 2
_NORMAL_SHARE = "95%"  # of a normal's draws within mu +- 2 sigma

#: Split names W&B users log under, and the rigorml split each means.
SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "eval": "val",
    "dev": "val",
    "test": "test",
    "testing": "test",
}
_SPLIT_METRIC = re.compile(r"^(?P<split>[A-Za-z]+)(?P<sep>[/_.\-])(?P<metric>.+)$")

#: Argument names W&B training scripts commonly take, and the spec path that sets the same value.
SCRIPT_ARGUMENTS = {
    "lr": "training.optimizer.lr",
    "learning_rate": "training.optimizer.lr",
    "weight_decay": "training.optimizer.weight_decay",
    "wd": "training.optimizer.weight_decay",
    "momentum": "training.optimizer.momentum",
    "optimizer": "training.optimizer.name",
    "batch_size": "data.loader.batch_size",
    "bs": "data.loader.batch_size",
    "epochs": "training.epochs",
    "num_epochs": "training.epochs",
    "n_epochs": "training.epochs",
    "max_steps": "training.max_steps",
    "scheduler": "training.scheduler.name",
    "warmup_steps": "training.scheduler.warmup_steps",
    "grad_clip": "training.grad_clip.max_norm",
    "max_grad_norm": "training.grad_clip.max_norm",
    "grad_accumulation_steps": "training.grad_accumulation_steps",
    "gradient_accumulation_steps": "training.grad_accumulation_steps",
}

#: Default trial budget when W&B would run until stopped (rigorml's own default).
DEFAULT_TRIALS = 20


class Problem(NamedTuple):
    """Something the conversion has to say about the W&B section.

    ``path`` points into the W&B section (keys and list indices); ``on_key`` at its key rather than
    its value. ``code`` is ``HPO016`` for a warning (converted approximately, or not used) and an
    ``SPC`` code for an error (the section cannot be converted). ``converted`` is the path in the
    rigorml section the problem concerns (None when it concerns nothing there).
    """

    path: tuple
    code: str
    message: str
    hint: str | None = None
    on_key: bool = False
    converted: tuple | None = None

    @property
    def is_warning(self) -> bool:
        return self.code == WARNING_CODE


class Origin(NamedTuple):
    """Where a value of the rigorml section comes from in the W&B section.

    ``verbatim``: the converted value is the text the author wrote, meaning the same in both
    dialects, so a fix may rewrite it in place (``goal: minimize`` -> ``direction: minimize``).
    Otherwise the value was computed (``exp(min)``) or renamed (``bayes`` -> ``tpe``) and only its
    location carries over. ``on_key``: locate it at the key rather than the value.
    """

    path: tuple
    verbatim: bool = False
    on_key: bool = False


class Conversion(NamedTuple):
    """The outcome of :func:`convert`.

    ``section``: the rigorml sweep section (None when there are errors). ``origins``: converted path
    -> :class:`Origin`. ``problems``: errors and warnings in the W&B section's order.
    ``notes``: converted path -> explanations (the original W&B setting, how it was read) that
    ``rigorml import wandb-sweep`` writes as comments.
    """

    section: dict | None
    origins: dict
    problems: list
    notes: dict

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_warning]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.is_warning]


def convert(section: Any) -> Conversion:
    """Convert a W&B sweep configuration (plain data, ``format: wandb`` allowed) to rigorml's form.

    Input: the W&B section as loaded from YAML. Output: a :class:`Conversion`; never raises for bad
    input (every problem is a :class:`Problem` with a path). The section is not modified.
    """
    converter = _Converter()
    if not isinstance(section, dict):
        converter.error((), "SPC003", f"a W&B sweep configuration is a mapping, got {_kind(section)}")
        return converter.result(None)
    out = converter.sweep(section)
    return converter.result(out)


# --- small helpers ---------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: float) -> str:
    """A number as a reader wants it in a message: ``0.000100052``, ``32``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return f"{value:.6g}"


def _around(mu: float, sigma: float) -> tuple[float, float]:
    """mu -+ NORMAL_WIDTH sigma, computed in decimal so 0.2 +- 2 * 0.05 is [0.1, 0.3], not 0.30000000000000004."""
    mu_, width = _decimal(mu), NORMAL_WIDTH * _decimal(sigma)
    return float(mu_ - width), float(mu_ + width)


def _exp(value: float) -> float:
    """exp, with overflow as infinity (reported as a range that cannot be searched)."""
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


def _decimal(value) -> Decimal:
    # repr, not the binary expansion: 0.1 is Decimal("0.1"), so 0.3 / 0.1 is exactly 3.
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path) or "the W&B sweep"


def _canonical_float(value: Decimal) -> float:
    return float(value.normalize()) if value else 0.0


class _Converter:
    """One conversion's state: the problems found, where each converted value comes from, notes."""

    def __init__(self):
        self.problems: list[Problem] = []
        self.origins: dict[tuple, Origin] = {}
        self.notes: dict[tuple, list[str]] = {}

    # --- recording -----------------------------------------------------------------------------

    def error(self, path: tuple, code: str, message: str, hint: str | None = None, *, on_key: bool = False) -> None:
        self.problems.append(Problem(path, code, message, hint, on_key))

    def warn(self, path: tuple, message: str, hint: str | None = None, *, converted: tuple | None = None, on_key: bool = False) -> None:
        self.problems.append(Problem(path, WARNING_CODE, message, hint, on_key, converted))

    def origin(self, converted: tuple, source: tuple, *, verbatim: bool = False, on_key: bool = False) -> None:
        self.origins[converted] = Origin(source, verbatim, on_key)

    def note(self, converted: tuple, text: str) -> None:
        self.notes.setdefault(converted, []).append(text)

    def result(self, section: dict | None) -> Conversion:
        failed = any(not p.is_warning for p in self.problems)
        return Conversion(None if failed else section, self.origins, self.problems, self.notes)

    def unknown_key(self, path: tuple, key: Any, allowed, where: str) -> None:
        hint = did_you_mean(key, allowed)
        message = f"unknown key {key!r} in {where}" + (f"; {hint}" if hint else "")
        self.error(path + (key,), "SPC001", message, None if hint else f"allowed keys: {', '.join(allowed)}", on_key=True)

    # --- the sweep -------------------------------------------------------------------------------

    def sweep(self, section: dict) -> dict:
        out: dict = {}
        self.origin((), (), on_key=True)
        allowed = ("format", *SWEEP_KEYS, *LAUNCH_KEYS, *UNSUPPORTED_KEYS, *PASSTHROUGH_KEYS)
        for key in section:
            if key in allowed:
                continue
            if key in RIGORML_SPELLINGS:
                wandb = RIGORML_SPELLINGS[key]
                self.error(
                    (key,),
                    "SPC001",
                    f"`{key}` is rigorml's spelling; a `format: wandb` section writes `{wandb}`",
                    "or drop `format: wandb` and write the whole section in rigorml's form",
                    on_key=True,
                )
            else:
                self.unknown_key((), key, [k for k in allowed if k not in section], "a W&B sweep configuration")
        for key, reason in UNSUPPORTED_KEYS.items():
            if key in section:
                self.error((key,), UNEXPRESSIBLE, f"W&B `{key}` {reason}", on_key=True)
        self.launch_keys(section)

        method = self.method(section, out)
        metric_given = self.metric(section, out, method)
        parameters = self.parameters(section, out, method)
        self.budget(section, out, method, parameters)
        self.early_terminate(section, out, metric_given)
        self.names(section, out)
        for key in PASSTHROUGH_KEYS:
            if key in section and key != "study_name":
                out[key] = section[key]
                self.origin((key,), (key,), verbatim=True)
        return out

    def launch_keys(self, section: dict) -> None:
        for key in LAUNCH_KEYS:
            if key not in section:
                continue
            if key in ("program", "command"):
                message = (
                    f"W&B `{key}` is not used: rigorml does not run your training script; every trial trains "
                    "this spec's model (its data, model and training sections) with the sampled values set at "
                    "their spec paths"
                )
                hint = "remove it once the spec trains what the script trained"
            elif key == "project":
                message = (
                    f"W&B `project: {section[key]}` is not used by the sweep: trials are tracked by the spec's "
                    "`tracking` section, in `tracking.project` (default: `experiment.project`, then the "
                    "experiment's name)"
                )
                hint = f"set `tracking: {{backend: wandb, project: {section[key]}}}` to log the trials there, and remove it here"
            elif key == "entity":
                message = (
                    f"W&B `entity: {section[key]}` is not used: rigorml's W&B backend logs to the entity of "
                    "the W&B login (or the WANDB_ENTITY environment variable)"
                )
                hint = f"export WANDB_ENTITY={section[key]}, and remove it here"
            else:
                message = f"W&B `{key}` configures W&B's own agents and is not used: rigorml runs the study itself"
                hint = "remove it"
            self.warn((key,), message, hint, on_key=True)

    def method(self, section: dict, out: dict) -> str | None:
        if "method" not in section:
            self.error((), "SPC002", "missing required key `method` in the W&B sweep (grid, random or bayes)", on_key=True)
            return None
        method = section["method"]
        if method == "custom":
            self.error(
                ("method",),
                UNEXPRESSIBLE,
                "W&B `method: custom` hands the search to an external scheduler; rigorml runs an Optuna study",
                "use grid, random or bayes",
            )
            return None
        if not isinstance(method, str) or method not in METHODS:
            hint = did_you_mean(method, METHODS) if isinstance(method, str) else None
            self.error(
                ("method",),
                "SPC004",
                f"invalid W&B method {method!r}; expected one of: {', '.join(METHODS)}" + (f"; {hint}" if hint else ""),
            )
            return None
        out["method"] = METHODS[method]
        self.origin(("method",), ("method",))
        if method == "bayes":
            self.note(
                ("method",),
                "W&B `bayes` (a Gaussian-process model) runs as Optuna's TPE, rigorml's Bayesian optimiser",
            )
        return method

    def metric(self, section: dict, out: dict, method: str | None) -> bool:
        if "metric" not in section:
            if method == "bayes":
                self.error((), "SPC002", "W&B `method: bayes` needs `metric` (the value it models), as in W&B", on_key=True)
            elif method is not None and "early_terminate" not in section:
                self.warn(
                    ("method",),
                    "the W&B sweep has no `metric`: W&B's grid and random search optimise nothing, but a rigorml "
                    "study needs an objective, so it ranks trials by rigorml's default `val/loss` (minimize)",
                    "add `metric: {name: val/loss, goal: minimize}` to say so",
                    converted=("objective",),
                )
            return False
        metric = section["metric"]
        if not isinstance(metric, dict):
            self.error(("metric",), "SPC003", f"W&B `metric` should be a mapping with `name` and `goal`, got {_kind(metric)}")
            return False
        for key in metric:
            if key not in METRIC_KEYS:
                self.unknown_key(("metric",), key, [k for k in METRIC_KEYS if k not in metric], "the W&B `metric`")
        objective: dict = {}
        self.origin(("objective",), ("metric",), on_key=True)
        if "name" not in metric:
            self.error(("metric",), "SPC002", "missing required key `name` in the W&B `metric`", on_key=True)
        else:
            name = metric["name"]
            converted = self.metric_name(name)
            if converted is not None:
                objective["metric"] = converted
                self.origin(("objective", "metric"), ("metric", "name"), verbatim=converted == name)
        if "goal" in metric:
            goal = metric["goal"]
            if isinstance(goal, str) and goal in GOALS:
                objective["direction"] = goal
                self.origin(("objective", "direction"), ("metric", "goal"), verbatim=True)
            else:
                hint = did_you_mean(goal, GOALS) if isinstance(goal, str) else None
                self.error(
                    ("metric", "goal"),
                    "SPC004",
                    f"invalid W&B goal {goal!r}; expected one of: {', '.join(GOALS)}" + (f"; {hint}" if hint else ""),
                )
        if "target" in metric:
            self.warn(
                ("metric", "target"),
                f"W&B `target: {metric['target']}` is not used: W&B stops starting runs once one reaches the "
                "target; a rigorml study runs all its trials (`run_cap`)",
                "lower `run_cap` to spend less, and remove `target`",
                converted=("n_trials",),
                on_key=True,
            )
        for key in ("impute", "impute_while_running"):
            if key in metric:
                self.warn(
                    ("metric", key),
                    f"W&B `{key}` is not used: a trial that fails is recorded as failed and Optuna's samplers "
                    "leave it out, rather than scoring it",
                    "remove it",
                    on_key=True,
                )
        out["objective"] = objective
        return True

    def metric_name(self, name: Any) -> str | None:
        where = ("metric", "name")
        if not isinstance(name, str) or not name:
            self.error(where, "SPC003", f"the W&B metric `name` should be a metric name such as `val/loss`, got {_kind(name)}")
            return None
        match = _SPLIT_METRIC.match(name)
        split = SPLIT_ALIASES.get(match["split"].lower()) if match else None
        if split is None:
            example = f"val/{name}" if re.fullmatch(r"[A-Za-z0-9_@.\-]+", name) else "val/loss"
            self.error(
                where,
                UNEXPRESSIBLE,
                f"W&B metric {name!r} names no split: rigorml logs `{{split}}/{{metric}}` (`val/loss`, "
                "`val/f1_macro`...) and a sweep tunes on the validation split",
                f"write `name: {example}`",
            )
            return None
        converted = f"{split}/{match['metric']}"
        if converted != name:
            self.warn(
                where,
                f"W&B metric {name!r} is read as `{converted}`: rigorml logs metrics as `{{split}}/{{metric}}`",
                f"write `name: {converted}` to say so",
                converted=("objective", "metric"),
            )
        return converted

    # --- parameters ------------------------------------------------------------------------------

    def parameters(self, section: dict, out: dict, method: str | None) -> dict:
        if "parameters" not in section:
            self.error((), "SPC002", "missing required key `parameters` in the W&B sweep", on_key=True)
            return {}
        parameters = section["parameters"]
        converted: dict = {}
        self.origin(("parameters",), ("parameters",), on_key=True)
        self.parameter_block(parameters, ("parameters",), "", converted, method)
        out["parameters"] = converted
        return converted

    def parameter_block(self, block: Any, path: tuple, prefix: str, out: dict, method: str | None) -> None:
        if not isinstance(block, dict):
            self.error(path, "SPC003", f"`{_dotted(path)}` should be a mapping of parameter names, got {_kind(block)}")
            return
        if not block:
            self.error(path, "SPC004", f"`{_dotted(path)}` is empty; a sweep needs at least one parameter", on_key=True)
            return
        for key, spec in block.items():
            where = path + (key,)
            if not isinstance(key, str) or not key:
                self.error(where, "SPC003", f"a W&B parameter name is a string, got {_kind(key)}", on_key=True)
                continue
            if not isinstance(spec, dict):
                self.error(
                    where,
                    "SPC003",
                    f"W&B parameter `{key}` should be a mapping (`values: [...]`, `value: x`, or a distribution "
                    f"with its bounds), got {_kind(spec)}",
                )
                continue
            name = f"{prefix}{key}"
            if "parameters" in spec:
                extra = [k for k in spec if k != "parameters"]
                if extra:
                    self.error(
                        where + (extra[0],),
                        "SPC001",
                        f"`{extra[0]}` cannot sit beside nested `parameters` in `{key}`: a nested parameter holds "
                        "only `parameters`",
                        on_key=True,
                    )
                    continue
                self.parameter_block(spec["parameters"], where + ("parameters",), f"{name}.", out, method)
                continue
            if name in out:
                self.error(
                    where,
                    "SPC004",
                    f"`{name}` is set twice in the W&B sweep (once nested, once as a dotted name)",
                    on_key=True,
                )
                continue
            if "." not in name and name not in OVERRIDABLE_SECTIONS:
                self.script_argument(name, where)
                continue
            parameter = self.parameter(spec, where, name, method)
            if parameter is not None:
                out[name] = parameter

    def script_argument(self, name: str, path: tuple) -> None:
        """A W&B parameter named like a script argument (``learning_rate``) is not a spec path."""
        known = SCRIPT_ARGUMENTS.get(name) or SCRIPT_ARGUMENTS.get(name.lower().replace("-", "_"))
        suggestion = known or f"model.params.{name}"
        self.error(
            path,
            "SPC013",
            f"W&B parameter `{name}` names an argument of your training script; a rigorml sweep parameter is the "
            f"dotted spec path of the value it sets: did you mean `{suggestion}`?",
            "rename the key, or nest it: `training: {parameters: {optimizer: {parameters: {lr: ...}}}}` is "
            "`training.optimizer.lr`" + ("" if known else "; model hyperparameters live under `model.params`"),
            on_key=True,
        )

    def parameter(self, spec: dict, path: tuple, name: str, method: str | None) -> dict | None:
        target = ("parameters", name)
        self.origin(target, path, on_key=True)
        self.note(target, "W&B: " + _flow(spec))
        failed = len(self.errors())
        for key in spec:
            if key in _RIGORML_PARAMETER_KEYS:
                self.error(path + (key,), "SPC001", f"`{key}` is rigorml's spelling: {_RIGORML_PARAMETER_KEYS[key]}", on_key=True)
            elif key not in PARAMETER_KEYS:
                self.unknown_key(path, key, [k for k in PARAMETER_KEYS if k not in spec], f"W&B parameter `{path[-1]}`")
        if len(self.errors()) > failed:
            return None
        distribution = self.distribution_of(spec, path)
        if distribution is None:
            return None
        for key in spec:
            if key in PARAMETER_KEYS and key != "distribution" and key not in DISTRIBUTIONS[distribution]:
                self.error(
                    path + (key,),
                    "SPC001",
                    f"`{key}` does not apply to the W&B distribution `{distribution}` (it takes "
                    f"{', '.join(DISTRIBUTIONS[distribution])})",
                    on_key=True,
                )
        if len(self.errors()) > failed:
            return None
        values = {key: spec.get(key, _DEFAULTS.get(key)) for key in DISTRIBUTIONS[distribution]}
        if not self.check_values(distribution, values, spec, path):
            return None
        parameter = _PARAMETER_BUILDERS[distribution](self, values, spec, path, target)
        if parameter is not None and method == "grid" and not _finite(parameter):
            self.error(
                path + (("distribution",) if "distribution" in spec else ()),
                UNEXPRESSIBLE,
                f"grid search needs a finite set of values, and W&B `{distribution}` is not one rigorml can "
                "enumerate (W&B's grid takes only `values`, `value`, int_uniform and q_uniform)",
                "list `values: [...]`, use int_uniform or q_uniform, or use method: random or bayes",
            )
            return None
        return parameter

    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_warning]

    def distribution_of(self, spec: dict, path: tuple) -> str | None:
        """The W&B distribution of a parameter: written, or inferred the way W&B infers it."""
        if "distribution" in spec:
            distribution = spec["distribution"]
            if isinstance(distribution, str) and distribution in DISTRIBUTIONS:
                return distribution
            if isinstance(distribution, str) and distribution in _RIGORML_DISTRIBUTIONS:
                hint = f"did you mean {_RIGORML_DISTRIBUTIONS[distribution]!r}?"
            else:
                hint = did_you_mean(distribution, DISTRIBUTIONS) if isinstance(distribution, str) else None
            self.error(
                path + ("distribution",),
                "SPC004",
                f"unknown W&B distribution {distribution!r}; expected one of: {', '.join(DISTRIBUTIONS)}"
                + (f"; {hint}" if hint else ""),
            )
            return None
        # W&B's own order: values -> categorical, value -> constant, integer min/max -> int_uniform,
        # other numeric min/max -> uniform; every other distribution must be named.
        if "values" in spec:
            return "categorical"
        if "value" in spec:
            return "constant"
        if "min" in spec and "max" in spec:
            return "int_uniform" if _is_int(spec["min"]) and _is_int(spec["max"]) else "uniform"
        given = [k for k in ("mu", "sigma", "q", "a", "b") if k in spec]
        self.error(
            path,
            "SPC002",
            f"W&B parameter `{path[-1]}` needs `values: [...]`, `value: x`, `min` and `max`, or a `distribution`"
            + (f" (it has {', '.join(given)}, which only a named distribution reads)" if given else ""),
            on_key=True,
        )
        return None

    def check_values(self, distribution: str, values: dict, spec: dict, path: tuple) -> bool:
        """Types and ranges of a parameter's keys, as W&B checks them."""
        keys = DISTRIBUTIONS[distribution]
        missing = [k for k in keys if k not in spec and k not in _DEFAULTS and k != "probabilities"]
        if missing:
            self.error(path, "SPC002", f"missing required key `{missing[0]}` in W&B parameter `{path[-1]}` ({distribution})", on_key=True)
            return False
        ok = True
        for key in keys:
            if key not in spec or key == "value":
                continue
            value, where = spec[key], path + (key,)
            if key in ("values", "probabilities"):
                if not isinstance(value, list):
                    self.error(where, "SPC003", f"`{key}` should be a list, got {_kind(value)}")
                    ok = False
                elif not value:
                    self.error(where, "SPC004", f"`{key}` is empty; list at least one value")
                    ok = False
            elif not _is_number(value):
                self.error(where, "SPC003", f"`{key}` should be a number, got {_kind(value)}")
                ok = False
            elif distribution == "int_uniform" and not _is_int(value):
                self.error(where, "SPC003", f"W&B `int_uniform` takes integer bounds; `{key}` is {value!r}", "use `uniform` for a float range")
                ok = False
        if not ok:
            return False
        if "min" in values and not values["min"] < values["max"]:
            self.error(path + ("max",), "SPC004", f"`min` ({values['min']}) must be below `max` ({values['max']})")
            return False
        if distribution in ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values") and values["min"] <= 0:
            self.error(path + ("min",), "SPC004", f"W&B `{distribution}` takes positive values; `min` is {values['min']}", "or use `log_uniform` with natural-log exponents")
            return False
        if values.get("sigma") is not None and values["sigma"] < 0:
            self.error(path + ("sigma",), "SPC004", f"`sigma` must be at least 0, got {values['sigma']}")
            return False
        if values.get("q") is not None and values["q"] <= 0:
            self.error(path + ("q",), "SPC004", f"`q` must be above 0, got {values['q']}")
            return False
        for key in ("a", "b"):
            if values.get(key) is not None and values[key] <= 0:
                self.error(path + (key,), "SPC004", f"the beta distribution's `{key}` must be above 0, got {values[key]}")
                return False
        probabilities = values.get("probabilities")
        if probabilities is not None:
            if len(probabilities) != len(values["values"]):
                self.error(
                    path + ("probabilities",),
                    "SPC004",
                    f"`probabilities` has {len(probabilities)} entries for {len(values['values'])} values; give one per value",
                )
                return False
            if not all(_is_number(p) and p >= 0 for p in probabilities):
                self.error(path + ("probabilities",), "SPC004", "`probabilities` must be numbers of at least 0")
                return False
            if abs(sum(probabilities) - 1) > 1e-6:
                self.error(path + ("probabilities",), "SPC004", f"`probabilities` must sum to 1, they sum to {sum(probabilities):g}")
                return False
        return True

    # --- one distribution each ---------------------------------------------------------------

    def constant(self, values, spec, path, target):
        self.origin(target + ("value",), path + ("value",), verbatim=True)
        return {"value": values["value"]}

    def categorical(self, values, spec, path, target):
        choices, probabilities = values["values"], values.get("probabilities")
        keep = list(range(len(choices)))
        if probabilities is not None:
            keep = [i for i, p in enumerate(probabilities) if p > 0]
        kept = [choices[i] for i in keep]
        if len(keep) == len(choices):
            self.origin(target + ("values",), path + ("values",), verbatim=True)
        else:
            self.origin(target + ("values",), path + ("values",))
            for j, i in enumerate(keep):
                self.origin(target + ("values", j), path + ("values", i), verbatim=True)
            dropped = [choices[i] for i in range(len(choices)) if i not in keep]
            self.note(target, f"left out (probability 0, W&B never samples them): {_flow(dropped)}")
        if len(kept) == 1:
            self.origin(target + ("value",), path + ("values", keep[0]), verbatim=True)
            self.note(target, "the only value with a probability above 0")
            return {"value": kept[0]}
        if probabilities is not None:
            weights = [probabilities[i] for i in keep]
            if max(weights) - min(weights) > 1e-12:
                shares = ", ".join(f"{_flow(c)}: {w:g}" for c, w in zip(kept, weights))
                self.warn(
                    path + ("probabilities",),
                    f"W&B `probabilities` cannot be expressed: Optuna's categorical distribution samples every value "
                    f"equally often, so rigorml tries each of the {len(kept)} values with probability {1 / len(kept):.3g} "
                    f"(W&B: {shares})",
                    "remove `probabilities` to say so, or narrow `values` to the ones worth trying",
                    converted=target + ("values",),
                    on_key=True,
                )
        return {"values": kept}

    def int_uniform(self, values, spec, path, target):
        self.range_origins(target, path, spec)
        return {"distribution": "int", "low": values["min"], "high": values["max"]}

    def uniform(self, values, spec, path, target):
        self.range_origins(target, path, spec)
        return {"distribution": "uniform", "low": float(values["min"]), "high": float(values["max"])}

    def log_uniform(self, values, spec, path, target):
        # W&B's log_uniform: X = exp(U(min, max)); min and max are natural-log exponents.
        low, high = _exp(values["min"]), _exp(values["max"])
        self.range_origins(target, path, spec)
        self.note(
            target,
            f"W&B `log_uniform` takes natural-log exponents: exp({_show(values['min'])}) = {_show(low)} to "
            f"exp({_show(values['max'])}) = {_show(high)}",
        )
        if 0 <= values["min"] and values["max"] <= 1:
            self.warn(
                path + ("distribution",),
                f"W&B `log_uniform` takes natural-log exponents, so min {_show(values['min'])} and max "
                f"{_show(values['max'])} search {_show(low)} to {_show(high)}; if they are the values themselves, "
                "the distribution is `log_uniform_values`",
                f"`distribution: log_uniform_values` to search {_show(values['min'])} to {_show(values['max'])}",
                converted=target,
            )
        return self.log_range(low, high, path)

    def log_uniform_values(self, values, spec, path, target):
        self.range_origins(target, path, spec)
        return self.log_range(float(values["min"]), float(values["max"]), path)

    def inv_log_uniform(self, values, spec, path, target):
        # X = exp(-U(min, max)): log X is uniform on [-max, -min], a log-uniform X again.
        low, high = _exp(-values["max"]), _exp(-values["min"])
        self.range_origins(target, path, spec, swap=True)
        self.note(
            target,
            f"W&B `inv_log_uniform`: log(1/X) uniform on [{_show(values['min'])}, {_show(values['max'])}], which is "
            f"X log-uniform on [exp(-{_show(values['max'])}), exp(-{_show(values['min'])})] = [{_show(low)}, {_show(high)}]",
        )
        return self.log_range(low, high, path)

    def inv_log_uniform_values(self, values, spec, path, target):
        # X = exp(-U(-log max, -log min)): log X uniform on [log min, log max].
        self.range_origins(target, path, spec)
        self.note(target, "W&B `inv_log_uniform_values`: log(1/X) uniform is X log-uniform on [min, max]")
        return self.log_range(float(values["min"]), float(values["max"]), path)

    def log_range(self, low: float, high: float, path: tuple) -> dict | None:
        if not (low > 0 and math.isfinite(high) and low < high):
            self.error(
                path,
                "SPC004",
                f"the range {_show(low)} to {_show(high)} cannot be searched log-uniformly (it needs 0 < low < high, "
                "finite)",
                on_key=True,
            )
            return None
        return {"distribution": "log_uniform", "low": low, "high": high}

    def q_uniform(self, values, spec, path, target):
        return self.quantised(values["min"], values["max"], values["q"], log=False, spec=spec, path=path, target=target, what="q_uniform")

    def q_log_uniform(self, values, spec, path, target):
        low, high = _exp(values["min"]), _exp(values["max"])
        self.note(target, f"W&B `q_log_uniform` takes natural-log exponents: exp(min) = {_show(low)} to exp(max) = {_show(high)}, then rounds to multiples of q")
        return self.quantised(low, high, values["q"], log=True, spec=spec, path=path, target=target, what="q_log_uniform")

    def q_log_uniform_values(self, values, spec, path, target):
        return self.quantised(values["min"], values["max"], values["q"], log=True, spec=spec, path=path, target=target, what="q_log_uniform_values")

    def normal(self, values, spec, path, target):
        mu, sigma = values["mu"], values["sigma"]
        if sigma == 0:
            self.origin(target + ("value",), path + (("mu",) if "mu" in spec else ()), on_key="mu" not in spec)
            return {"value": mu}
        low, high = _around(mu, sigma)
        self.prior_origins(target, path, spec, ("mu", "sigma"))
        self.warn(
            path + (("distribution",) if "distribution" in spec else ()),
            f"a normal prior cannot be expressed (Optuna's distributions are bounded): W&B draws from "
            f"N({_show(mu)}, {_show(sigma)}^2), rigorml searches uniform on mu +- {NORMAL_WIDTH} sigma = "
            f"[{_show(low)}, {_show(high)}] ({_NORMAL_SHARE} of W&B's draws, every value equally likely)",
            "write `distribution: uniform` with your own `min` and `max` to choose the range",
            converted=target,
        )
        return {"distribution": "uniform", "low": float(low), "high": float(high)}

    def q_normal(self, values, spec, path, target):
        mu, sigma = values["mu"], values["sigma"]
        low, high = _around(mu, sigma)
        self.warn(
            path + (("distribution",) if "distribution" in spec else ()),
            f"a normal prior cannot be expressed (Optuna's distributions are bounded): W&B rounds draws from "
            f"N({_show(mu)}, {_show(sigma)}^2) to multiples of {_show(values['q'])}; rigorml searches those "
            f"multiples on mu +- {NORMAL_WIDTH} sigma = [{_show(low)}, {_show(high)}] ({_NORMAL_SHARE} of W&B's "
            "draws), every value equally likely",
            "write `distribution: q_uniform` with your own `min` and `max` to choose the range",
            converted=target,
        )
        return self.quantised(low, high, values["q"], log=False, spec=spec, path=path, target=target, what="q_normal", prior_warned=True)

    def log_normal(self, values, spec, path, target):
        mu, sigma = values["mu"], values["sigma"]
        if sigma == 0:
            self.origin(target + ("value",), path + (("mu",) if "mu" in spec else ()), on_key="mu" not in spec)
            return {"value": _exp(mu)}
        low, high = _exp(mu - NORMAL_WIDTH * sigma), _exp(mu + NORMAL_WIDTH * sigma)
        self.prior_origins(target, path, spec, ("mu", "sigma"))
        self.warn(
            path + (("distribution",) if "distribution" in spec else ()),
            f"a log-normal prior cannot be expressed (Optuna's distributions are bounded): W&B draws X with "
            f"log X ~ N({_show(mu)}, {_show(sigma)}^2), rigorml searches log-uniform on exp(mu +- {NORMAL_WIDTH} "
            f"sigma) = [{_show(low)}, {_show(high)}] ({_NORMAL_SHARE} of W&B's draws, every order of magnitude "
            "equally likely)",
            "write `distribution: log_uniform_values` with your own `min` and `max` to choose the range",
            converted=target,
        )
        return self.log_range(low, high, path)

    def q_log_normal(self, values, spec, path, target):
        mu, sigma = values["mu"], values["sigma"]
        low, high = _exp(mu - NORMAL_WIDTH * sigma), _exp(mu + NORMAL_WIDTH * sigma)
        self.warn(
            path + (("distribution",) if "distribution" in spec else ()),
            f"a log-normal prior cannot be expressed (Optuna's distributions are bounded): W&B rounds X with "
            f"log X ~ N({_show(mu)}, {_show(sigma)}^2) to multiples of {_show(values['q'])}; rigorml searches "
            f"those multiples on exp(mu +- {NORMAL_WIDTH} sigma) = [{_show(low)}, {_show(high)}] "
            f"({_NORMAL_SHARE} of W&B's draws)",
            "write `distribution: q_log_uniform_values` with your own `min` and `max` to choose the range",
            converted=target,
        )
        return self.quantised(low, high, values["q"], log=True, spec=spec, path=path, target=target, what="q_log_normal", prior_warned=True)

    def beta(self, values, spec, path, target):
        self.prior_origins(target, path, spec, ("a", "b"))
        if values["a"] != 1 or values["b"] != 1:
            self.warn(
                path + (("distribution",) if "distribution" in spec else ()),
                f"a beta prior cannot be expressed: W&B draws from Beta({_show(values['a'])}, {_show(values['b'])}) "
                "on [0, 1], rigorml searches uniform on [0, 1] (every value equally likely)",
                "write `distribution: uniform` with `min` and `max` to say so",
                converted=target,
            )
        else:
            self.note(target, "W&B `beta` with a = b = 1 is uniform on [0, 1]")
        return {"distribution": "uniform", "low": 0.0, "high": 1.0}

    def q_beta(self, values, spec, path, target):
        if values["a"] != 1 or values["b"] != 1:
            self.warn(
                path + (("distribution",) if "distribution" in spec else ()),
                f"a beta prior cannot be expressed: W&B rounds draws from Beta({_show(values['a'])}, "
                f"{_show(values['b'])}) to multiples of {_show(values['q'])}; rigorml searches those multiples of "
                "[0, 1], every value equally likely",
                "write `distribution: q_uniform` with `min: 0` and `max: 1` to say so",
                converted=target,
            )
        return self.quantised(0, 1, values["q"], log=False, spec=spec, path=path, target=target, what="q_beta", prior_warned=values["a"] != 1 or values["b"] != 1)

    # --- quantised distributions -----------------------------------------------------------

    def quantised(self, low, high, q, *, log: bool, spec: dict, path: tuple, target: tuple, what: str, prior_warned: bool = False):
        """W&B's ``round(X / q) * q`` for X drawn on [low, high] (log-uniformly when ``log``).

        The values W&B can return are the multiples k*q whose rounding interval overlaps [low, high]:
        k from floor(low/q + 1/2) to ceil(high/q - 1/2). rigorml searches exactly those values, each
        equally likely (Optuna's stepped distributions), or log-uniformly for integers with q = 1.
        """
        self.range_origins(target, path, spec, step=True)
        if not (math.isfinite(low) and math.isfinite(high)):
            self.error(path, "SPC004", f"W&B `{what}`: the range {_show(low)} to {_show(high)} is not finite", on_key=True)
            return None
        try:
            q_dec = _decimal(q)
            t_low, t_high = _decimal(low) / q_dec, _decimal(high) / q_dec
        except (InvalidOperation, ValueError, OverflowError):
            self.error(path, "SPC004", f"W&B `{what}`: the range cannot be divided into steps of {q!r}", on_key=True)
            return None
        k_low = (t_low + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)
        k_high = (t_high - Decimal("0.5")).to_integral_value(rounding=ROUND_CEILING)
        aligned = t_low == k_low and t_high == k_high
        integral = q_dec == q_dec.to_integral_value()
        first, last = k_low * q_dec, k_high * q_dec
        as_value = (lambda d: int(d)) if integral else _canonical_float
        lo, hi = as_value(first), as_value(last)
        if k_low == k_high:
            self.origin(target + ("value",), path + (("distribution",) if "distribution" in spec else ()), on_key="distribution" not in spec)
            self.note(target, f"W&B `{what}` can only return {_show(lo)}")
            return {"value": lo}
        count = int(k_high - k_low) + 1
        if log and integral and int(q_dec) == 1 and lo >= 1:
            parameter = {"distribution": "int_log", "low": lo, "high": hi}
            searched = f"the integers {_show(lo)} to {_show(hi)} log-uniformly"
        elif integral:
            parameter = {"distribution": "int", "low": lo, "high": hi, "step": int(q_dec)}
            searched = f"{_show(lo)}, {_show(as_value(first + q_dec))}, ..., {_show(hi)} ({count} values)"
        else:
            parameter = {"distribution": "uniform", "low": lo, "high": hi, "step": _canonical_float(q_dec)}
            searched = f"{_show(lo)}, {_show(as_value(first + q_dec))}, ..., {_show(hi)} ({count} values)"
        where = path + (("distribution",) if "distribution" in spec else ())
        if log and parameter["distribution"] != "int_log" and not prior_warned:
            self.warn(
                where,
                f"W&B `{what}` rounds a log-uniform draw to multiples of {_show(q)}; Optuna cannot sample "
                "multiples of a step log-uniformly (its log-scaled integers take no step and start at 1), so "
                f"rigorml searches the same multiples {searched}, each equally likely (W&B favours the small ones)",
                "list the values worth trying with `values: [...]` to keep control of the prior",
                converted=target,
            )
        elif not aligned and not prior_warned and not log:
            self.warn(
                where,
                f"W&B `{what}` rounds a draw from [{_show(low)}, {_show(high)}] to multiples of {_show(q)}, so it "
                f"returns {_show(lo)} to {_show(hi)} with the end values less likely; rigorml searches {searched}, "
                "each equally likely",
                f"make `min` and `max` multiples of q (e.g. {_show(lo)} and {_show(hi)}) to say so",
                converted=target,
            )
        elif not aligned and log and not prior_warned:
            self.warn(
                where,
                f"W&B `{what}` rounds a log-uniform draw from [{_show(low)}, {_show(high)}] to whole numbers, so it "
                f"returns {_show(lo)} to {_show(hi)}, the end values less likely; rigorml searches {searched}",
                f"make `min` and `max` whole numbers (e.g. {_show(lo)} and {_show(hi)}) to say so",
                converted=target,
            )
        return parameter

    # --- where converted parameter fields come from ------------------------------------------

    def range_origins(self, target: tuple, path: tuple, spec: dict, *, swap: bool = False, step: bool = False) -> None:
        kind = path + ("distribution",) if "distribution" in spec else path
        self.origin(target + ("distribution",), kind, on_key="distribution" not in spec)
        low, high = ("max", "min") if swap else ("min", "max")
        for field, source in (("low", low), ("high", high)):
            if source in spec:
                self.origin(target + (field,), path + (source,))
            else:
                self.origin(target + (field,), kind, on_key="distribution" not in spec)
        if step:
            if "q" in spec:
                self.origin(target + ("step",), path + ("q",))
            else:
                self.origin(target + ("step",), kind, on_key="distribution" not in spec)

    def prior_origins(self, target: tuple, path: tuple, spec: dict, keys: tuple) -> None:
        kind = path + ("distribution",) if "distribution" in spec else path
        self.origin(target + ("distribution",), kind, on_key="distribution" not in spec)
        for field, source in zip(("low", "high"), keys):
            if source in spec:
                self.origin(target + (field,), path + (source,))
            else:
                self.origin(target + (field,), kind, on_key="distribution" not in spec)

    # --- budget, early termination, names ----------------------------------------------------

    def budget(self, section: dict, out: dict, method: str | None, parameters: dict) -> None:
        if "run_cap" in section:
            run_cap = section["run_cap"]
            if not _is_int(run_cap) or run_cap < 1:
                self.error(("run_cap",), "SPC004", f"`run_cap` should be a whole number of runs, at least 1, got {_kind(run_cap)}")
                return
            out["n_trials"] = run_cap
            self.origin(("n_trials",), ("run_cap",), verbatim=True)
            return
        if method == "grid":
            count = 1
            for parameter in parameters.values():
                count *= _grid_size(parameter)
            if parameters and count >= 1:
                out["n_trials"] = count
                self.origin(("n_trials",), ("method",))
                self.note(("n_trials",), f"W&B's grid runs every combination: {count}")
            return
        if method is not None:
            out["n_trials"] = DEFAULT_TRIALS
            self.origin(("n_trials",), ("method",))
            self.warn(
                ("method",),
                f"the W&B sweep has no `run_cap`: W&B's {method} search runs until you stop it, a rigorml study "
                f"needs a budget: it runs {DEFAULT_TRIALS} trials (rigorml's default)",
                "set `run_cap: N` to choose",
                converted=("n_trials",),
            )

    def early_terminate(self, section: dict, out: dict, metric_given: bool) -> None:
        if "early_terminate" not in section:
            # W&B runs every run to the end unless told otherwise; rigorml's default is Hyperband.
            out["pruner"] = {"type": "none"}
            self.origin(("pruner",), (), on_key=True)
            self.origin(("pruner", "type"), (), on_key=True)
            self.note(("pruner",), "the W&B sweep has no early_terminate: every trial runs to the end")
            return
        terminate = section["early_terminate"]
        path = ("early_terminate",)
        if not isinstance(terminate, dict):
            self.error(path, "SPC003", f"`early_terminate` should be a mapping (`type: hyperband` and its settings), got {_kind(terminate)}")
            return
        for key in terminate:
            if key not in EARLY_TERMINATE_KEYS:
                self.unknown_key(path, key, [k for k in EARLY_TERMINATE_KEYS if k not in terminate], "W&B `early_terminate`")
        kind = terminate.get("type")
        if kind != "hyperband":
            if "type" not in terminate:
                self.error(path, "SPC002", "missing required key `type` in `early_terminate` (W&B has `hyperband`)", on_key=True)
            else:
                hint = did_you_mean(kind, ["hyperband"]) if isinstance(kind, str) else None
                self.error(path + ("type",), "SPC004", f"invalid early_terminate type {kind!r}; W&B has `hyperband`" + (f"; {hint}" if hint else ""))
            return
        if not metric_given:
            self.error(path, "SPC002", "W&B early termination needs `metric` (the value runs are compared on), as in W&B", on_key=True)
        for key in ("min_iter", "max_iter", "s"):
            if key in terminate and (not _is_int(terminate[key]) or terminate[key] < 1):
                self.error(path + (key,), "SPC004", f"`{key}` should be a whole number, at least 1, got {_kind(terminate[key])}")
                return
        eta = terminate.get("eta", 3)
        if "eta" in terminate:
            if not _is_number(eta) or eta <= 1:
                self.error(path + ("eta",), "SPC004", f"`eta` should be a number above 1, got {_kind(eta)}")
                return
            if eta != int(eta):
                self.error(
                    path + ("eta",),
                    UNEXPRESSIBLE,
                    f"`eta: {eta}` cannot be expressed: Optuna's successive halving keeps 1/reduction_factor of the "
                    "trials at each rung, a whole number",
                    f"use eta: {max(2, math.floor(eta))} or {max(2, math.ceil(eta))}",
                )
                return
        eta = int(eta)
        if eta < 2:
            self.error(path + ("eta",), UNEXPRESSIBLE, "`eta` below 2 cannot be expressed: Optuna's reduction factor is at least 2", "use eta: 2")
            return
        if "strict" in terminate and not isinstance(terminate["strict"], bool):
            self.error(path + ("strict",), "SPC003", f"`strict` should be true or false, got {_kind(terminate['strict'])}")
            return
        if "max_iter" in terminate:
            min_resource = self.max_iter_bands(terminate, path, eta)
            if min_resource is None:
                return
            source = path + ("max_iter",)
        elif "min_iter" in terminate:
            min_resource = terminate["min_iter"]
            source = path + ("min_iter",)
            if "s" in terminate:
                self.warn(
                    path + ("s",),
                    "W&B reads `s` only with `max_iter` (the number of bands below it); with `min_iter` the bands are "
                    f"min_iter * eta^k without end, in W&B and in rigorml: `s: {terminate['s']}` has no effect",
                    "remove it",
                    on_key=True,
                )
        else:
            self.error(path, "SPC002", "W&B hyperband needs `min_iter`, or `max_iter` with `s`", on_key=True)
            return
        if terminate.get("strict") is False:
            self.warn(
                path + ("strict",),
                "W&B `strict: false` asks for W&B's lenient comparison (a run's best value so far against each "
                "band's threshold); Optuna's successive halving has one rule: the value the trial reports at the "
                "rung must be in the top 1/eta there",
                "remove it",
                converted=("pruner",),
                on_key=True,
            )
        out["pruner"] = {"type": "asha", "min_resource": min_resource, "reduction_factor": eta, "min_early_stopping_rate": 0}
        self.origin(("pruner",), path, on_key=True)
        self.origin(("pruner", "type"), path + ("type",))
        self.origin(("pruner", "min_resource"), source)
        self.origin(("pruner", "reduction_factor"), path + ("eta",) if "eta" in terminate else path + ("type",))
        self.origin(("pruner", "min_early_stopping_rate"), path + ("type",))
        self.note(
            ("pruner",),
            f"W&B hyperband: at epochs {min_resource}, {min_resource * eta}, {min_resource * eta * eta}, ... keep the "
            f"trials in the top 1/{eta} of every trial seen there (one bracket of asynchronous successive halving); "
            "W&B's iterations are the times the metric was logged, rigorml reports the objective once per epoch",
        )

    def max_iter_bands(self, terminate: dict, path: tuple, eta: int) -> int | None:
        """W&B's bands for ``max_iter``/``s``: int(max_iter / eta^i) for i = 1..s while at least 1."""
        if "s" not in terminate:
            self.error(path, "SPC002", "W&B hyperband with `max_iter` needs `s` (how many bands below max_iter), as in W&B", on_key=True)
            return None
        max_iter, s = terminate["max_iter"], terminate["s"]
        bands = []
        band = float(max_iter)
        for _ in range(s):
            band /= eta
            if band < 1:
                break
            bands.append(int(band))
        bands.sort()
        if not bands:
            self.error(path + ("max_iter",), "SPC004", f"max_iter {max_iter} / eta {eta} is below 1: W&B makes no band either", "raise max_iter or lower eta")
            return None
        first = bands[0]
        rungs = [first * eta**k for k in range(len(bands))]
        if "min_iter" in terminate:
            self.warn(
                path + ("min_iter",),
                "W&B reads `max_iter` and `s` when both forms are given, and ignores `min_iter`; so does rigorml",
                "remove `min_iter` or `max_iter`",
                on_key=True,
            )
        same = rungs == bands
        schedule = (
            f"the same epochs {', '.join(map(str, bands))}"
            if same
            else f"epochs {', '.join(map(str, rungs))} (W&B: {', '.join(map(str, bands))}, max_iter / eta^i rounded down)"
        )
        self.warn(
            path + ("max_iter",),
            f"W&B decides at epochs {', '.join(map(str, bands))} and stops deciding after {bands[-1]} (max_iter / eta); "
            f"rigorml's successive halving (min_resource {first}, reduction_factor {eta}) decides at {schedule}, then "
            f"keeps deciding at {rungs[-1] * eta}, {rungs[-1] * eta * eta}, ... while a trial trains",
            f"use `min_iter: {first}` to say so, or set training.epochs to at most {rungs[-1] * eta - 1} to make them agree",
            converted=("pruner", "min_resource"),
            on_key=True,
        )
        return first

    def names(self, section: dict, out: dict) -> None:
        if "name" in section and "study_name" in section:
            self.error(("study_name",), "SPC004", "set the study's name once: W&B `name` or rigorml `study_name`", on_key=True)
            return
        for key in ("name", "study_name"):
            if key in section:
                value = section[key]
                if not isinstance(value, str) or not value:
                    self.error((key,), "SPC003", f"`{key}` should be a name, got {_kind(value)}")
                    return
                out["study_name"] = value
                self.origin(("study_name",), (key,), verbatim=True)
                if key == "name":
                    self.note(("study_name",), "W&B `name`: the Optuna study's name (resuming finds the study by it)")
        if "description" in section:
            self.note((), "W&B description: " + str(section["description"]))


_PARAMETER_BUILDERS = {
    "constant": _Converter.constant,
    "categorical": _Converter.categorical,
    "categorical_w_probabilities": _Converter.categorical,
    "int_uniform": _Converter.int_uniform,
    "uniform": _Converter.uniform,
    "q_uniform": _Converter.q_uniform,
    "log_uniform": _Converter.log_uniform,
    "log_uniform_values": _Converter.log_uniform_values,
    "q_log_uniform": _Converter.q_log_uniform,
    "q_log_uniform_values": _Converter.q_log_uniform_values,
    "inv_log_uniform": _Converter.inv_log_uniform,
    "inv_log_uniform_values": _Converter.inv_log_uniform_values,
    "normal": _Converter.normal,
    "q_normal": _Converter.q_normal,
    "log_normal": _Converter.log_normal,
    "q_log_normal": _Converter.q_log_normal,
    "beta": _Converter.beta,
    "q_beta": _Converter.q_beta,
}


def _finite(parameter: dict) -> bool:
    """Whether rigorml's grid sampler can enumerate a converted parameter."""
    kind = parameter.get("distribution")
    return kind in (None, "categorical", "constant", "int") or (kind == "uniform" and parameter.get("step") is not None)


def _grid_size(parameter: dict) -> int:
    """How many values a grid-searchable converted parameter takes."""
    if "values" in parameter:
        return len(parameter["values"])
    kind = parameter.get("distribution")
    if kind == "int":
        return (parameter["high"] - parameter["low"]) // parameter.get("step", 1) + 1
    if kind == "uniform" and parameter.get("step") is not None:
        span = (_decimal(parameter["high"]) - _decimal(parameter["low"])) / _decimal(parameter["step"])
        return int(span.to_integral_value(rounding=ROUND_FLOOR)) + 1
    return 1


def _flow(value: Any) -> str:
    """A compact YAML-ish rendering of a W&B value for notes: ``{distribution: uniform, min: 0, max: 1}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_./\-]*", value) else repr(value)
    return repr(value)
