"""Hyperparameter search: an Optuna study described by the spec.

Parameters are keyed by the dotted path of the spec value they set (``training.optimizer.lr``), so a
sweep can tune anything a variant can override, and validation proves every path exists.
"""


from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from . import checks
from .base import StrictModel


class _Parameter(StrictModel):
    when: dict[str, list[Any]] | None = Field(
        None,
        description=(
            "Conditional parameter: sampled only when every named categorical sweep parameter takes one of "
            "the listed values, e.g. `{training.optimizer.name: [adam, adamw]}` for Adam betas."
        ),
    )


class _Range(_Parameter):
    _ordered = model_validator(mode="after")(checks.range_ordered)


class LogUniform(_Range):
    """A float sampled uniformly in log space: the right prior for learning rates and weight decay."""

    distribution: Literal["log_uniform"] = Field(description="Log-uniform float.")
    low: float = Field(gt=0, description="Smallest value (> 0).")
    high: float = Field(gt=0, description="Largest value.")


class Uniform(_Range):
    """A float sampled uniformly, optionally on a grid of ``step``."""

    distribution: Literal["uniform"] = Field(description="Uniform float.")
    low: float = Field(description="Smallest value.")
    high: float = Field(description="Largest value.")
    step: float | None = Field(None, gt=0, description="Discretisation step.")


class IntUniform(_Range):
    """An integer in [low, high] on a grid of ``step`` (use step = head count for hidden sizes)."""

    distribution: Literal["int"] = Field(description="Uniform integer.")
    low: int = Field(description="Smallest value.")
    high: int = Field(description="Largest value.")
    step: int = Field(1, ge=1, description="Values are low, low+step, ... (align hidden dims to the head count).")


class IntLogUniform(_Range):
    """An integer sampled uniformly in log space."""

    distribution: Literal["int_log"] = Field(description="Log-uniform integer.")
    low: int = Field(ge=1, description="Smallest value (>= 1).")
    high: int = Field(description="Largest value.")


class Categorical(_Parameter):
    """One of a list of values (batch sizes as powers of two, optimiser names, layer counts...)."""

    distribution: Literal["categorical"] = Field("categorical", description="Categorical (the default when `values` is given).")
    values: Annotated[list[Any], AfterValidator(checks.distinct_values)] = Field(min_length=1, description="The choices.")


class Constant(_Parameter):
    """A fixed value, recorded with the study for completeness."""

    distribution: Literal["constant"] = Field("constant", description="Constant (the default when `value` is given).")
    value: Any = Field(description="The value.")


Parameter = Annotated[
    Union[
        Annotated[LogUniform, Tag("log_uniform")],
        Annotated[Uniform, Tag("uniform")],
        Annotated[IntUniform, Tag("int")],
        Annotated[IntLogUniform, Tag("int_log")],
        Annotated[Categorical, Tag("categorical")],
        Annotated[Constant, Tag("constant")],
    ],
    Discriminator(
        checks.distribution_tag,
        custom_error_type="missing_distribution",
        custom_error_message="a sweep parameter needs `distribution` (log_uniform, uniform, int, int_log, categorical, constant), or `values: [...]`, or `value: x`",
    ),
]


class Sampler(StrictModel):
    """Sampler options (TPE defaults follow the domain document: 10 startup trials, multivariate)."""

    n_startup_trials: int = Field(10, ge=0, description="Random trials before TPE starts modelling.")
    multivariate: bool = Field(True, description="Model parameter interactions (TPE).")
    group: bool = Field(True, description="Handle conditional spaces by grouping (TPE, needs multivariate).")
    constant_liar: bool = Field(False, description="Avoid duplicate suggestions across parallel workers (TPE).")
    seed: int | None = Field(None, ge=0, description="Sampler seed; defaults to `seeds.global`.")


class HyperbandPruner(StrictModel):
    """Hyperband: successive halving over several brackets."""

    type: Literal["hyperband"] = Field(description="Hyperband.")
    min_resource: int = Field(1, ge=1, description="Epochs a trial gets before its first pruning decision.")
    max_resource: Literal["auto"] | int = Field("auto", description="Maximum epochs; `auto` uses training.epochs.")
    reduction_factor: int = Field(3, ge=2, description="Keep 1/reduction_factor of trials at each rung.")


class SuccessiveHalvingPruner(StrictModel):
    """Successive halving / ASHA (asynchronous successive halving)."""

    type: Literal["successive_halving", "asha"] = Field(description="Successive halving (ASHA when workers run in parallel).")
    min_resource: Literal["auto"] | int = Field(10, description="Grace period: epochs before the first decision.")
    reduction_factor: int = Field(3, ge=2, description="Keep 1/reduction_factor of trials at each rung.")
    min_early_stopping_rate: int = Field(0, ge=0, description="Shifts the rungs upwards.")


