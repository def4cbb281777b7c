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

    format: Literal["rigorml"] = Field("rigorml", description="Spec dialect of this section.")
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
        None, description="Optuna storage URL; default: SQLite under the run directory. PostgreSQL for many machines."
    )
    workers: int = Field(1, ge=1, description="Parallel worker processes.")
    final_validation: FinalValidation = Field(default_factory=FinalValidation, description="Multi-seed held-out validation of the best config.")
