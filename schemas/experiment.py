"""What is being studied: the experiment's identity, its seeds, its data and its model."""


from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from . import checks
from .base import Name, StrictModel, unique_list

Task = Literal["classification", "detection", "generation", "language_modeling", "regression", "ranking"]
TaskTrait = Literal[
    "binary",
    "multiclass",
    "multilabel",
    "imbalanced",
    "skewed",
    "coarse_localization",
    "extractive",
    "abstractive",
    "open_ended",
    "outlier_sensitive",
    "interpretable",
    "first_hit_only",
    "top_k",
    "rag",
]


class Experiment(StrictModel):
    """Who the experiment is and what task it studies. Names flow into run names and tracking."""

    name: Name = Field(description="Short unique name; used in run names, directories and tracking.", examples=["digits-mlp"])
    project: Name | None = Field(None, description="Tracking project; defaults to the experiment name.")
    group: str | None = Field(
        None,
        description="Group for related runs (variants, seeds, sweep trials) in the tracker; defaults to the experiment name.",
    )
    tags: unique_list(str) = Field(default_factory=list, description="Free-form tags attached to every run.")
    description: str = Field("", description="What question this experiment answers, in a sentence or two.")
    task: Task = Field(description="The kind of task; decides which metrics make sense and which the linter recommends.")
    traits: unique_list(TaskTrait) = Field(
        default_factory=list,
        description=(
            "Properties of the task that change the right metric: `imbalanced` (prefer AUC-ROC), "
            "`binary`+`skewed` (prefer MCC), `coarse_localization` (mAP@0.5), `extractive` (ROUGE), "
            "`first_hit_only` (MRR), `top_k` (precision@k)."
        ),
    )

    _traits_fit_task = model_validator(mode="after")(checks.traits_fit_task)


class Seeds(StrictModel):
    """Per-component seeds (change the data split without re-initialising the model) and replicates.

    Each replicate seed re-derives the data, model and train seeds, so every variant runs once per
    replicate and variants share seeds (the pairing the statistics rely on).
    """

    global_: int = Field(42, alias="global", ge=0, description="Seeds Python, NumPy and torch before anything else.")
    data: int = Field(100, ge=0, description="Seeds the data split, shuffling and augmentation.")
    model: int = Field(200, ge=0, description="Seeds weight initialisation.")
    train: int = Field(300, ge=0, description="Seeds dropout and sampling during training.")
    replicates: Annotated[unique_list(int) | int, AfterValidator(checks.replicates)] = Field(
        5,
        validate_default=True,
        description=(
            "Replicate seeds: a count n (seeds 0..n-1) or an explicit list. Every variant runs once per "
            "replicate. 5-10 give reliable comparisons; 3 is insufficient."
        ),
        examples=[5, [0, 1, 2, 3, 4]],
    )


class Splits(StrictModel):
    """Fractions of the data for each split; they must sum to 1."""

    train: float = Field(0.7, gt=0, lt=1, description="Fraction used for training.")
    val: float = Field(0.15, ge=0, lt=1, description="Fraction used for validation (early stopping, tuning).")
    test: float = Field(0.15, ge=0, lt=1, description="Held-out fraction; used only for the final evaluation.")

    _sum_to_one = model_validator(mode="after")(checks.splits_sum_to_one)


class Loader(StrictModel):
    """DataLoader settings. With ``num_workers > 0`` the runtime seeds every worker (``worker_init_fn``)."""

    batch_size: int = Field(64, ge=1, description="Examples per batch (before gradient accumulation).")
    eval_batch_size: int | None = Field(None, ge=1, description="Batch size for evaluation; defaults to batch_size.")
    num_workers: int = Field(0, ge=0, description="Worker processes; >0 adds OS-scheduling non-determinism unless workers are seeded.")
    shuffle: bool = Field(True, description="Shuffle the training split each epoch (seeded by the data seed).")
    drop_last: bool = Field(False, description="Drop the last incomplete training batch.")
    pin_memory: Literal["auto"] | bool = Field("auto", description="Pin host memory; `auto` pins when CUDA is used.")


class Data(StrictModel):
    """Where the data comes from, how it is split, and how it is versioned and loaded."""

    source: Annotated[str, AfterValidator(checks.data_source)] = Field(
        description="`builtin:NAME` (digits, breast_cancer, wine, iris, diabetes), `module.path:function`, or a CSV/Parquet path (relative to the spec).",
        examples=["builtin:digits", "mypackage.data:load", "data/train.parquet"],
    )
    target: str | None = Field(None, description="Target column for CSV/Parquet sources.")
    features: unique_list(str) | None = Field(None, description="Feature columns for CSV/Parquet sources; default: all but the target.")
    splits: Splits = Field(default_factory=Splits, description="Split fractions.")
    split_column: str | None = Field(None, description="Use a column of predefined split names (train/val/test) instead of fractions.")
    split_seed: int | None = Field(None, ge=0, description="Seed of the split; defaults to `seeds.data`.")
    stratify: bool | None = Field(
        None, description="Stratify the split by the target; default: true for classification, false otherwise."
    )
    version: str = Field("auto", description="Data version; `auto` is the content hash of the loaded data.")
    loader: Loader = Field(default_factory=Loader, description="DataLoader settings.")
    params: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments passed to a `module:function` source.")


class Model(StrictModel):
    """The model factory and its parameters."""

    source: Annotated[str, AfterValidator(checks.model_source)] = Field(
        description="`builtin:NAME` (logreg, mlp, linear) or `module.path:function` returning a torch.nn.Module.",
        examples=["builtin:mlp", "mypackage.models:build"],
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Keyword arguments of the factory, e.g. `hidden_sizes: [128]`, `dropout: 0.1`.",
    )