class MedianPruner(StrictModel):
    """Prune a trial whose intermediate value is worse than the median of earlier trials at that step."""

    type: Literal["median"] = Field(description="Median stopping rule.")
    n_startup_trials: int = Field(5, ge=0, description="Trials that are never pruned.")
    n_warmup_steps: int = Field(0, ge=0, description="Epochs before pruning starts within a trial.")
    interval_steps: int = Field(1, ge=1, description="Epochs between pruning checks.")


class NoPruner(StrictModel):
    """No pruning (every trial runs to the end; wastes compute)."""

    type: Literal["none"] = Field(description="No pruning.")


Pruner = Annotated[
    Union[HyperbandPruner, SuccessiveHalvingPruner, MedianPruner, NoPruner],
    Field(discriminator="type"),
]


class Objective(StrictModel):
    """The metric the search optimises."""

    metric: str = Field("val/loss", description="A metric logged on the validation split, `{split}/{metric}`.")
    direction: Literal["minimize", "maximize"] = Field("minimize", description="Whether smaller or larger is better.")


class FinalValidation(StrictModel):
    """Re-run the best configuration over fresh replicate seeds on the held-out split."""

    enabled: bool = Field(True, description="Run the final validation after the search.")
    seeds: int = Field(5, ge=1, description="Replicate seeds for the final configuration (5 or more).")
    split: Literal["train", "val", "test"] = Field("test", description="Split to report on (never the one used for tuning).")


class Sweep(StrictModel):
    """Hyperparameter search with Optuna."""

    format: Literal["rigorml"] = Field(
        "rigorml",
        description=(
            "Dialect of this section: `rigorml` (this form). A section with `format: wandb` is a W&B sweep "
            "configuration, converted to this form when the spec is loaded (docs/wandb-sweeps.md)."
        ),
    )
    method: Literal["tpe", "random", "grid", "cmaes", "bayes"] = Field(
        "tpe", description="Sampler: TPE (default; `bayes` is an alias for W&B users), random, grid, CMA-ES."
    )
    n_trials: int = Field(20, ge=1, description="Trial budget.")
    timeout_minutes: Annotated[float | None, AfterValidator(checks.finite)] = Field(None, gt=0, description="Stop starting trials after this many minutes.")
    objective: Objective = Field(default_factory=Objective, description="What to optimise.")
    parameters: dict[str, Parameter] = Field(
        min_length=1,
        description=(
            "Search space keyed by the dotted spec path each parameter sets, e.g. `training.optimizer.lr`. "
            "A categorical `flag.NAME` sets nothing itself and exists for `when` conditions, e.g. "
            "`flag.use_weight_decay: {values: [true, false]}` to switch weight decay on and off."
        ),
    )
    sampler: Sampler = Field(default_factory=Sampler, description="Sampler options.")
    pruner: Pruner = Field(
        default_factory=checks.default_pruner,
        validate_default=True,
        description="Pruner: hyperband (default), successive_halving/asha, median, none.",
    )
    study_name: str | None = Field(None, description="Study name; fixed (default: the experiment name) so resumes find it.")
    storage: Annotated[str | None, AfterValidator(checks.storage_url)] = Field(
        None, description=(
            "Optuna storage URL; default: SQLite in the sweep directory for one worker, Optuna's journal file for "
            "several on one machine. `postgresql://...` for workers on many machines, `journal:PATH` for a chosen file."
        )
    )
    workers: int = Field(1, ge=1, description="Parallel worker processes.")
    final_validation: FinalValidation = Field(default_factory=FinalValidation, description="Multi-seed held-out validation of the best config.")


# --- the W&B dialect ------------------------------------------------------------------------------
#
# `sweep: {format: wandb, ...}` is a W&B sweep configuration. It never reaches `Sweep`: the loader
# converts it first (rigorml.schemas.wandb_sweep, which checks its keys and values without pydantic).
# These models describe its shape for the editors' JSON Schema only (`sweep` is `Sweep` or
# `WandbSweep` there); a test keeps their keys equal to the converter's.

WandbDistribution = Literal[
    "constant",
    "categorical",
    "categorical_w_probabilities",
    "int_uniform",
    "uniform",
    "q_uniform",
    "log_uniform",
    "log_uniform_values",
    "q_log_uniform",
    "q_log_uniform_values",
    "inv_log_uniform",
    "inv_log_uniform_values",
    "normal",
    "q_normal",
    "log_normal",
    "q_log_normal",
    "beta",
    "q_beta",
]


