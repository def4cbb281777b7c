"""Every value check of the spec model, as plain functions (no pydantic import).

The models in this package wire these functions in (``AfterValidator``, ``model_validator``); the
compiled validator used on the pre-commit path (:mod:`.compiled`) calls the very same functions
without importing pydantic. So a check is written once, here, and both paths agree by construction.

Model-level checks receive the validated object and read it by attribute only; they raise
``ValueError`` with a message a user can act on, and return the object unchanged.
"""

import math
import re
import string

from .vocabulary import BUILTIN_DATASETS, BUILTIN_MODELS, TASK_TRAITS

# --- field checks -------------------------------------------------------------------------------

# Patterns are compiled on first use (re caches them): most specs never need the unicode-aware one.
_CALLABLE_REF = r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
_FILE_SOURCE = r"(?i)\.(csv|tsv|parquet|pq)$"
_STORAGE_SCHEMES = (
    "sqlite:///",
    "postgresql://",
    "postgresql+psycopg2://",
    "postgresql+psycopg://",
    "mysql://",
    "mysql+pymysql://",
    "journal:",
)

#: Placeholders a run-name template may use.
RUN_NAME_FIELDS = ("experiment", "variant", "seed", "trial")


def callable_ref(value: str) -> str:
    """``package.module:function``; raises ValueError otherwise."""
    if not re.fullmatch(_CALLABLE_REF, value):  # fullmatch: `$` would accept a trailing newline
        raise ValueError(
            f"{value!r} is not a `module.path:function` reference "
            "(a dotted module path, a colon, then the function's name)"
        )
    return value


def name(value: str) -> str:
    """A name used in paths and run names: letters, digits, ``_``, ``-``, ``.``."""
    if not re.fullmatch(_NAME, value):
        raise ValueError(
            f"{value!r} is not a valid name: use letters, digits, '_', '-' and '.', starting with a letter or digit"
        )
    return value


def unique(values: list) -> list:
    """Items must not repeat (a repeated seed or tag is always a mistake)."""
    seen: set = set()
    for value in values:
        key = repr(value)
        if key in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(key)
    return values


def _source(value: str, builtins, what: str) -> str:
    if value.startswith("builtin:"):
        builtin = value.removeprefix("builtin:")
        if builtin not in builtins:
            import difflib  # only on the error path

            close = difflib.get_close_matches(builtin, list(builtins), n=1)
            hint = f"; did you mean 'builtin:{close[0]}'?" if close else ""
            raise ValueError(f"unknown builtin {what} {builtin!r}{hint} (builtins: {', '.join(builtins)})")
        return value
    if ":" in value and not re.search(_FILE_SOURCE, value):
        return callable_ref(value)
    if what == "dataset" and re.search(_FILE_SOURCE, value):
        return value
    kinds = "`builtin:NAME`, `module.path:function`" + (" or a path to a .csv/.parquet file" if what == "dataset" else "")
    raise ValueError(f"{value!r} is not a {what} source; use {kinds}")


def data_source(value: str) -> str:
    """``builtin:NAME``, ``module.path:function`` or a CSV/Parquet path."""
    return _source(value, BUILTIN_DATASETS, "dataset")


def model_source(value: str) -> str:
    """``builtin:NAME`` or ``module.path:function``."""
    return _source(value, BUILTIN_MODELS, "model")


def replicates(value):
    """A count n becomes the seeds 0..n-1; a list must be non-empty and non-negative."""
    if isinstance(value, int):
        if value < 1:
            raise ValueError("at least one replicate is needed")
        return list(range(value))
    if not value:
        raise ValueError("at least one replicate seed is needed")
    if any(seed < 0 for seed in value):
        raise ValueError("replicate seeds must be non-negative")
    return value