class WandbParameter(StrictModel):
    """A W&B sweep parameter: `values`, `value`, a distribution with its settings, or nested `parameters`."""

    distribution: WandbDistribution | None = Field(
        None,
        description=(
            "W&B distribution; when left out, W&B's inference: `values` -> categorical, `value` -> constant, "
            "integer `min`/`max` -> int_uniform, other `min`/`max` -> uniform. `log_uniform` takes natural-log "
            "exponents (searches exp(min)..exp(max)); `log_uniform_values` takes the values."
        ),
    )
    values: list[Any] | None = Field(None, description="The choices (categorical).")
    value: Any = Field(None, description="A constant.")
    probabilities: list[float] | None = Field(
        None, description="W&B's weight of each value; Optuna samples values equally often (warning HPO016)."
    )
    min: float | None = Field(None, description="Lower bound (an exponent for log_uniform, q_log_uniform, inv_log_uniform).")
    max: float | None = Field(None, description="Upper bound (an exponent for log_uniform, q_log_uniform, inv_log_uniform).")
    mu: float | None = Field(None, description="Mean of a (log-)normal prior (default 0); searched as mu +- 2 sigma (warning HPO016).")
    sigma: float | None = Field(None, description="Standard deviation of a (log-)normal prior (default 1).")
    q: float | None = Field(None, description="Quantisation step of a `q_` distribution (default 1): W&B returns round(X / q) * q.")
    a: float | None = Field(None, description="Beta prior's alpha (default 1); searched uniformly on [0, 1].")
    b: float | None = Field(None, description="Beta prior's beta (default 1); searched uniformly on [0, 1].")
    parameters: "dict[str, WandbParameter] | None" = Field(
        None, description="Nested parameters; `training: {parameters: {epochs: ...}}` sets `training.epochs`."
    )


class WandbMetric(StrictModel):
    """The metric a W&B sweep optimises."""

    name: str = Field(description="Metric name, `{split}/{metric}` (`val/loss`); `val_loss`-style names are read as `val/loss`.")
    goal: Literal["minimize", "maximize"] = Field("minimize", description="Whether smaller or larger is better.")
    target: float | None = Field(None, description="W&B stops starting runs once a run reaches it; not used by rigorml.")
    impute: Literal["latest", "best", "worst"] | None = Field(None, description="W&B's score for failed runs; not used by rigorml.")
    impute_while_running: Literal["latest", "best", "worst", "false"] | None = Field(
        None, description="W&B's score for running runs; not used by rigorml."
    )


class WandbEarlyTerminate(StrictModel):
    """W&B's hyperband early termination; runs as rigorml's `asha` pruner (one bracket of successive halving)."""

    type: Literal["hyperband"] = Field(description="W&B's early termination: hyperband.")
    min_iter: int | None = Field(None, ge=1, description="First band (epochs); bands at min_iter * eta^k.")
    max_iter: int | None = Field(None, ge=1, description="Last iteration; with `s`, bands at max_iter / eta^i for i = s..1.")
    s: int | None = Field(None, ge=1, description="Number of bands below `max_iter`.")
    eta: float = Field(3, gt=1, description="Keep the top 1/eta of runs at each band (a whole number for Optuna).")
    strict: bool | None = Field(None, description="W&B's stricter comparison; Optuna compares the value reported at the rung.")


class WandbSweep(StrictModel):
    """A W&B sweep configuration, converted to rigorml's sweep section when the spec is loaded (docs/wandb-sweeps.md)."""

    format: Literal["wandb"] = Field(description="This section is a W&B sweep configuration.")
    method: Literal["grid", "random", "bayes"] = Field(description="Search strategy; `bayes` runs as TPE.")
    metric: WandbMetric | None = Field(None, description="The metric to optimise (`bayes` and early termination need it).")
    parameters: dict[str, WandbParameter] = Field(
        min_length=1, description="Search space, keyed by dotted spec path (`training.optimizer.lr`) or nested."
    )
    early_terminate: WandbEarlyTerminate | None = Field(None, description="Early termination; none: every trial runs to the end.")
    run_cap: int | None = Field(None, ge=1, description="Most runs: rigorml's `n_trials`.")
    name: str | None = Field(None, description="Sweep name: rigorml's `study_name`.")
    description: str | None = Field(None, description="Text description (not part of the study).")
    program: str | None = Field(None, description="W&B's training script; not used: trials train the spec's model.")
    command: list[Any] | None = Field(None, description="W&B's command line; not used: trials train the spec's model.")
    project: str | None = Field(None, description="W&B project; not used: trials are tracked by `tracking`.")
    entity: str | None = Field(None, description="W&B entity; not used (WANDB_ENTITY chooses it for the W&B backend).")
    controller: dict[str, Any] | None = Field(None, description="W&B agent setting; not used.")
    job: str | None = Field(None, description="W&B Launch job; not used.")
    image_uri: str | None = Field(None, description="W&B Launch image; not used.")
    apiVersion: str | None = Field(None, description="W&B configuration version; not used.")
    kind: str | None = Field(None, description="W&B configuration kind; not used.")
    sampler: Sampler | None = Field(None, description="rigorml sampler options (W&B has none).")
    storage: Annotated[str | None, AfterValidator(checks.storage_url)] = Field(None, description="rigorml: Optuna storage URL.")
    workers: int | None = Field(None, ge=1, description="rigorml: parallel worker processes.")
    final_validation: FinalValidation | None = Field(None, description="rigorml: multi-seed held-out validation of the best config.")
    timeout_minutes: float | None = Field(None, gt=0, description="rigorml: stop starting trials after this many minutes.")
    study_name: str | None = Field(None, description="rigorml: study name (instead of W&B `name`).")