def run_name_template(value: str) -> str:
    """Only known placeholders: {experiment}, {variant}, {seed}, {trial}."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
    except ValueError as exc:
        raise ValueError(f"run_name is not a valid template: {exc}") from None
    for field in fields:
        if field not in RUN_NAME_FIELDS:
            import difflib  # only on the error path

            close = difflib.get_close_matches(field, RUN_NAME_FIELDS, n=1)
            hint = f"; did you mean {{{close[0]}}}?" if close else ""
            raise ValueError(
                f"unknown placeholder {{{field}}} in run_name{hint} (placeholders: "
                + ", ".join("{" + f + "}" for f in RUN_NAME_FIELDS)
                + ")"
            )
    return value


def storage_url(value):
    """An Optuna storage URL rigorml knows how to open."""
    if value is not None and not value.startswith(_STORAGE_SCHEMES):
        raise ValueError(f"unsupported storage {value!r}; use sqlite:///PATH, postgresql://..., mysql://... or journal:PATH")
    return value


def distinct_values(values: list) -> list:
    if len({repr(v) for v in values}) != len(values):
        raise ValueError("categorical values must be distinct")
    return values


def increasing_fractions(steps):
    if steps is not None:
        if not steps or any(not 0 < s <= 1 for s in steps) or steps != sorted(set(steps)):
            raise ValueError("canary_steps must be strictly increasing fractions in (0, 1]")
    return steps


def finite(value):
    if value is not None and not math.isfinite(value):
        raise ValueError("must be finite")
    return value


# --- model checks ------------------------------------------------------------------------------


class FieldError(ValueError):
    """A model-level check's error that concerns one field: the validator points at that field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field



def traits_fit_task(experiment):
    allowed = TASK_TRAITS[experiment.task]
    wrong = [t for t in experiment.traits if t not in allowed]
    if wrong:
        raise FieldError(
            "traits",
            f"trait(s) {', '.join(map(repr, wrong))} do not apply to task {experiment.task!r}; "
            f"its traits are: {', '.join(allowed) or '(none)'}"
        )
    return experiment


def splits_sum_to_one(splits):
    total = splits.train + splits.val + splits.test
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"split fractions must sum to 1, they sum to {total:g}")
    return splits


def betas_in_range(optimizer):
    if not all(0.0 <= b < 1.0 for b in optimizer.betas):
        raise FieldError("betas", f"betas must each be in [0, 1), got {list(optimizer.betas)}")
    return optimizer


def nesterov_needs_momentum(optimizer):
    if optimizer.nesterov and optimizer.momentum == 0:
        raise FieldError("nesterov", "nesterov needs momentum > 0")
    return optimizer


def scheduler_settings(scheduler):
    if scheduler.name == "step" and scheduler.step_size is None:
        raise FieldError("name", "the `step` scheduler needs `step_size`")
    return scheduler


def training_has_a_length(training):
    if training.epochs is None and training.max_steps is None:
        raise ValueError("set `epochs` or `max_steps` (training needs a length)")
    return training


def range_ordered(parameter):
    if not parameter.low < parameter.high:
        raise FieldError("high", f"`low` ({parameter.low}) must be below `high` ({parameter.high})")
    return parameter


def distribution_tag(value):
    """Which sweep distribution a parameter mapping is: explicit, or implied by `values`/`value`."""
    if isinstance(value, dict):
        if "distribution" in value:
            return value["distribution"]
        if "values" in value:
            return "categorical"
        if "value" in value:
            return "constant"
        return None
    return getattr(value, "distribution", None)


def comparison_coherent(comparison):
    if comparison.treatment == comparison.control:
        raise FieldError("control", f"a comparison needs two different arms; both are {comparison.treatment!r}")
    if comparison.test == "mcnemar" and not comparison.paired:
        raise FieldError("paired", "McNemar's test is a paired test (same examples, two classifiers); set `paired: true`")
    return comparison


def one_judge(judge):
    if (judge.callable is None) == (judge.command is None):
        raise ValueError("set exactly one of `callable` (module:function) or `command` (argv list)")
    if judge.mode == "absolute" and judge.scale is None:
        raise FieldError("mode", "`absolute` mode needs `scale`, e.g. [1, 5]")
    if judge.scale is not None and not judge.scale[0] < judge.scale[1]:
        raise FieldError("scale", "`scale` must be [low, high] with low < high")
    return judge


def canary_only_for_canary(deployment):
    if deployment.canary_steps is not None and deployment.strategy != "canary":
        raise FieldError("canary_steps", "canary_steps only apply to the `canary` strategy")
    return deployment


# --- default factories (named, so the compiled validator can refer to them) -------------------


def default_optimizer() -> dict:
    return {"name": "adamw"}


def default_pruner() -> dict:
    return {"type": "hyperband"}


def default_stages() -> list:
    return ["ingestion", "validation", "training", "evaluation"]


def default_registry_stages() -> list:
    return ["dev", "staging", "production"]


def default_registry_metadata() -> list:
    return ["metrics", "config", "data_version", "git_hash", "training_duration"]
